//! Queues and topics: inboxes subscribed to topics (standing in for e-mail, SMS, chat or a
//! team's tooling), and reading what reached a queue.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};

use crate::TestAccount;

pub async fn queue(cfg: &SdkConfig, name: &str) -> String {
    aws_sdk_sqs::Client::new(cfg)
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("queue URL")
}

pub async fn queue_arn(cfg: &SdkConfig, queue_url: &str) -> String {
    aws_sdk_sqs::Client::new(cfg)
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("QueueArn")
}

/// A topic with an SQS queue subscribed (standing in for e-mail, SMS or chat); messages
/// arrive wrapped in the SNS envelope so subject and attributes can be checked.
pub async fn topic_with_queue(cfg: &SdkConfig, name: &str) -> (String, String) {
    let topic = aws_sdk_sns::Client::new(cfg)
        .create_topic()
        .name(name)
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("topic ARN");
    let queue_url = queue(cfg, &format!("{name}-inbox")).await;
    let queue_arn = queue_arn(cfg, &queue_url).await;
    subscribe(cfg, &topic, &queue_arn).await;
    (topic, queue_url)
}

/// A queue subscribed to `topic`, with the queue policy SNS needs to deliver to it.
pub async fn subscribe_queue(acct: &TestAccount, topic: &str, name: &str) -> String {
    let cfg = acct.sdk_config().await;
    let url = queue(&cfg, name).await;
    let arn = acct.arn("sqs", name);
    allow_sends(&cfg, &url, &arn, "sns.amazonaws.com", topic).await;
    subscribe(&cfg, topic, &arn).await;
    url
}

/// The queue's policy: the AWS service `service` may send to it on behalf of `source_arn`
/// only (as the template's queue policies say).
pub async fn allow_sends(
    cfg: &SdkConfig,
    queue_url: &str,
    queue_arn: &str,
    service: &str,
    source_arn: &str,
) {
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": service}, "Action": "sqs:SendMessage", "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}}}]});
    aws_sdk_sqs::Client::new(cfg)
        .set_queue_attributes()
        .queue_url(queue_url)
        .attributes(QueueAttributeName::Policy, policy.to_string())
        .send()
        .await
        .expect("SetQueueAttributes Policy");
}

async fn subscribe(cfg: &SdkConfig, topic: &str, queue_arn: &str) {
    aws_sdk_sns::Client::new(cfg)
        .subscribe()
        .topic_arn(topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("Subscribe sqs");
}

/// Everything in the queue, received and deleted, as raw bodies.
pub async fn drain(cfg: &SdkConfig, queue_url: &str) -> Vec<String> {
    let sqs = aws_sdk_sqs::Client::new(cfg);
    let mut bodies = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("ReceiveMessage");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return bodies;
        }
        let mut delete = sqs.delete_message_batch().queue_url(queue_url);
        for (i, m) in messages.into_iter().enumerate() {
            if let Some(handle) = m.receipt_handle {
                let entry = aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
                    .expect("delete entry");
                delete = delete.entries(entry);
            }
            bodies.push(m.body.unwrap_or_default());
        }
        delete.send().await.expect("DeleteMessageBatch");
    }
}

/// A message as a queue holds it: the body and each attribute's `(DataType, value)`.
#[derive(Debug, Clone)]
pub struct Letter {
    pub body: String,
    pub attributes: BTreeMap<String, (String, String)>,
}

impl Letter {
    /// An attribute's value ("" when absent).
    pub fn attribute(&self, name: &str) -> &str {
        self.attributes.get(name).map_or("", |(_, v)| v.as_str())
    }
}

/// Up to 10 messages of a queue with their attributes, hidden for `visibility` seconds (the
/// queue's default when None; 0 leaves them in place for the next read).
pub async fn letters(cfg: &SdkConfig, queue_url: &str, visibility: Option<i32>) -> Vec<Letter> {
    let out = aws_sdk_sqs::Client::new(cfg)
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .set_visibility_timeout(visibility)
        .message_attribute_names("All")
        .send()
        .await
        .expect("ReceiveMessage");
    out.messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| Letter {
            attributes: m
                .message_attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, (v.data_type, v.string_value.unwrap_or_default())))
                .collect(),
            body: m.body.unwrap_or_default(),
        })
        .collect()
}

/// SNS notifications delivered to a subscribed queue (the envelope: `Subject`,
/// `Message`, `MessageAttributes`), drained.
pub async fn notifications(cfg: &SdkConfig, queue_url: &str) -> Vec<Value> {
    drain(cfg, queue_url)
        .await
        .iter()
        .map(|b| serde_json::from_str(b).expect("SNS envelope is JSON"))
        .collect()
}

/// Approximate visible messages in a queue.
pub async fn visible_messages(cfg: &SdkConfig, queue_url: &str) -> i64 {
    let attr = QueueAttributeName::ApproximateNumberOfMessages;
    aws_sdk_sqs::Client::new(cfg)
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(attr.clone())
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .and_then(|a| a.get(&attr).and_then(|v| v.parse().ok()))
        .unwrap_or(-1)
}
