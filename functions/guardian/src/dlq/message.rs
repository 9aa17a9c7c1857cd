//! A message in the guarded function's dead-letter queue: Lambda's async failure record.

use std::time::Duration;

use crate::queue::ReceivedMessage;

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
    /// How old the failed event is at `now_ms`: from the event's own time when its body
    /// carries one, else from `SentTimestamp` (`None` without either). `SentTimestamp` is when
    /// Lambda gave up on the event (after its retries, or up to 6 hours of throttling), so
    /// that age is only a lower bound: see [`DlqMessage::age_is_lower_bound`].
    pub fn age(&self, now_ms: u64) -> Option<Duration> {
        self.event_time_ms()
            .or(self.sent_at_ms)
            .map(|since| Duration::from_millis(now_ms.saturating_sub(since)))
    }

    /// True when [`DlqMessage::age`] counts from the DLQ arrival, not from the event itself.
    pub fn age_is_lower_bound(&self) -> bool {
        self.event_time_ms().is_none()
    }

    /// The event's own time, in ms since the epoch: the `time` field (RFC 3339) of an
    /// EventBridge event, and of the guarded function's schedule input, which carries
    /// Scheduler's `<aws.scheduler.scheduled-time>` there.
    pub fn event_time_ms(&self) -> Option<u64> {
        let body = self.body_json()?;
        let text = body.get("time")?.as_str()?;
        let at = chrono::DateTime::parse_from_rfc3339(text).ok()?;
        u64::try_from(at.timestamp_millis()).ok()
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
        assert!(m.age_is_lower_bound());
    }

    #[test]
    fn age_counts_from_the_events_own_time_when_it_has_one() {
        // A scheduled tick at 00:00:00 that Lambda gave up on (SentTimestamp) at 00:10:00.
        let tick = DlqMessage {
            body: r#"{"source":"rollout-guardian.schedule","time":"2026-01-01T00:00:00Z"}"#.into(),
            sent_at_ms: Some(1_767_225_600_000 + 600_000),
            ..Default::default()
        };
        let now = 1_767_225_600_000 + 900_000;
        assert_eq!(tick.age(now), Some(Duration::from_secs(900)));
        assert!(!tick.age_is_lower_bound());
        let garbled = DlqMessage {
            body: r#"{"time":"yesterday"}"#.into(),
            sent_at_ms: Some(now - 5_000),
            ..Default::default()
        };
        assert_eq!(garbled.age(now), Some(Duration::from_secs(5)));
        assert!(garbled.age_is_lower_bound());
    }
}
