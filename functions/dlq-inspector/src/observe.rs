//! The inspector's decision line and EMF metrics: depth and oldest age on every run that
//! read the queue, and what a redrive or purge did (dimension `Action`).

use std::time::Instant;

use guardian::dlq::report::Report;
use guardian::dlq::request::Action;
use guardian_aws::decision::{Decision, elapsed_ms, function::DLQ_INSPECTOR};
use guardian_aws::metrics::{Metrics, Unit};

use crate::DlqError;

pub fn action_label(action: Action) -> &'static str {
    match action {
        Action::Inspect => "inspect",
        Action::Redrive => "redrive",
        Action::Purge => "purge",
    }
}

/// What the invocation got to: the action once the request parsed, the report once the
/// queue was read.
#[derive(Debug, Default)]
pub struct Observed {
    pub action: Option<Action>,
    pub report: Option<Report>,
}

/// The decision: `rejected` (bad request, nothing touched), `error`, `stopped_early` (the
/// rest stays in the DLQ for the next run) or `complete`.
pub fn verdict(
    observed: &Observed,
    result: &Result<serde_json::Value, DlqError>,
) -> (&'static str, Option<String>) {
    match (result, &observed.report) {
        (Err(DlqError::Request(e)), _) => ("rejected", Some(e.to_string())),
        (Err(e), _) => ("error", Some(error_chain(e))),
        (Ok(_), Some(r)) if !r.complete => ("stopped_early", r.stopped_early.clone()),
        (Ok(_), _) => ("complete", None),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

pub fn record(
    request_id: &str,
    started: Instant,
    observed: &Observed,
    result: &Result<serde_json::Value, DlqError>,
) {
    let (verdict, reason) = verdict(observed, result);
    let action = observed.action.map(action_label);
    Decision {
        function: DLQ_INSPECTOR,
        request_id: Some(request_id),
        dlq_action: action,
        verdict,
        reason: reason.as_deref(),
        duration_ms: Some(elapsed_ms(started)),
        needs_attention: verdict != "complete",
        ..Decision::default()
    }
    .log();
    let mut queue = Metrics::new(DLQ_INSPECTOR).with_cold_start();
    if let Some(r) = &observed.report {
        queue = queue.count("DlqDepth", r.depth.visible);
        if let Some(age) = r.oldest_age_seconds {
            queue = queue.value("DlqOldestMessageAge", age as f64, Unit::Seconds);
        }
    }
    queue.emit();
    let Some((action, outcome)) = observed
        .report
        .as_ref()
        .and_then(|r| r.outcome.as_ref().map(|o| (action_label(r.action), o)))
    else {
        return;
    };
    Metrics::new(DLQ_INSPECTOR)
        .dimension("Action", action)
        .count("DlqRedriven", outcome.redriven)
        .count("DlqPurged", outcome.purged)
        .count("DlqSkippedStale", outcome.stale)
        .count("DlqDuplicates", outcome.duplicates)
        .count("DlqResendFailed", outcome.resend_failed)
        .emit();
}
