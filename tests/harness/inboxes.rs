//! Provisioning resources in a test account, and reading what reached them.

use aws_config::SdkConfig;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use serde_json::Value;

/// An IAM role Lambda functions can be created with (moto checks the role exists).
pub async fn lambda_role(cfg: &SdkConfig) -> String {
    let iam = aws_sdk_iam::Client::new(cfg);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let existing = iam
        .get_role()
        .role_name("guarded-function-role")
        .send()
        .await;
    if let Some(role) = existing.ok().and_then(|out| out.role) {
        return role.arn;
    }
    iam.create_role()
        .role_name("guarded-function-role")
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("CreateRole")
        .role
        .expect("role in CreateRole output")
        .arn
}

/// A function `name` with `versions` published versions (1..=versions) and, when
/// `versions > 0`, an alias `live` on version 1. Returns its ARN.
pub async fn guarded_function(cfg: &SdkConfig, name: &str, versions: u32) -> String {
    let lambda = aws_sdk_lambda::Client::new(cfg);
    let role = lambda_role(cfg).await;
    let created = lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(tiny_zip()))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction");
    for v in 1..=versions {
        lambda
            .update_function_configuration()
            .function_name(name)
            .description(format!("build {v}"))
            .send()
            .await
            .expect("UpdateFunctionConfiguration");
        lambda
            .publish_version()
            .function_name(name)
            .description(format!("build {v}"))
            .send()
            .await
            .expect("PublishVersion");
    }
    if versions > 0 {
        lambda
            .create_alias()
            .function_name(name)
            .name("live")
            .function_version("1")
            .send()
            .await
            .expect("CreateAlias");
    }
    created.function_arn.expect("function ARN")
}

/// A minimal valid zip archive (one empty `bootstrap` entry); the emulator never runs it.
fn tiny_zip() -> Vec<u8> {
    let name = b"bootstrap";
    let mut local = vec![0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    local.extend_from_slice(&[0; 12]); // crc, sizes
    local.extend_from_slice(&(name.len() as u16).to_le_bytes());
    local.extend_from_slice(&[0, 0]);
    local.extend_from_slice(name);
    let central_offset = local.len() as u32;
    let mut central = vec![0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    central.extend_from_slice(&[0; 12]);
    central.extend_from_slice(&(name.len() as u16).to_le_bytes());
    central.extend_from_slice(&[0; 12]); // extra, comment, disk, attrs
    central.extend_from_slice(&[0; 4]); // local header offset
    central.extend_from_slice(name);
    let mut end = vec![0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0];
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&central_offset.to_le_bytes());
    end.extend_from_slice(&[0, 0]);
    [local, central, end].concat()
}

/// A topic with an SQS queue subscribed (standing in for e-mail, SMS or chat); messages
/// arrive wrapped in the SNS envelope so subject and attributes can be checked.
pub async fn topic_with_queue(cfg: &SdkConfig, name: &str) -> (String, String) {
    let sns = aws_sdk_sns::Client::new(cfg);
    let sqs = aws_sdk_sqs::Client::new(cfg);
    let topic = sns
        .create_topic()
        .name(name)
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("topic ARN");
    let queue_url = queue(cfg, &format!("{name}-inbox")).await;
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue ARN");
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("Subscribe");
    (topic, queue_url)
}

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
    let attr = aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages;
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
