//! What Lambda runs: parse the event, then decide, report, publish and answer.

use std::time::Instant;

use guardian::hook::event::HookEvent;
use guardian_aws::deadline::Deadline;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::app::App;
use crate::checks::examine;
use crate::error::HookError;
use crate::observe::Invocation;
use crate::verdict_flow::conclude_invocation;

pub async fn handler(app: &App, event: LambdaEvent<Value>) -> Result<Value, HookError> {
    let started = Instant::now();
    let (payload, context) = event.into_parts();
    let invocation = Invocation {
        request_id: Some(&context.request_id),
        started,
    };
    let ids = HookEvent::parse(payload)
        .map_err(HookError::from)
        .inspect_err(|e| invocation.rejected(app.config.phase, e))?;
    let deadline = Deadline::from_context(&context);
    conclude_invocation(
        app,
        &ids,
        invocation,
        deadline,
        examine(app, &ids, deadline),
    )
    .await
}
