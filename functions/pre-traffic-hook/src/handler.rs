//! What Lambda runs: parse the event, then decide, report, publish and answer.

use guardian::hook::event::HookEvent;
use guardian_aws::invocation::Started;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::app::App;
use crate::checks::examine;
use crate::error::HookError;
use crate::observe::Invocation;
use crate::verdict_flow::conclude;

pub async fn handler(app: &App, event: LambdaEvent<Value>) -> Result<Value, HookError> {
    let (payload, context) = event.into_parts();
    let started = Started::now(&context);
    let invocation = Invocation {
        request_id: Some(started.request_id),
        started: started.at,
    };
    let ids = HookEvent::parse(payload)
        .map_err(HookError::from)
        .inspect_err(|e| invocation.rejected(app.config.phase, e))?;
    let deadline = started.deadline;
    conclude(
        app,
        &ids,
        invocation,
        deadline,
        examine(app, &ids, deadline),
    )
    .await
}
