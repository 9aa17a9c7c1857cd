//! Publishing to SNS topics.

use std::collections::BTreeMap;

use aws_sdk_sns::Client;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};

use crate::error::AwsCallError;
use crate::on_first_use::OnFirstUse;
use guardian::publication::Publication;
use guardian::sns_text::safe_subject;

/// An entry of a `PublishBatch` that SNS did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEntry {
    pub id: String,
    pub code: String,
    pub message: String,
    /// The sender's fault (bad input): retrying the same entry will not help.
    pub sender_fault: bool,
}

#[derive(Debug, Clone)]
pub struct Sns {
    client: OnFirstUse<Client>,
}

impl Sns {
    pub fn new(client: Client) -> Self {
        Sns {
            client: OnFirstUse::ready(client),
        }
    }

    /// The adapter over a client built from the function's shared SDK configuration.
    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        Sns {
            client: OnFirstUse::from_sdk(sdk, "sns", Client::new),
        }
    }

    /// Publishes one message; returns its message id.
    pub async fn publish(&self, topic_arn: &str, p: &Publication) -> Result<String, AwsCallError> {
        let out = self
            .client
            .get()
            .publish()
            .topic_arn(topic_arn)
            .set_subject(p.subject.as_deref().map(safe_subject))
            .message(&p.message)
            .set_message_structure(p.per_protocol.then(|| "json".to_string()))
            .set_message_attributes(attributes(&p.attributes)?)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("Publish", e))?;
        Ok(out.message_id.unwrap_or_default())
    }

    /// Publishes up to 10 entries `(id, publication)` in one call; returns the entries SNS
    /// rejected (empty when all went out). Callers must check every entry.
    pub async fn publish_batch(
        &self,
        topic_arn: &str,
        entries: &[(String, Publication)],
    ) -> Result<Vec<RejectedEntry>, AwsCallError> {
        let mut request = self.client.get().publish_batch().topic_arn(topic_arn);
        for (id, p) in entries {
            let entry = PublishBatchRequestEntry::builder()
                .id(id)
                .set_subject(p.subject.as_deref().map(safe_subject))
                .message(&p.message)
                .set_message_structure(p.per_protocol.then(|| "json".to_string()))
                .set_message_attributes(attributes(&p.attributes)?)
                .build()
                .map_err(|e| invalid("PublishBatch", e))?;
            request = request.publish_batch_request_entries(entry);
        }
        let out = request
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("PublishBatch", e))?;
        Ok(out
            .failed
            .unwrap_or_default()
            .into_iter()
            .map(|f| RejectedEntry {
                id: f.id,
                code: f.code,
                message: f.message.unwrap_or_default(),
                sender_fault: f.sender_fault,
            })
            .collect())
    }
}

fn attributes(
    attrs: &BTreeMap<String, String>,
) -> Result<Option<std::collections::HashMap<String, MessageAttributeValue>>, AwsCallError> {
    if attrs.is_empty() {
        return Ok(None);
    }
    attrs
        .iter()
        .map(|(k, v)| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map(|value| (k.clone(), value))
                .map_err(|e| invalid("Publish", e))
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

fn invalid(operation: &'static str, e: impl std::fmt::Display) -> AwsCallError {
    AwsCallError {
        operation,
        code: Some("InvalidRequest".into()),
        message: e.to_string(),
    }
}
