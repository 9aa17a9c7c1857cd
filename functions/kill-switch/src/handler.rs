//! What Lambda runs: parse the request, then stop, resume or report the status.

use guardian::killswitch::request::{self, Action, Parsed};
use guardian_aws::deadline::Deadline;
use guardian_aws::invocation::invocation;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

use crate::app::App;
use crate::error::KillSwitchError;
use crate::guarded::Guarded;
use crate::observe::{self, Observed};
use crate::ports::Ports;
use crate::{resume, status, stop};

pub(crate) async fn handle<P: Ports>(
    ports: &P,
    payload: &Value,
    deadline: Deadline,
    observed: &mut Observed,
) -> Result<Value, KillSwitchError> {
    let req = match request::parse(payload, &ports.config().guarded) {
        Ok(Parsed::Act(req)) => req,
        Ok(Parsed::Ignore(why)) => {
            tracing::info!(%why, "event ignored");
            observed.ignored = Some(why.to_string());
            return Ok(json!({"action": "none", "ignored": why}));
        }
        Err(e) => {
            tracing::warn!(error = %e, "request rejected");
            return Err(e.into());
        }
    };
    tracing::info!(
        action = req.action.as_str(),
        function = %req.function,
        by = %req.requested_by,
        "kill switch invoked"
    );
    observed.request = Some(req.clone());
    let f = Guarded {
        lambda: ports.lambda(),
        name: &req.function,
        deadline,
    };
    let outcome = match req.action {
        Action::Stop => stop::stop(ports, &f, &req).await?,
        Action::Resume => resume::resume(ports, &f, &req).await?,
        Action::Status => status::status(&f).await?,
    };
    tracing::info!(
        action = req.action.as_str(),
        state = outcome.state(),
        failed = outcome.failed.len(),
        "kill switch done"
    );
    let answer = outcome.to_json();
    observed.outcome = Some(outcome);
    Ok(answer)
}

pub async fn handler(app: &App, event: LambdaEvent<Value>) -> Result<Value, KillSwitchError> {
    invocation(app, event, handle, observe::record).await
}
