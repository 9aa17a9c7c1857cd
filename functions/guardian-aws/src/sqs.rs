//! SQS: queue depth, receiving with a visibility timeout, and the batch calls (visibility,
//! delete, send) whose every entry the caller must check.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry,
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};

use crate::error::AwsCallError;
use crate::on_first_use::OnFirstUse;
use guardian::queue::{QueueDepth, ReceivedMessage};

/// SQS's limit for one batch call and for one receive.
pub const MAX_BATCH: usize = 10;

/// One entry of a batch call: `id` is unique within the batch (alphanumeric, `-`, `_`);
/// `value` is a receipt handle or a message body depending on the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEntry {
    pub id: String,
    pub value: String,
}

/// An entry of a batch call that SQS did not carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEntryFailure {
    pub id: String,
    pub code: String,
    pub message: String,
    pub sender_fault: bool,
}

#[derive(Debug, Clone)]
pub struct Sqs {
    client: OnFirstUse<Client>,
}

impl Sqs {
    pub fn new(client: Client) -> Self {
        Sqs {
            client: OnFirstUse::ready(client),
        }
    }

    /// The adapter over a client built from the function's shared SDK configuration.
    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        Sqs {
            client: OnFirstUse::from_sdk(sdk, "sqs", Client::new),
        }
    }

    pub async fn depth(&self, queue_url: &str) -> Result<QueueDepth, AwsCallError> {
        let out = self
            .client
            .get()
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("GetQueueAttributes", e))?;
        let attrs = out.attributes.unwrap_or_default();
        let count = |name: QueueAttributeName| {
            attrs
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or_default()
        };
        Ok(QueueDepth {
            visible: count(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        })
    }

    /// Up to `max` (1..=10) messages, hidden from other consumers for `visibility`. Waits up
    /// to `wait` for a first message: long polling asks every SQS server, so an empty answer
    /// means the queue has nothing visible (short polling may answer empty when it is not).
    pub async fn receive(
        &self,
        queue_url: &str,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, AwsCallError> {
        let out = self
            .client
            .get()
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(max.clamp(1, MAX_BATCH) as i32)
            .visibility_timeout(whole_seconds(visibility))
            .wait_time_seconds(whole_seconds(wait).min(20))
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("ReceiveMessage", e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(received)
            .collect())
    }

    /// Sets the visibility timeout of up to 10 received messages (`value` = receipt handle).
    pub async fn change_visibility_batch(
        &self,
        queue_url: &str,
        entries: &[BatchEntry],
        visibility: Duration,
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError> {
        const OP: &str = "ChangeMessageVisibilityBatch";
        let entries = entries
            .iter()
            .map(|e| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(&e.id)
                    .receipt_handle(&e.value)
                    .visibility_timeout(whole_seconds(visibility))
                    .build()
                    .map_err(|err| invalid(OP, err))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .get()
            .change_message_visibility_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk(OP, e))?;
        Ok(failures(out.failed))
    }

    /// Deletes up to 10 received messages (`value` = receipt handle).
    pub async fn delete_batch(
        &self,
        queue_url: &str,
        entries: &[BatchEntry],
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError> {
        const OP: &str = "DeleteMessageBatch";
        let entries = entries
            .iter()
            .map(|e| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(&e.id)
                    .receipt_handle(&e.value)
                    .build()
                    .map_err(|err| invalid(OP, err))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .get()
            .delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk(OP, e))?;
        Ok(failures(out.failed))
    }

    /// Sends up to 10 messages (`value` = body).
    pub async fn send_batch(
        &self,
        queue_url: &str,
        entries: &[BatchEntry],
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError> {
        const OP: &str = "SendMessageBatch";
        let entries = entries
            .iter()
            .map(|e| {
                SendMessageBatchRequestEntry::builder()
                    .id(&e.id)
                    .message_body(&e.value)
                    .build()
                    .map_err(|err| invalid(OP, err))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .get()
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk(OP, e))?;
        Ok(failures(out.failed))
    }
}

fn received(m: Message) -> ReceivedMessage {
    let system = m.attributes.unwrap_or_default();
    let system_value = |name: MessageSystemAttributeName| system.get(&name).cloned();
    ReceivedMessage {
        message_id: m.message_id.unwrap_or_default(),
        receipt_handle: m.receipt_handle.unwrap_or_default(),
        body: m.body.unwrap_or_default(),
        attributes: m
            .message_attributes
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.string_value.map(|s| (k, s)))
            .collect(),
        sent_timestamp_ms: system_value(MessageSystemAttributeName::SentTimestamp)
            .and_then(|v| v.parse().ok()),
        receive_count: system_value(MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|v| v.parse().ok()),
    }
}

fn failures(failed: Vec<BatchResultErrorEntry>) -> Vec<BatchEntryFailure> {
    failed
        .into_iter()
        .map(|f| BatchEntryFailure {
            id: f.id,
            code: f.code,
            message: f.message.unwrap_or_default(),
            sender_fault: f.sender_fault,
        })
        .collect()
}

/// SQS takes whole seconds; a fraction rounds up so a timeout is never shorter than asked.
fn whole_seconds(d: Duration) -> i32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

fn invalid(operation: &'static str, e: impl std::fmt::Display) -> AwsCallError {
    AwsCallError {
        operation,
        code: Some("InvalidRequest".into()),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_of_a_second_round_up() {
        assert_eq!(whole_seconds(Duration::ZERO), 0);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(2500)), 3);
        assert_eq!(whole_seconds(Duration::from_secs(u64::MAX)), i32::MAX);
    }

    #[test]
    fn received_message_keeps_lambda_attributes_and_counts() {
        use aws_sdk_sqs::types::MessageAttributeValue;
        let m = Message::builder()
            .message_id("m-1")
            .receipt_handle("rh")
            .body("{}")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1700000000000")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "3")
            .message_attributes(
                "ErrorCode",
                MessageAttributeValue::builder()
                    .data_type("Number")
                    .string_value("200")
                    .build()
                    .unwrap(),
            )
            .build();
        let r = received(m);
        assert_eq!(
            r.attributes.get("ErrorCode").map(String::as_str),
            Some("200")
        );
        assert_eq!(r.sent_timestamp_ms, Some(1_700_000_000_000));
        assert_eq!(r.receive_count, Some(3));
    }
}
