//! Kill switch (DESIGN §5): stop trading in one invoke, resume exactly as it was.
//!
//! `{"action": "stop"|"resume"|"status", "reason", "requested_by", "function"?}`, or a
//! CloudWatch alarm event entering ALARM (auto-halt, a `stop`). The decisions live in
//! `guardian::killswitch`; this crate does the AWS calls in the order they require.

mod app;
mod config;
mod error;
mod guarded;
mod observe;
mod outcome;
mod resume;
mod side_effects;
mod stop;

pub use app::App;
pub use config::{Config, DeploymentGroup};
pub use error::KillSwitchError;

use guardian::killswitch::request::{self, Action, Parsed};
use guardian_aws::deadline::Deadline;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

use crate::guarded::Guarded;
use crate::observe::Observed;
use crate::outcome::Outcome;

pub async fn handler(app: &App, event: LambdaEvent<Value>) -> Result<Value, KillSwitchError> {
    let started = std::time::Instant::now();
    let mut observed = Observed::default();
    // Boxed: the nested async state machines are otherwise too deep for the compiler's
    // layout query.
    let result = Box::pin(handle(app, &event, &mut observed)).await;
    observe::record(&event.context.request_id, started, &observed, &result);
    result
}

async fn handle(
    app: &App,
    event: &LambdaEvent<Value>,
    observed: &mut Observed,
) -> Result<Value, KillSwitchError> {
    let deadline = Deadline::from_context(&event.context);
    let req = match request::parse(&event.payload, &app.config.guarded) {
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
        lambda: &app.lambda,
        name: &req.function,
        deadline,
    };
    let outcome = match req.action {
        Action::Stop => stop::stop(app, &f, &req).await?,
        Action::Resume => resume::resume(app, &f, &req).await?,
        Action::Status => {
            let mut outcome = Outcome::new("status", &req.function);
            outcome.seen = Some(f.snapshot().await?);
            outcome
        }
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
