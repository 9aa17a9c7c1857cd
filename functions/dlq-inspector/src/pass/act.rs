//! What happens to a received batch: selected messages are purged or re-sent, the rest are
//! held. Every message lands in exactly one count of the outcome, and every one not deleted
//! is held, to be made visible again at the end.

use guardian::dlq::message::DlqMessage;
use guardian::dlq::request::{Action, Destination};
use guardian::dlq::select::Verdict;
use guardian::dlq::streak::AfterBatch;

use super::Pass;
use super::resend::Resent;
use crate::ports::Ports;

impl<P: Ports> Pass<'_, P> {
    pub(super) async fn act_on(&mut self, batch: Vec<DlqMessage>, now: u64) {
        let mut selected = Vec::with_capacity(batch.len());
        for m in batch {
            match self.request.selection.verdict(&m, now) {
                Verdict::Selected => selected.push(m),
                Verdict::NotSelected => {
                    self.outcome.not_selected += 1;
                    self.hold(m);
                }
                Verdict::Stale => {
                    self.outcome.stale += 1;
                    self.hold(m);
                }
            }
        }
        if selected.is_empty() {
            return;
        }
        if self.request.dry_run {
            self.outcome.dry_run_selected += selected.len() as u64;
            return self.hold_all(selected);
        }
        match self.request.action {
            Action::Purge => self.purge(selected).await,
            _ => self.redrive(selected).await,
        }
    }

    async fn purge(&mut self, selected: Vec<DlqMessage>) {
        for (m, deleted) in self.delete(selected).await {
            match deleted {
                Ok(()) => self.outcome.purged += 1,
                Err(e) => {
                    tracing::warn!(message_id = %m.message_id, error = %e, "purge delete failed; message stays in the DLQ");
                    self.outcome.delete_failed += 1;
                    self.hold(m);
                }
            }
        }
    }

    /// Re-sends, then deletes from the DLQ exactly what got through.
    async fn redrive(&mut self, selected: Vec<DlqMessage>) {
        let results = match self.request.to {
            Destination::Function => self.invoke_each(selected).await,
            Destination::Queue => self.send_to_queue(selected).await,
        };
        let mut sent = Vec::new();
        let mut last_failure = None;
        let mut failed = 0;
        for r in results {
            match r {
                Resent::Sent(m) => sent.push(m),
                Resent::Failed(m, e) => {
                    tracing::warn!(message_id = %m.message_id, error = %e, "re-send failed; message stays in the DLQ");
                    self.outcome.resend_failed += 1;
                    failed += 1;
                    last_failure = Some(e);
                    self.hold(m);
                }
                Resent::NotAttempted(m) => {
                    self.outcome.not_attempted += 1;
                    self.hold(m);
                }
            }
        }
        let after = self.streak.after(sent.len(), failed);
        for (m, deleted) in self.delete(sent).await {
            match deleted {
                Ok(()) => self.outcome.redriven += 1,
                Err(e) => {
                    tracing::warn!(message_id = %m.message_id, error = %e, "delete after re-send failed: duplicate");
                    self.outcome.note_duplicate(&m.message_id);
                    self.hold(m);
                }
            }
        }
        match after {
            AfterBatch::Continue => {}
            AfterBatch::StopFailing => self.stop(format!(
                "every re-send in two batches in a row failed (last: {}); the rest stays in the DLQ",
                last_failure.unwrap_or_default()
            )),
            AfterBatch::StopOutOfTime => self.stop(format!(
                "stopped before the Lambda deadline after examining {} message(s); run again to continue",
                self.tally.examined
            )),
        }
    }
}
