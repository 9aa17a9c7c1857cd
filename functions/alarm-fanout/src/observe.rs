//! The fan-out's decision lines (one per alert: published, failed or held back) and its EMF
//! metrics (alerts published / failed / unparsed per severity). What happened to each alert
//! is the core's count (`guardian::fanout::outcome`).

use std::time::Instant;

use guardian::fanout::outcome::{AlertOutcome, AlertVerdict, counts};
use guardian_aws::decision::{Decision, elapsed_ms, function::ALARM_FANOUT};
use guardian_aws::metrics::Metrics;

/// Logs one decision line per alert and emits the metrics.
pub(crate) fn record(request_id: &str, started: Instant, outcomes: &[AlertOutcome]) {
    let duration_ms = elapsed_ms(started);
    for o in outcomes {
        Decision {
            function: ALARM_FANOUT,
            request_id: Some(request_id),
            alarm: Some(&o.alarm),
            severity: Some(o.severity.as_str()),
            verdict: o.verdict.as_str(),
            reason: o.reason.as_deref(),
            duration_ms: Some(duration_ms),
            needs_attention: o.verdict == AlertVerdict::Failed,
            ..Decision::default()
        }
        .log();
    }
    Metrics::new(ALARM_FANOUT)
        .with_cold_start()
        .count("AlertsReceived", outcomes.len() as u64)
        .emit();
    for (severity, c) in counts(outcomes) {
        Metrics::new(ALARM_FANOUT)
            .dimension("Severity", severity.as_str())
            .count("AlertsPublished", c.published)
            .count("AlertsFailed", c.failed)
            .count("AlertsUnparsed", c.unparsed)
            .emit();
    }
}
