//! What happened to each alert of an invocation (published, failed or held back) and the
//! per-severity counts the metrics report, from what delivery left undelivered.

use std::collections::BTreeMap;

use super::outgoing::Outgoing;
use super::routing::Routing;
use super::{Alert, Severity, Source};

/// A publication that did not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undelivered {
    /// Index into the outgoing publications.
    pub index: usize,
    pub topic: String,
    pub error: String,
}

/// An alert's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertVerdict {
    Published,
    /// At least one of its publications (topic or chat) did not go out.
    Failed,
    /// An OK not forwarded (FORWARD_OK).
    HeldBack,
}

impl AlertVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertVerdict::Published => "published",
            AlertVerdict::Failed => "failed",
            AlertVerdict::HeldBack => "held_back",
        }
    }
}

/// What happened to one alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertOutcome {
    pub alarm: String,
    pub severity: Severity,
    pub unparsed: bool,
    pub verdict: AlertVerdict,
    pub reason: Option<String>,
}

/// Per-severity counts for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    pub published: u64,
    pub failed: u64,
    pub unparsed: u64,
}

/// One outcome per alert: the forwarded ones (whose publications are `outgoing`) in order,
/// then the held-back ones.
pub fn outcomes(
    routing: &Routing,
    forwarded: &[Alert],
    held_back: &[Alert],
    outgoing: &[Outgoing],
    undelivered: &[Undelivered],
) -> Vec<AlertOutcome> {
    let mut out = Vec::with_capacity(forwarded.len() + held_back.len());
    for (i, alert) in forwarded.iter().enumerate() {
        let failure = undelivered
            .iter()
            .find(|u| outgoing.get(u.index).map(|o| o.alert) == Some(i));
        let mut notes = alert.actions_taken.clone();
        if let Some(f) = failure {
            notes.push(format!("not delivered to {}: {}", f.topic, f.error));
        }
        out.push(AlertOutcome {
            alarm: alert.name.clone(),
            severity: routing.severity(alert),
            unparsed: alert.source == Source::Unparsed,
            verdict: if failure.is_some() {
                AlertVerdict::Failed
            } else {
                AlertVerdict::Published
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
            verdict: AlertVerdict::HeldBack,
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
            AlertVerdict::Published => c.published += 1,
            AlertVerdict::Failed => c.failed += 1,
            AlertVerdict::HeldBack => {}
        }
        c.unparsed += u64::from(o.unparsed);
    }
    by_severity
}

#[cfg(test)]
mod tests;
