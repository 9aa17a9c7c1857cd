//! The fake world behind each of the inspector's ports: SQS as a map of numbered messages
//! with receipt handles, Lambda and SNS as logs.

use std::time::Duration;

use guardian::dlq::message::{ERROR_CODE, ERROR_MESSAGE};
use guardian::publication::Publication;
use guardian::queue::{QueueDepth, ReceivedMessage};
use guardian_aws::error::AwsCallError;
use guardian_aws::sqs::{BatchEntry, BatchEntryFailure};
use serde_json::{Value, json};

use super::World;
use crate::config::Config;
use crate::ports::{Functions, Ports, Queues, Topics};

pub(super) fn refused(operation: &'static str) -> AwsCallError {
    AwsCallError {
        operation,
        code: Some("ServiceUnavailable".into()),
        message: "injected".into(),
    }
}

fn entry_failure(id: &str) -> BatchEntryFailure {
    BatchEntryFailure {
        id: id.to_string(),
        code: "InternalError".into(),
        message: "injected".into(),
        sender_fault: false,
    }
}

fn seq_of(body: &str) -> u64 {
    let body: Value = serde_json::from_str(body).unwrap_or_default();
    body["seq"].as_u64().unwrap_or(u64::MAX)
}

impl Ports for World {
    type Sqs = World;
    type Lambda = World;
    type Sns = World;
    fn config(&self) -> &Config {
        &self.config
    }
    fn sqs(&self) -> &World {
        self
    }
    fn lambda(&self) -> &World {
        self
    }
    fn sns(&self) -> &World {
        self
    }
}

impl Queues for World {
    async fn depth(&self, _: &str) -> Result<QueueDepth, AwsCallError> {
        self.call("GetQueueAttributes", |s| {
            let visible = s.visible() as u64;
            let in_flight = s.dlq.len() as u64 - visible;
            Ok(QueueDepth {
                visible,
                in_flight,
                delayed: 0,
            })
        })
        .await
    }

    async fn receive(
        &self,
        _: &str,
        max: usize,
        _: Duration,
        _: Duration,
    ) -> Result<Vec<ReceivedMessage>, AwsCallError> {
        let call = {
            let mut s = self.state();
            s.receives += 1;
            s.receives
        };
        if self.state().hanging_receive == Some(call) {
            std::future::pending::<()>().await;
        }
        self.call("ReceiveMessage", |s| {
            let visible: Vec<u64> = s
                .dlq
                .iter()
                .filter(|(_, m)| m.receipt.is_none())
                .map(|(n, _)| *n)
                .take(max)
                .collect();
            let mut out = Vec::new();
            for n in visible {
                s.receipts += 1;
                let receipt = format!("r-{}", s.receipts);
                let Some(m) = s.dlq.get_mut(&n) else { continue };
                m.receipt = Some(receipt.clone());
                let attributes = [(ERROR_CODE, m.error_code), (ERROR_MESSAGE, "boom")];
                out.push(ReceivedMessage {
                    message_id: format!("m-{n}"),
                    receipt_handle: receipt,
                    body: json!({"seq": n}).to_string(),
                    attributes: attributes.map(|(k, v)| (k.into(), v.into())).into(),
                    sent_timestamp_ms: Some(m.sent_ms),
                    receive_count: Some(1),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn change_visibility_batch(
        &self,
        _: &str,
        entries: &[BatchEntry],
        _: Duration,
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError> {
        self.call("ChangeMessageVisibilityBatch", |s| {
            for e in entries {
                let held = s
                    .dlq
                    .values_mut()
                    .find(|m| m.receipt.as_ref() == Some(&e.value));
                if let Some(m) = held {
                    m.receipt = None;
                }
            }
            Ok(Vec::new())
        })
        .await
    }

    async fn delete_batch(
        &self,
        _: &str,
        entries: &[BatchEntry],
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError> {
        let call = {
            let mut s = self.state();
            s.deletes += 1;
            s.deletes
        };
        self.call("DeleteMessageBatch", |s| {
            if s.failing_delete_calls.contains(&call) {
                return Err(refused("DeleteMessageBatch"));
            }
            let mut failures = Vec::new();
            for e in entries {
                let held = s
                    .dlq
                    .iter()
                    .find(|(_, m)| m.receipt.as_ref() == Some(&e.value));
                match held.map(|(n, _)| *n) {
                    Some(n) if !s.failing_deletes.contains(&n) => {
                        s.dlq.remove(&n);
                    }
                    _ => failures.push(entry_failure(&e.id)),
                }
            }
            Ok(failures)
        })
        .await
    }

    async fn send_batch(
        &self,
        _: &str,
        entries: &[BatchEntry],
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError> {
        self.call("SendMessageBatch", |s| {
            let mut failures = Vec::new();
            for e in entries {
                let n = seq_of(&e.value);
                match s.failing_sends.contains(&n) {
                    true => failures.push(entry_failure(&e.id)),
                    false => s.sent.push(n),
                }
            }
            Ok(failures)
        })
        .await
    }
}

impl Functions for World {
    async fn invoke_async(
        &self,
        _: &str,
        _: Option<&str>,
        payload: &[u8],
    ) -> Result<(), AwsCallError> {
        let n = seq_of(&String::from_utf8_lossy(payload));
        if self.state().hanging_invokes.contains(&n) {
            std::future::pending::<()>().await;
        }
        self.call("Invoke", |s| match s.failing_invokes.contains(&n) {
            true => Err(AwsCallError {
                operation: "Invoke",
                code: Some("TooManyRequestsException".into()),
                message: "Rate exceeded".into(),
            }),
            false => {
                s.invoked.push(n);
                Ok(())
            }
        })
        .await
    }

    async fn reserved_concurrency(&self, _: &str) -> Result<Option<i32>, AwsCallError> {
        self.call("GetFunctionConcurrency", |s| Ok(s.concurrency))
            .await
    }
}

impl Topics for World {
    async fn publish(&self, _: &str, p: &Publication) -> Result<String, AwsCallError> {
        self.call("Publish", |s| {
            s.published.push(p.clone());
            Ok("message-id".into())
        })
        .await
    }
}
