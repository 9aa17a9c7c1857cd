//! Kill switch (DESIGN §5): stop trading in one invoke, resume exactly as it was.
//!
//! `{"action": "stop"|"resume"|"status", "reason", "requested_by", "function"?}`, or a
//! CloudWatch alarm event entering ALARM (auto-halt, a `stop`). The decisions live in
//! `guardian::killswitch`; this crate does the AWS calls in the order they require.

mod app;
mod config;
mod error;
mod guarded;
mod outcome;
mod resume;
mod side_effects;
mod stop;

pub use app::App;
pub use config::{Config, DeploymentGroup};
pub use error::KillSwitchError;

use guardian::deadline::Deadline;
use guardian::killswitch::request::{self, Action, Parsed};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

use crate::guarded::Guarded;
use crate::outcome::Outcome;

pub async fn handler(app: &App, event: LambdaEvent<Value>) -> Result<Value, KillSwitchError> {
    let deadline = Deadline::from_context(&event.context);
    let req = match request::parse(&event.payload, &app.config.guarded) {
        Ok(Parsed::Act(req)) => req,
        Ok(Parsed::Ignore(why)) => {
            tracing::info!(%why, "event ignored");
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
    Ok(outcome.to_json())
}
