//! The fan-out's decision lines (one per alert: published, failed or held back) and its EMF
//! metrics (alerts published / failed / unparsed per severity), from what `deliver` did.

use std::collections::BTreeMap;
use std::time::Instant;

use guardian::fanout::routing::Routing;
use guardian::fanout::{Alert, Severity, Source};
use guardian_aws::decision::{Decision, elapsed_ms, function::ALARM_FANOUT};
use guardian_aws::metrics::Metrics;

use crate::delivery::DeliveryReport;

/// What happened to one alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertOutcome {
    pub alarm: String,
    pub severity: Severity,
    pub unparsed: bool,
    /// `published`, `failed` or `held_back`.
    pub verdict: &'static str,
    pub reason: Option<String>,
}

/// Per-severity counts for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    pub published: u64,
    pub failed: u64,
    pub unparsed: u64,
}

/// Every alert's outcome. `owners[i]` is the index in `forwarded` of outgoing publication
/// `i`; an alert failed when any of its publications (topic or chat) did not go out.
pub fn outcomes(
    routing: &Routing,
    forwarded: &[Alert],
    held_back: &[Alert],
    owners: &[usize],
    report: &DeliveryReport,
) -> Vec<AlertOutcome> {
    let mut out = Vec::with_capacity(forwarded.len() + held_back.len());
    for (i, alert) in forwarded.iter().enumerate() {
        let failure = report
            .undelivered
            .iter()
            .find(|u| owners.get(u.index) == Some(&i));
        let mut notes = alert.actions_taken.clone();
        if let Some(f) = failure {
            notes.push(format!("not delivered to {}: {}", f.topic, f.error));
        }
        out.push(AlertOutcome {
            alarm: alert.name.clone(),
            severity: routing.severity(alert),
            unparsed: alert.source == Source::Unparsed,
            verdict: if failure.is_some() {
                "failed"
            } else {
                "published"
            },
            reason: (!notes.is_empty()).then(|| notes.join("; ")),
        });
    }
    for alert in held_back {
        let mut notes = vec![format!(
            "{} held back: the previous state was not ALARM (FORWARD_OK)",
            alert.state
        )];
        notes.extend(alert.actions_taken.iter().cloned());
        out.push(AlertOutcome {
            alarm: alert.name.clone(),
            severity: routing.severity(alert),
            unparsed: alert.source == Source::Unparsed,
            verdict: "held_back",
            reason: Some(notes.join("; ")),
        });
    }
    out
}

pub fn counts(outcomes: &[AlertOutcome]) -> BTreeMap<Severity, SeverityCounts> {
    let mut by_severity: BTreeMap<Severity, SeverityCounts> = BTreeMap::new();
    for o in outcomes {
        let c = by_severity.entry(o.severity).or_default();
        match o.verdict {
            "published" => c.published += 1,
            "failed" => c.failed += 1,
            _ => {}
        }
        c.unparsed += u64::from(o.unparsed);
    }
    by_severity
}

/// Logs one decision line per alert and emits the metrics.
pub fn record(request_id: &str, started: Instant, outcomes: &[AlertOutcome]) {
    let duration_ms = elapsed_ms(started);
    for o in outcomes {
        Decision {
            function: ALARM_FANOUT,
            request_id: Some(request_id),
            alarm: Some(&o.alarm),
            severity: Some(o.severity.as_str()),
            verdict: o.verdict,
            reason: o.reason.as_deref(),
            duration_ms: Some(duration_ms),
            needs_attention: o.verdict == "failed",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::Undelivered;
    use guardian::fanout::routing::SeverityRule;

    fn alert(name: &str, source: Source) -> Alert {
        Alert {
            name: name.into(),
            source,
            state: "ALARM".into(),
            ..Alert::default()
        }
    }

    #[test]
    fn an_alert_fails_when_any_of_its_publications_failed() {
        let rules: Vec<SeverityRule> =
            serde_json::from_str(r#"[{"pattern":"trading-*","severity":"critical"}]"#).unwrap();
        let routing = Routing::new(&rules, Severity::Warning);
        let forwarded = vec![
            alert("trading-errors", Source::Cloudwatch),
            alert("unparsed", Source::Unparsed),
        ];
        let held_back = vec![alert("trading-latency", Source::Cloudwatch)];
        // Alert 0 went to its topic and chat; alert 1's chat copy failed.
        let owners = [0, 0, 1, 1];
        let report = DeliveryReport {
            published: 3,
            batch_calls: 2,
            undelivered: vec![Undelivered {
                index: 3,
                topic: "chat".into(),
                error: "InternalError".into(),
            }],
        };
        let got = outcomes(&routing, &forwarded, &held_back, &owners, &report);
        let verdicts: Vec<(&str, &str)> =
            got.iter().map(|o| (o.alarm.as_str(), o.verdict)).collect();
        assert_eq!(
            verdicts,
            [
                ("trading-errors", "published"),
                ("unparsed", "failed"),
                ("trading-latency", "held_back")
            ]
        );
        let counts = counts(&got);
        assert_eq!(
            counts[&Severity::Critical],
            SeverityCounts {
                published: 1,
                failed: 0,
                unparsed: 0
            }
        );
        assert_eq!(
            counts[&Severity::Warning],
            SeverityCounts {
                published: 0,
                failed: 1,
                unparsed: 1
            }
        );
        assert!(got[1].reason.as_deref().unwrap().contains("chat"));
    }
}
