//! Delivering rendered alerts: `PublishBatch` per topic in groups of at most 10, every entry
//! checked, and only what failed retried (with backoff, within the Lambda deadline), so
//! nothing that already went out is published twice by this invocation.

use std::collections::BTreeMap;

use futures::StreamExt;
use guardian::fanout::batching::{payload_bytes, plan};
use guardian::fanout::outcome::Undelivered;
use guardian::fanout::outgoing::Outgoing;
use guardian::publication::Publication;
use guardian_aws::deadline::Deadline;

use crate::config::RetryPolicy;
use crate::ports::Publisher;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DeliveryReport {
    /// Publications that went out, each exactly once.
    pub published: usize,
    pub batch_calls: usize,
    /// The others, in `outgoing` order, with the last reason each failed.
    pub undelivered: Vec<Undelivered>,
}

/// What one batch call left undone.
#[derive(Default)]
struct BatchOutcome {
    /// Entries to try again, with why they failed.
    retry: Vec<(usize, String)>,
    /// Entries SNS refused as malformed (sender fault): resending them unchanged cannot
    /// succeed, so they are reported instead of retried.
    refused: Vec<(usize, String)>,
}

/// Publishes every publication in `outgoing`; each one either went out once or is in the
/// report's `undelivered`.
pub(crate) async fn deliver<P: Publisher>(
    publisher: &P,
    outgoing: &[Outgoing],
    deadline: &Deadline,
    policy: &RetryPolicy,
) -> DeliveryReport {
    let mut report = DeliveryReport::default();
    let mut pending: Vec<(usize, String)> =
        (0..outgoing.len()).map(|i| (i, String::new())).collect();
    let mut refused: Vec<(usize, String)> = Vec::new();
    for round in 0..policy.rounds.max(1) {
        if pending.is_empty() {
            break;
        }
        if round > 0 {
            let pause = policy.backoff(round);
            if deadline.remaining_before(policy.deadline_margin) <= pause {
                break;
            }
            tokio::time::sleep(pause).await;
            tracing::warn!(
                round,
                retrying = pending.len(),
                "retrying publications that failed"
            );
        }
        let batches = batches(outgoing, pending.iter().map(|(i, _)| *i));
        report.batch_calls += batches.len();
        let outcomes: Vec<(usize, BatchOutcome)> = futures::stream::iter(batches)
            .map(|(topic, indices)| async move {
                let sent = indices.len();
                let outcome = send_batch(publisher, outgoing, topic, indices, deadline, policy);
                (sent, outcome.await)
            })
            .buffer_unordered(policy.concurrency.max(1))
            .collect()
            .await;
        pending.clear();
        for (sent, outcome) in outcomes {
            report.published += sent.saturating_sub(outcome.retry.len() + outcome.refused.len());
            pending.extend(outcome.retry);
            refused.extend(outcome.refused);
        }
    }
    report.undelivered = pending
        .into_iter()
        .chain(refused)
        .map(|(index, error)| Undelivered {
            index,
            topic: outgoing[index].topic.clone(),
            error,
        })
        .collect();
    report.undelivered.sort_by_key(|u| u.index);
    report
}

/// Pending publications grouped per topic (in topic order), then into batches.
fn batches(outgoing: &[Outgoing], pending: impl Iterator<Item = usize>) -> Vec<(&str, Vec<usize>)> {
    let mut by_topic: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for i in pending {
        by_topic
            .entry(outgoing[i].topic.as_str())
            .or_default()
            .push(i);
    }
    by_topic
        .into_iter()
        .flat_map(|(topic, indices)| {
            let sizes: Vec<usize> = indices
                .iter()
                .map(|&i| payload_bytes(&outgoing[i].publication))
                .collect();
            plan(&sizes)
                .into_iter()
                .map(|group| (topic, group.into_iter().map(|g| indices[g]).collect()))
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn send_batch<P: Publisher>(
    publisher: &P,
    outgoing: &[Outgoing],
    topic: &str,
    indices: Vec<usize>,
    deadline: &Deadline,
    policy: &RetryPolicy,
) -> BatchOutcome {
    // Entry ids are the publications' indices: unique in the batch, and they map SNS's
    // per-entry verdicts back to exactly the publications that need another try.
    let entries: Vec<(String, Publication)> = indices
        .iter()
        .map(|&i| (i.to_string(), outgoing[i].publication.clone()))
        .collect();
    let call = publisher.publish_batch(topic, &entries);
    let rejected = match deadline
        .call(policy.deadline_margin, "PublishBatch", call)
        .await
    {
        Ok(rejected) => rejected,
        Err(e) => {
            tracing::warn!(topic, entries = indices.len(), error = %e, "PublishBatch call failed");
            return BatchOutcome {
                retry: with_error(&indices, &e.to_string()),
                ..BatchOutcome::default()
            };
        }
    };
    let mut outcome = BatchOutcome::default();
    for entry in rejected {
        let Some(index) = entry
            .id
            .parse::<usize>()
            .ok()
            .filter(|i| indices.contains(i))
        else {
            continue;
        };
        tracing::warn!(topic, index, code = %entry.code, sender_fault = entry.sender_fault, "PublishBatch entry rejected");
        let why = format!(
            "PublishBatch entry rejected: {}: {}",
            entry.code, entry.message
        );
        if entry.sender_fault {
            outcome.refused.push((index, why));
        } else {
            outcome.retry.push((index, why));
        }
    }
    outcome
}

fn with_error(indices: &[usize], error: &str) -> Vec<(usize, String)> {
    indices.iter().map(|&i| (i, error.to_string())).collect()
}

#[cfg(test)]
mod tests;
