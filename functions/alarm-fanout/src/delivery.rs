//! Delivering rendered alerts: `PublishBatch` per topic in groups of at most 10, every entry
//! checked, and only what failed retried (with backoff, within the Lambda deadline), so
//! nothing that already went out is published twice by this invocation.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use guardian::fanout::batching::{payload_bytes, plan};
use guardian::publication::Publication;
use guardian_aws::deadline::Deadline;
use guardian_aws::sns::Sns;

/// One publication bound for one topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub topic: String,
    pub publication: Publication,
}

/// How hard to try before giving up on a publication.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Rounds of `PublishBatch` calls (the first try included); each SDK call also retries
    /// transient errors itself.
    pub rounds: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Batch calls in flight at once.
    pub concurrency: usize,
    /// Time kept free before the Lambda deadline to return the result.
    pub deadline_margin: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            rounds: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(3),
            concurrency: 4,
            deadline_margin: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, round: u32) -> Duration {
        let factor = 2u32.saturating_pow(round.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// A publication that did not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undelivered {
    /// Index into the `outgoing` slice.
    pub index: usize,
    pub topic: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryReport {
    pub published: usize,
    pub batch_calls: usize,
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

pub async fn deliver(
    sns: &Sns,
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
                (
                    sent,
                    send_batch(sns, outgoing, topic, indices, deadline, policy).await,
                )
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

/// Pending publications grouped per topic (first-seen topic order), then into batches.
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

async fn send_batch(
    sns: &Sns,
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
    let result = deadline
        .bound(policy.deadline_margin, sns.publish_batch(topic, &entries))
        .await;
    match result {
        Err(reached) => BatchOutcome {
            retry: with_error(&indices, &reached.to_string()),
            ..BatchOutcome::default()
        },
        Ok(Err(call)) => {
            tracing::warn!(topic, entries = indices.len(), error = %call, "PublishBatch call failed");
            BatchOutcome {
                retry: with_error(&indices, &call.to_string()),
                ..BatchOutcome::default()
            }
        }
        Ok(Ok(rejected)) => {
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
    }
}

fn with_error(indices: &[usize], error: &str) -> Vec<(usize, String)> {
    indices.iter().map(|&i| (i, error.to_string())).collect()
}
