//! The kill switch's decision line and its EMF state metric (`KillSwitchStopped`: 1
//! stopped, 0 running; left out when the state could not be read back).

use std::time::Instant;

use guardian::killswitch::outcome::Outcome;
use guardian::killswitch::request::Request;
use guardian_aws::decision::{Decision, elapsed_ms, function::KILL_SWITCH};
use guardian_aws::metrics::Metrics;
use serde_json::Value;

use crate::error::KillSwitchError;

/// What the invocation got to.
#[derive(Debug, Default)]
pub struct Observed {
    pub request: Option<Request>,
    /// Why an event was ignored.
    pub ignored: Option<String>,
    pub outcome: Option<Outcome>,
}

/// The decision: `rejected`, `ignored`, `error`, or the state the function was left in
/// (`stopped`, `running`, `unknown`).
pub fn verdict(
    observed: &Observed,
    result: &Result<Value, KillSwitchError>,
) -> (&'static str, Option<String>) {
    if let Err(e) = result {
        let verdict = match e {
            KillSwitchError::Request(_) => "rejected",
            _ => "error",
        };
        return (verdict, Some(e.to_string()));
    }
    if let Some(why) = &observed.ignored {
        return ("ignored", Some(why.clone()));
    }
    let Some(outcome) = &observed.outcome else {
        return ("unknown", None);
    };
    let mut reason: Vec<String> = observed
        .request
        .as_ref()
        .and_then(|r| r.reason.clone())
        .into_iter()
        .collect();
    if !outcome.failed.is_empty() {
        let steps: Vec<&str> = outcome.failed.iter().map(|f| f.step.as_str()).collect();
        reason.push(format!("failed steps: {}", steps.join(", ")));
    }
    (
        outcome.state(),
        (!reason.is_empty()).then(|| reason.join("; ")),
    )
}

pub fn record(
    request_id: &str,
    started: Instant,
    observed: &Observed,
    result: &Result<Value, KillSwitchError>,
) {
    let (verdict, reason) = verdict(observed, result);
    let request = observed.request.as_ref();
    let failed_steps = observed
        .outcome
        .as_ref()
        .is_some_and(|o| !o.failed.is_empty());
    Decision {
        function: KILL_SWITCH,
        request_id: Some(request_id),
        target_function: request.map(|r| r.function.as_str()),
        kill_switch_action: request.map(|r| r.action.as_str()),
        verdict,
        reason: reason.as_deref(),
        duration_ms: Some(elapsed_ms(started)),
        // Stopping or resuming trading is always worth an operator's eye, as is any failure.
        needs_attention: result.is_err()
            || failed_steps
            || matches!(request.map(|r| r.action.as_str()), Some("stop" | "resume")),
        ..Decision::default()
    }
    .log();
    let mut metrics = Metrics::new(KILL_SWITCH).with_cold_start();
    match verdict {
        "stopped" => metrics = metrics.count("KillSwitchStopped", 1),
        "running" => metrics = metrics.count("KillSwitchStopped", 0),
        _ => {}
    }
    metrics.emit();
}
