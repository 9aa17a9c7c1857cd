//! A message in the guarded function's dead-letter queue: Lambda's async failure record.

use std::time::Duration;

use crate::aws::sqs::ReceivedMessage;

/// The message attributes Lambda sets on an async invocation's DLQ message.
pub const REQUEST_ID: &str = "RequestID";
pub const ERROR_CODE: &str = "ErrorCode";
pub const ERROR_MESSAGE: &str = "ErrorMessage";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DlqMessage {
    pub message_id: String,
    pub receipt_handle: String,
    /// The original event, exactly as the function received it.
    pub body: String,
    pub request_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub sent_at_ms: Option<u64>,
    pub receive_count: u32,
}

impl From<ReceivedMessage> for DlqMessage {
    fn from(mut m: ReceivedMessage) -> Self {
        DlqMessage {
            request_id: m.attributes.remove(REQUEST_ID),
            error_code: m.attributes.remove(ERROR_CODE),
            error_message: m.attributes.remove(ERROR_MESSAGE),
            message_id: m.message_id,
            receipt_handle: m.receipt_handle,
            body: m.body,
            sent_at_ms: m.sent_timestamp_ms,
            receive_count: m.receive_count.unwrap_or(1),
        }
    }
}

impl DlqMessage {
    /// How long the message has been in the queue at `now_ms` (`None` without a timestamp).
    pub fn age(&self, now_ms: u64) -> Option<Duration> {
        self.sent_at_ms
            .map(|sent| Duration::from_millis(now_ms.saturating_sub(sent)))
    }

    /// The body as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// Milliseconds since the Unix epoch, the unit of SQS's `SentTimestamp`.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_attributes_are_lifted_out() {
        let m: DlqMessage = ReceivedMessage {
            message_id: "m".into(),
            attributes: [
                (REQUEST_ID, "r-1"),
                (ERROR_CODE, "200"),
                (ERROR_MESSAGE, "boom"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            sent_timestamp_ms: Some(1_000),
            ..Default::default()
        }
        .into();
        assert_eq!(m.request_id.as_deref(), Some("r-1"));
        assert_eq!(m.error_code.as_deref(), Some("200"));
        assert_eq!(m.error_message.as_deref(), Some("boom"));
        assert_eq!(m.receive_count, 1);
        assert_eq!(m.age(61_000), Some(Duration::from_secs(60)));
        assert_eq!(m.age(0), Some(Duration::ZERO));
    }
}
