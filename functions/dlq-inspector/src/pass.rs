//! One pass over the dead-letter queue, batch by batch. Every received message ends the
//! run in exactly one place: deleted after a successful re-send (or purge), or still in the
//! DLQ, visible again. Messages left in the DLQ stay invisible until the end of the run so
//! the same pass never sees them twice, then their visibility is reset in batches.

mod act;
mod batch;
mod resend;

use std::time::{Duration, Instant};

use guardian::dlq::destination;
use guardian::dlq::message::{DlqMessage, now_ms};
use guardian::dlq::pacing::Pacer;
use guardian::dlq::report::{Outcome, Report, Tally};
use guardian::dlq::request::{Action, Request};
use guardian::dlq::reserve::TimeReserve;
use guardian::dlq::streak::FailureStreak;
use guardian::queue::QueueDepth;
use guardian_aws::deadline::{DEADLINE_REACHED, Deadline};
use guardian_aws::sqs::MAX_BATCH;

use crate::error::DlqError;
use crate::ports::{Ports, Queues};

/// How long, past the invocation's own deadline, received messages stay hidden: if the
/// visibility reset at the end fails, they reappear on their own shortly after the run.
const VISIBILITY_SLACK: Duration = Duration::from_secs(10);
/// Long polling asks every SQS server, so an empty receive means an empty queue.
const RECEIVE_WAIT: Duration = Duration::from_secs(1);

struct Pass<'a, P> {
    ports: &'a P,
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
    streak: FailureStreak,
    /// How long calls and batches took, priced as the time to keep in hand.
    timing: TimeReserve,
}

pub async fn run<P: Ports>(
    ports: &P,
    request: &Request,
    deadline: Deadline,
) -> Result<Report, DlqError> {
    let config = ports.config();
    let margin = config.deadline_margin;
    let read = ports.sqs().depth(&config.dlq_url);
    let depth = deadline
        .call(margin, "GetQueueAttributes", read)
        .await
        .map_err(|e| match e.is_code(DEADLINE_REACHED) {
            true => DlqError::OutOfTime(e),
            false => DlqError::QueueUnreadable(e),
        })?;
    // Bounded by the depth at the start: messages that arrive during the run (a redriven
    // event failing again, say) wait for the next run instead of looping this one.
    let limit = request
        .max_messages
        .unwrap_or(config.max_messages_limit)
        .min(config.max_messages_limit)
        .min(depth.visible);
    let mut pass = Pass {
        ports,
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
        streak: FailureStreak::default(),
        timing: TimeReserve::new(margin),
    };
    pass.read_up_to(limit).await;
    pass.release().await;
    Ok(pass.report(depth))
}

impl<P: Ports> Pass<'_, P> {
    async fn read_up_to(&mut self, limit: u64) {
        let config = self.ports.config();
        while self.tally.examined < limit {
            if self.deadline.is_near(self.reserve()) {
                let examined = self.tally.examined;
                return self.stop(format!(
                    "stopped before the Lambda deadline after examining {examined} of {limit} message(s); run again to continue"
                ));
            }
            let batch_started = Instant::now();
            let want = (limit - self.tally.examined).min(MAX_BATCH as u64) as usize;
            let receive =
                self.ports
                    .sqs()
                    .receive(&config.dlq_url, want, self.visibility, RECEIVE_WAIT);
            let received = self
                .deadline
                .call(self.margin, "ReceiveMessage", receive)
                .await;
            self.timing.call_took(batch_started.elapsed());
            let messages = match received {
                Ok(messages) => messages,
                Err(e) => return self.stop(format!("{e}; the rest stays in the DLQ")),
            };
            if messages.is_empty() {
                return;
            }
            let now = now_ms();
            let batch: Vec<DlqMessage> = messages.into_iter().map(DlqMessage::from).collect();
            for m in &batch {
                self.tally.observe(m, now, &config.redactor);
            }
            match self.request.action {
                Action::Inspect => self.hold_all(batch),
                Action::Redrive | Action::Purge => self.act_on(batch, now).await,
            }
            self.timing.batch_took(batch_started.elapsed());
            if self.stopped_early.is_some() {
                return;
            }
        }
    }

    /// Time to keep in hand before starting another batch, given what is held to release.
    fn reserve(&self) -> Duration {
        self.timing
            .before_next_batch(self.held.len().div_ceil(MAX_BATCH))
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

    fn report(mut self, depth: QueueDepth) -> Report {
        let config = self.ports.config();
        let request = self.request;
        let f = &config.redrive_function;
        let queue_url = config.source_queue_url.as_deref();
        Report {
            action: request.action,
            queue: config.queue_name.clone(),
            dry_run: request.dry_run,
            destination: destination::describe(request, &f.name, f.qualifier.as_deref(), queue_url),
            depth,
            examined: self.tally.examined,
            oldest_age_seconds: self.tally.oldest_age_seconds,
            aged_from_dlq_arrival: self.tally.aged_from_dlq_arrival,
            receive_counts: self.tally.receive_counts.clone(),
            groups: self.tally.groups(),
            samples: std::mem::take(&mut self.tally.samples),
            outcome: (request.action != Action::Inspect).then_some(self.outcome),
            complete: self.stopped_early.is_none(),
            stopped_early: self.stopped_early,
            released: self.released,
            release_failed: self.release_failed,
            visible_again_within_seconds: self.visibility.as_secs(),
        }
    }
}

#[cfg(test)]
mod tests;
