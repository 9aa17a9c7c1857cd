//! Messages and depth of an SQS queue, in plain types: what the DLQ core reads and the SQS
//! adapter returns.

use std::collections::BTreeMap;

/// A received message, in plain types.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// Message attributes that carry a string value (`String` and `Number` types).
    pub attributes: BTreeMap<String, String>,
    /// `SentTimestamp`: when the message entered this queue, in epoch milliseconds.
    pub sent_timestamp_ms: Option<u64>,
    /// `ApproximateReceiveCount`, this receive included.
    pub receive_count: Option<u32>,
}

/// How many messages a queue holds, by state (SQS's approximate counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct QueueDepth {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
}
