//! How many messages wait in a queue (for reports; nothing is received or changed).

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;

use crate::error::AwsCallError;

#[derive(Debug, Clone)]
pub struct QueueDepth {
    client: Client,
}

impl QueueDepth {
    pub fn new(client: Client) -> Self {
        QueueDepth { client }
    }

    /// `ApproximateNumberOfMessages` of the queue at `queue_url` (visible messages).
    pub async fn visible_messages(&self, queue_url: &str) -> Result<u64, AwsCallError> {
        let attr = QueueAttributeName::ApproximateNumberOfMessages;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(attr.clone())
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("GetQueueAttributes", e))?;
        let raw = out.attributes.and_then(|mut a| a.remove(&attr));
        raw.as_deref()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| AwsCallError {
                operation: "GetQueueAttributes",
                code: None,
                message: format!("ApproximateNumberOfMessages missing or not a number: {raw:?}"),
            })
    }
}
