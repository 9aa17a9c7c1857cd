//! Re-sending selected messages, paced by `rate_per_second`: async `Invoke` of the function
//! with each original body, or one `SendMessageBatch` to the source queue. No send starts
//! after the moment that still leaves the time reserve in hand.

use std::time::Instant;

use guardian::dlq::message::DlqMessage;
use guardian_aws::deadline::DEADLINE_REACHED;
use guardian_aws::error::AwsCallError;

use super::Pass;
use super::batch::{entries, failure_of};
use crate::ports::{Functions, Ports, Queues};

/// Where one re-send ended.
pub(super) enum Resent {
    Sent(DlqMessage),
    Failed(DlqMessage, String),
    NotAttempted(DlqMessage),
}

/// A call cut off by the deadline may or may not have reached AWS: the message is kept, the
/// side that loses nothing, and the report says it may be a duplicate.
fn failed(e: &AwsCallError) -> String {
    match e.is_code(DEADLINE_REACHED) {
        true => format!("{e} (it may have been delivered)"),
        false => e.to_string(),
    }
}

impl<P: Ports> Pass<'_, P> {
    /// The latest moment a paced re-send may start and still leave the reserve in hand.
    fn last_start(&self) -> Instant {
        Instant::now() + self.deadline.remaining_before(self.reserve())
    }

    /// Async `Invoke` of the function with each original body, concurrently within the
    /// batch (each at its paced slot).
    pub(super) async fn invoke_each(&mut self, selected: Vec<DlqMessage>) -> Vec<Resent> {
        let last_start = self.last_start();
        let now = Instant::now();
        let slots: Vec<Option<Instant>> =
            selected.iter().map(|_| self.pacer.reserve(now)).collect();
        let (deadline, margin, ports) = (self.deadline, self.margin, self.ports);
        let function = &ports.config().redrive_function;
        let sends = selected.into_iter().zip(slots).map(|(m, slot)| async move {
            if let Some(slot) = slot {
                if slot > last_start {
                    return Resent::NotAttempted(m);
                }
                tokio::time::sleep_until(tokio::time::Instant::from_std(slot)).await;
            }
            let qualifier = function.qualifier.as_deref();
            let invoke = ports
                .lambda()
                .invoke_async(&function.name, qualifier, m.body.as_bytes());
            match deadline.call(margin, "Invoke", invoke).await {
                Ok(()) => Resent::Sent(m),
                Err(e) => Resent::Failed(m, failed(&e)),
            }
        });
        futures::future::join_all(sends).await
    }

    /// One `SendMessageBatch` to the source queue, checking every entry.
    pub(super) async fn send_to_queue(&mut self, selected: Vec<DlqMessage>) -> Vec<Resent> {
        let ports = self.ports;
        let Some(queue_url) = ports.config().source_queue_url.as_deref() else {
            return all_failed(selected, "SOURCE_QUEUE_URL is not set");
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
        let entries = entries(selected.iter().map(|m| m.body.as_str()));
        let send = ports.sqs().send_batch(queue_url, &entries);
        let failures = match self
            .deadline
            .call(self.margin, "SendMessageBatch", send)
            .await
        {
            Ok(failures) => failures,
            Err(e) => return all_failed(selected, &failed(&e)),
        };
        selected
            .into_iter()
            .enumerate()
            .map(|(i, m)| match failure_of(&failures, i) {
                Some(f) => Resent::Failed(
                    m,
                    format!("SendMessageBatch entry: {}: {}", f.code, f.message),
                ),
                None => Resent::Sent(m),
            })
            .collect()
    }
}

fn all_failed(messages: Vec<DlqMessage>, error: &str) -> Vec<Resent> {
    messages
        .into_iter()
        .map(|m| Resent::Failed(m, error.to_string()))
        .collect()
}
