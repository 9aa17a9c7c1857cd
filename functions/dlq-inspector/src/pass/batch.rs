//! The DLQ's batch calls: deleting what was re-sent or purged, and making every held
//! message visible again at the end of the pass. Each entry's result is checked.

use std::time::Duration;

use futures::StreamExt;
use guardian::dlq::message::DlqMessage;
use guardian::dlq::reserve::RELEASE_CONCURRENCY;
use guardian_aws::error::AwsCallError;
use guardian_aws::sqs::{BatchEntry, BatchEntryFailure, MAX_BATCH};

use super::Pass;
use crate::ports::{Ports, Queues};

/// Batch entries for `values` (receipt handles or bodies), their ids the positions.
pub(super) fn entries<'v>(values: impl Iterator<Item = &'v str>) -> Vec<BatchEntry> {
    values
        .enumerate()
        .map(|(i, value)| BatchEntry {
            id: i.to_string(),
            value: value.to_string(),
        })
        .collect()
}

/// The failure SQS reported for the entry at `position`, if any.
pub(super) fn failure_of(
    failures: &[BatchEntryFailure],
    position: usize,
) -> Option<&BatchEntryFailure> {
    let id = position.to_string();
    failures.iter().find(|f| f.id == id)
}

impl<P: Ports> Pass<'_, P> {
    /// One `DeleteMessageBatch`; every message paired with whether its delete succeeded.
    pub(super) async fn delete(
        &self,
        messages: Vec<DlqMessage>,
    ) -> Vec<(DlqMessage, Result<(), String>)> {
        if messages.is_empty() {
            return Vec::new();
        }
        let entries = entries(messages.iter().map(|m| m.receipt_handle.as_str()));
        let dlq_url = &self.ports.config().dlq_url;
        let delete = self.ports.sqs().delete_batch(dlq_url, &entries);
        let failures = match self
            .deadline
            .call(self.margin, "DeleteMessageBatch", delete)
            .await
        {
            Ok(failures) => failures,
            Err(e) => {
                let error = e.to_string();
                return messages
                    .into_iter()
                    .map(|m| (m, Err(error.clone())))
                    .collect();
            }
        };
        messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let result = match failure_of(&failures, i) {
                    Some(f) => Err(format!(
                        "DeleteMessageBatch entry: {}: {}",
                        f.code, f.message
                    )),
                    None => Ok(()),
                };
                (m, result)
            })
            .collect()
    }

    /// Makes every held message visible again (visibility 0), a few batches at a time.
    pub(super) async fn release(&mut self) {
        let held = std::mem::take(&mut self.held);
        let (deadline, ports) = (self.deadline, self.ports);
        let dlq_url = &ports.config().dlq_url;
        // The margin exists for this and the report: use most of it, keep a sliver.
        let margin = self.margin / 4;
        let results: Vec<(usize, Result<usize, AwsCallError>)> =
            futures::stream::iter(held.chunks(MAX_BATCH).map(|chunk| {
                let entries = entries(chunk.iter().map(String::as_str));
                async move {
                    let reset =
                        ports
                            .sqs()
                            .change_visibility_batch(dlq_url, &entries, Duration::ZERO);
                    let failed = deadline
                        .call(margin, "ChangeMessageVisibilityBatch", reset)
                        .await
                        .map(|failures| failures.len());
                    (entries.len(), failed)
                }
            }))
            .buffer_unordered(RELEASE_CONCURRENCY)
            .collect()
            .await;
        for (size, failed) in results {
            let failed = match failed {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "visibility reset failed; those messages reappear when their visibility timeout ends");
                    size
                }
            };
            self.released += (size - failed) as u64;
            self.release_failed += failed as u64;
        }
    }
}
