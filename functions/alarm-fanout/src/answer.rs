//! What an invocation returns: the summary, or the error that makes Lambda retry the event
//! when the kill switch was not reached or a publication did not go out.

use serde_json::{Value, json};

use crate::delivery::DeliveryReport;
use crate::error::FanoutError;
use crate::halt::Halts;

/// The sizes of the invocation, for the summary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counts {
    pub alerts: usize,
    pub forwarded: usize,
    /// Outgoing publications (an alert has one per topic it goes to).
    pub publications: usize,
}

/// A failed halt comes first: it is the more urgent thing for the operator to read.
pub(crate) fn answer(
    counts: Counts,
    halts: Halts,
    report: DeliveryReport,
) -> Result<Value, FanoutError> {
    if let Some(failure) = halts.failure {
        return Err(FanoutError::HaltFailed {
            function: failure.function,
            alarm: failure.alarm,
            unpublished: report.undelivered.len(),
            source: failure.source,
        });
    }
    if let Some(first) = report.undelivered.first() {
        return Err(FanoutError::PublishFailed {
            failed: report.undelivered.len(),
            total: counts.publications,
            topic: first.topic.clone(),
            error: first.error.clone(),
        });
    }
    Ok(json!({
        "alerts": counts.alerts,
        "forwarded": counts.forwarded,
        "held_back": counts.alerts - counts.forwarded,
        "published": report.published,
        "batch_calls": report.batch_calls,
        "halts_requested": halts.requested,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::halt::HaltFailure;
    use guardian::fanout::outcome::Undelivered;
    use guardian_aws::error::AwsCallError;

    const COUNTS: Counts = Counts {
        alerts: 3,
        forwarded: 2,
        publications: 4,
    };

    fn report(undelivered: &[(usize, &str)]) -> DeliveryReport {
        DeliveryReport {
            published: 4 - undelivered.len(),
            batch_calls: 2,
            undelivered: undelivered
                .iter()
                .map(|&(index, topic)| Undelivered {
                    index,
                    topic: topic.into(),
                    error: "InternalError".into(),
                })
                .collect(),
        }
    }

    fn halt_failed() -> Halts {
        Halts {
            requested: 1,
            failure: Some(HaltFailure {
                function: "kill-switch".into(),
                alarm: "trading-errors".into(),
                source: AwsCallError {
                    operation: "Invoke",
                    code: Some("AccessDeniedException".into()),
                    message: "no".into(),
                },
            }),
        }
    }

    #[test]
    fn all_delivered_is_a_summary() {
        let ok = answer(COUNTS, Halts::default(), report(&[])).unwrap();
        assert_eq!(
            ok,
            json!({"alerts": 3, "forwarded": 2, "held_back": 1, "published": 4,
                   "batch_calls": 2, "halts_requested": 0})
        );
    }

    /// Nothing dropped: a publication that did not go out fails the invocation.
    #[test]
    fn an_undelivered_publication_fails_the_invocation() {
        let err = answer(COUNTS, Halts::default(), report(&[(1, "chat"), (3, "b")])).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err,
                FanoutError::PublishFailed {
                    failed: 2,
                    total: 4,
                    ..
                }
            ),
            "{text}"
        );
        assert!(text.contains("topic chat: InternalError"), "{text}");
    }

    #[test]
    fn a_failed_halt_is_the_error_and_counts_what_was_not_published() {
        let err = answer(COUNTS, halt_failed(), report(&[(2, "a")])).unwrap_err();
        assert!(
            matches!(err, FanoutError::HaltFailed { unpublished: 1, .. }),
            "{err}"
        );
    }
}
