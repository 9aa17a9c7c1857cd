//! The handler when the configuration is unusable (a missing topic, a malformed number): it
//! cannot test or publish, but it still reports Failed, so a deployment never hangs on a
//! hook that cannot start. The invocation then fails loudly with the configuration problem.

use guardian::hook::event::HookEvent;
use guardian_aws::codedeploy::{CodeDeploy, HookStatus, Reported};
use guardian_aws::invocation::Started;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::error::HookError;
use crate::observe::Invocation;
use crate::report::report_once;

pub async fn misconfigured(
    codedeploy: &CodeDeploy,
    problem: &str,
    event: LambdaEvent<Value>,
) -> Result<Value, HookError> {
    let (payload, context) = event.into_parts();
    let started = Started::now(&context);
    let ids = HookEvent::parse(payload)?;
    let reported = report_once(
        codedeploy,
        &ids.deployment_id,
        &ids.execution_id,
        HookStatus::Failed,
        started.deadline,
    )
    .await;
    let outcome = match reported {
        Ok(Reported::Recorded) => "reported Failed".to_string(),
        Ok(Reported::AlreadyCompleted) => "an earlier attempt already reported".to_string(),
        Err(e) => format!("could not report Failed either ({e})"),
    };
    let invocation = Invocation {
        request_id: Some(started.request_id),
        started: started.at,
    };
    invocation.misconfigured(&ids, &format!("misconfigured: {problem}; {outcome}"));
    Err(HookError::Misconfigured {
        problem: problem.to_string(),
        deployment_id: ids.deployment_id,
        outcome,
    })
}
