//! One pass over the dead-letter queue, batch by batch. Every received message ends the
//! run in exactly one place: deleted after a successful re-send (or purge), or still in the
//! DLQ, visible again. Messages left in the DLQ stay invisible until the end of the run so
//! the same pass never sees them twice, then their visibility is reset in batches.

use std::time::Duration;

use futures::StreamExt;
use guardian::dlq::message::{DlqMessage, now_ms};
use guardian::dlq::pacing::Pacer;
use guardian::dlq::report::{Outcome, Report, Tally};
use guardian::dlq::request::{Action, Destination, Request};
use guardian::dlq::select::Verdict;
use guardian_aws::deadline::Deadline;
use guardian_aws::error::AwsCallError;
use guardian_aws::sqs::{BatchEntry, MAX_BATCH};
use std::time::Instant;

use crate::{App, DlqError};

/// How long, past the invocation's own deadline, received messages stay hidden: if the
/// visibility reset at the end fails, they reappear on their own shortly after the run.
const VISIBILITY_SLACK: Duration = Duration::from_secs(10);
/// Long polling asks every SQS server, so an empty receive means an empty queue.
const RECEIVE_WAIT: Duration = Duration::from_secs(1);
/// Visibility-reset batches in flight at once at the end of the run.
const RELEASE_CONCURRENCY: usize = 4;

/// Where one re-send ended.
enum Resent {
    Sent(DlqMessage),
    Failed(DlqMessage, String),
    NotAttempted(DlqMessage),
}

struct Pass<'a> {
    app: &'a App,
    request: &'a Request,
    deadline: Deadline,
    margin: Duration,
    visibility: Duration,
    tally: Tally,
    outcome: Outcome,
    /// Receipt handles of messages that stay in the DLQ, released at the end.
    held: Vec<String>,
    pacer: Pacer,
    stopped_early: Option<String>,
    released: u64,
    release_failed: u64,
    /// Batches in a row in which every re-send failed.
    failed_batches_in_a_row: u32,
    longest_call: Duration,
    longest_batch: Duration,
}

pub async fn run(app: &App, request: &Request, deadline: Deadline) -> Result<Report, DlqError> {
    let config = &app.config;
    let margin = config.deadline_margin;
    let depth = deadline
        .bound(margin, app.sqs.depth(&config.dlq_url))
        .await
        .map_err(DlqError::OutOfTime)?
        .map_err(DlqError::QueueUnreadable)?;
    // Bounded by the depth at the start: messages that arrive during the run (a redriven
    // event failing again, say) wait for the next run instead of looping this one.
    let limit = request
        .max_messages
        .unwrap_or(config.max_messages_limit)
        .min(config.max_messages_limit)
        .min(depth.visible);
    let mut pass = Pass {
        app,
        request,
        deadline,
        margin,
        visibility: deadline.remaining() + VISIBILITY_SLACK,
        tally: Tally::new(config.group_by_pointer.clone(), config.samples),
        outcome: Outcome::default(),
        held: Vec::new(),
        pacer: Pacer::new(request.rate_per_second),
        stopped_early: None,
        released: 0,
        release_failed: 0,
        failed_batches_in_a_row: 0,
        longest_call: Duration::ZERO,
        longest_batch: Duration::ZERO,
    };
    pass.read_up_to(limit).await;
    pass.release().await;

    let destination = (request.action == Action::Redrive).then(|| match request.to {
        Destination::Function => {
            let f = &config.redrive_function;
            match &f.qualifier {
                Some(q) => format!("function:{}:{q}", f.name),
                None => format!("function:{}", f.name),
            }
        }
        Destination::Queue => format!("queue:{}", config.source_queue_url.as_deref().unwrap_or("")),
    });
    Ok(Report {
        action: request.action,
        queue: config.queue_name.clone(),
        dry_run: request.dry_run,
        destination,
        depth,
        examined: pass.tally.examined,
        oldest_age_seconds: pass.tally.oldest_age_seconds,
        aged_from_dlq_arrival: pass.tally.aged_from_dlq_arrival,
        receive_counts: pass.tally.receive_counts.clone(),
        groups: pass.tally.groups(),
        samples: std::mem::take(&mut pass.tally.samples),
        outcome: (request.action != Action::Inspect).then_some(pass.outcome),
        complete: pass.stopped_early.is_none(),
        stopped_early: pass.stopped_early,
        released: pass.released,
        release_failed: pass.release_failed,
        visible_again_within_seconds: pass.visibility.as_secs(),
    })
}

impl Pass<'_> {
    async fn read_up_to(&mut self, limit: u64) {
        let url = &self.app.config.dlq_url;
        while self.tally.examined < limit {
            if self.deadline.is_near(self.reserve()) {
                self.stop(format!(
                    "stopped before the Lambda deadline after examining {} of {limit} message(s); run again to continue",
                    self.tally.examined
                ));
                return;
            }
            let batch_started = Instant::now();
            let want = (limit - self.tally.examined).min(MAX_BATCH as u64) as usize;
            let received = self
                .deadline
                .bound(
                    self.margin,
                    self.app
                        .sqs
                        .receive(url, want, self.visibility, RECEIVE_WAIT),
                )
                .await;
            self.longest_call = self.longest_call.max(batch_started.elapsed());
            let messages = match received {
                Ok(Ok(messages)) => messages,
                Ok(Err(e)) => return self.stop(format!("{e}; the rest stays in the DLQ")),
                Err(e) => return self.stop(format!("ReceiveMessage: {e}")),
            };
            if messages.is_empty() {
                return;
            }
            let now = now_ms();
            let batch: Vec<DlqMessage> = messages.into_iter().map(DlqMessage::from).collect();
            for m in &batch {
                self.tally.observe(m, now, &self.app.config.redactor);
            }
            match self.request.action {
                Action::Inspect => self.hold_all(batch),
                Action::Redrive | Action::Purge => self.act_on(batch, now).await,
            }
            self.longest_batch = self.longest_batch.max(batch_started.elapsed());
            if self.stopped_early.is_some() {
                return;
            }
        }
    }

    /// Time to keep in hand before starting another batch: the margin, room for one more
    /// batch (twice the slowest so far), and the visibility resets still to do.
    fn reserve(&self) -> Duration {
        let release_rounds = self
            .held
            .len()
            .div_ceil(MAX_BATCH)
            .div_ceil(RELEASE_CONCURRENCY) as u32
            + 1;
        self.margin + self.longest_batch * 2 + self.longest_call * release_rounds
    }

    fn stop(&mut self, reason: String) {
        tracing::warn!(%reason, examined = self.tally.examined, "DLQ pass stopped early");
        self.stopped_early.get_or_insert(reason);
    }

    fn hold(&mut self, m: DlqMessage) {
        self.held.push(m.receipt_handle);
    }

    fn hold_all(&mut self, batch: Vec<DlqMessage>) {
        self.held
            .extend(batch.into_iter().map(|m| m.receipt_handle));
    }

    async fn act_on(&mut self, batch: Vec<DlqMessage>, now: u64) {
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

    async fn redrive(&mut self, selected: Vec<DlqMessage>) {
        let results = match self.request.to {
            Destination::Function => self.invoke_each(selected).await,
            Destination::Queue => self.send_to_queue(selected).await,
        };
        let mut sent = Vec::new();
        let mut last_failure = None;
        for r in results {
            match r {
                Resent::Sent(m) => sent.push(m),
                Resent::Failed(m, e) => {
                    tracing::warn!(message_id = %m.message_id, error = %e, "re-send failed; message stays in the DLQ");
                    self.outcome.resend_failed += 1;
                    last_failure = Some(e);
                    self.hold(m);
                }
                Resent::NotAttempted(m) => {
                    self.outcome.not_attempted += 1;
                    self.hold(m);
                }
            }
        }
        let nothing_sent = sent.is_empty();
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
        if !nothing_sent {
            self.failed_batches_in_a_row = 0;
            return;
        }
        match last_failure {
            // Two batches in a row with nothing through: the target is down or throttled
            // (the kill switch, say). Stop rather than hammer it; the rest stays in the DLQ.
            Some(e) => {
                self.failed_batches_in_a_row += 1;
                if self.failed_batches_in_a_row >= 2 {
                    self.stop(format!(
                        "every re-send in two batches in a row failed (last: {e}); the rest stays in the DLQ"
                    ));
                }
            }
            None => self.stop(format!(
                "stopped before the Lambda deadline after examining {} message(s); run again to continue",
                self.tally.examined
            )),
        }
    }

    /// The latest moment a paced re-send may start and still leave the reserve in hand.
    fn last_start(&self) -> Instant {
        Instant::now() + self.deadline.remaining_before(self.reserve())
    }

    /// Async `Invoke` of the function with each original body, concurrently within the
    /// batch (each at its paced slot).
    async fn invoke_each(&mut self, selected: Vec<DlqMessage>) -> Vec<Resent> {
        let function = &self.app.config.redrive_function;
        let last_start = self.last_start();
        let now = Instant::now();
        let slots: Vec<Option<Instant>> =
            selected.iter().map(|_| self.pacer.reserve(now)).collect();
        let (deadline, margin, lambda) = (self.deadline, self.margin, &self.app.lambda);
        let sends = selected.into_iter().zip(slots).map(|(m, slot)| async move {
            if let Some(slot) = slot {
                if slot > last_start {
                    return Resent::NotAttempted(m);
                }
                tokio::time::sleep_until(tokio::time::Instant::from_std(slot)).await;
            }
            let invoked = deadline
                .bound(
                    margin,
                    lambda.invoke_async(
                        &function.name,
                        function.qualifier.as_deref(),
                        m.body.as_bytes(),
                    ),
                )
                .await;
            match invoked {
                Ok(Ok(())) => Resent::Sent(m),
                Ok(Err(e)) => Resent::Failed(m, e.to_string()),
                // Cut off mid-call: Lambda may or may not have queued it; keeping the
                // message is the side that loses nothing.
                Err(e) => Resent::Failed(m, format!("Invoke: {e} (it may have been delivered)")),
            }
        });
        futures::future::join_all(sends).await
    }

    /// One `SendMessageBatch` to the source queue, checking every entry.
    async fn send_to_queue(&mut self, selected: Vec<DlqMessage>) -> Vec<Resent> {
        let Some(queue_url) = self.app.config.source_queue_url.as_deref() else {
            return selected
                .into_iter()
                .map(|m| Resent::Failed(m, "SOURCE_QUEUE_URL is not set".into()))
                .collect();
        };
        let last_start = self.last_start();
        let now = Instant::now();
        let first_slot = self.pacer.reserve(now);
        for _ in 1..selected.len() {
            self.pacer.reserve(now);
        }
        if let Some(slot) = first_slot {
            if slot > last_start {
                return selected.into_iter().map(Resent::NotAttempted).collect();
            }
            tokio::time::sleep_until(tokio::time::Instant::from_std(slot)).await;
        }
        let entries: Vec<BatchEntry> = selected
            .iter()
            .enumerate()
            .map(|(i, m)| BatchEntry {
                id: i.to_string(),
                value: m.body.clone(),
            })
            .collect();
        let sent = self
            .deadline
            .bound(self.margin, self.app.sqs.send_batch(queue_url, &entries))
            .await;
        let failures = match sent {
            Ok(Ok(failures)) => failures,
            Ok(Err(e)) => return all_failed(selected, &e.to_string()),
            Err(e) => {
                return all_failed(
                    selected,
                    &format!("SendMessageBatch: {e} (it may have been delivered)"),
                );
            }
        };
        selected
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let id = i.to_string();
                match failures.iter().find(|f| f.id == id) {
                    Some(f) => Resent::Failed(
                        m,
                        format!("SendMessageBatch entry: {}: {}", f.code, f.message),
                    ),
                    None => Resent::Sent(m),
                }
            })
            .collect()
    }

    /// One `DeleteMessageBatch`; every message paired with whether its delete succeeded.
    async fn delete(&mut self, messages: Vec<DlqMessage>) -> Vec<(DlqMessage, Result<(), String>)> {
        if messages.is_empty() {
            return Vec::new();
        }
        let entries: Vec<BatchEntry> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| BatchEntry {
                id: i.to_string(),
                value: m.receipt_handle.clone(),
            })
            .collect();
        let deleted = self
            .deadline
            .bound(
                self.margin,
                self.app
                    .sqs
                    .delete_batch(&self.app.config.dlq_url, &entries),
            )
            .await;
        let failures = match deleted {
            Ok(Ok(failures)) => failures,
            Ok(Err(e)) => return pair_all(messages, Err(e.to_string())),
            Err(e) => return pair_all(messages, Err(format!("DeleteMessageBatch: {e}"))),
        };
        messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let id = i.to_string();
                let result = match failures.iter().find(|f| f.id == id) {
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
    async fn release(&mut self) {
        let url = &self.app.config.dlq_url;
        let held = std::mem::take(&mut self.held);
        let (deadline, sqs) = (self.deadline, &self.app.sqs);
        // The margin exists for this and the report: use most of it, keep a sliver.
        let margin = self.margin / 4;
        let results: Vec<(usize, Result<usize, AwsCallError>)> =
            futures::stream::iter(held.chunks(MAX_BATCH).map(|chunk| {
                let entries: Vec<BatchEntry> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, handle)| BatchEntry {
                        id: i.to_string(),
                        value: handle.clone(),
                    })
                    .collect();
                async move {
                    let out = deadline
                        .bound(
                            margin,
                            sqs.change_visibility_batch(url, &entries, Duration::ZERO),
                        )
                        .await;
                    let failed = match out {
                        Ok(Ok(failures)) => Ok(failures.len()),
                        Ok(Err(e)) => Err(e),
                        Err(e) => Err(AwsCallError {
                            operation: "ChangeMessageVisibilityBatch",
                            code: None,
                            message: e.to_string(),
                        }),
                    };
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

fn all_failed(messages: Vec<DlqMessage>, error: &str) -> Vec<Resent> {
    messages
        .into_iter()
        .map(|m| Resent::Failed(m, error.to_string()))
        .collect()
}

fn pair_all(
    messages: Vec<DlqMessage>,
    result: Result<(), String>,
) -> Vec<(DlqMessage, Result<(), String>)> {
    messages.into_iter().map(|m| (m, result.clone())).collect()
}
