//! The DLQ inspector's world: a guarded function, its dead-letter queue filled as Lambda fills
//! it, a source queue a redrive may send to, the alert topic with a subscribed queue, and the
//! inspector configured for them.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use dlq_inspector::{App, Config, DlqError, handler};
use guardian::config::Env;
use serde_json::{Value, json};

use super::{BOT, event};
use crate::{TestAccount, guarded_function, queue, topic_with_queue};

/// The dead-letter queue's name.
pub const DLQ: &str = "trading-bot-dlq";

pub struct DlqWorld {
    pub acct: TestAccount,
    pub cfg: SdkConfig,
    /// The dead-letter queue's URL.
    pub dlq: String,
    /// The source queue's URL (`"to": "queue"`).
    pub source: String,
    /// The queue subscribed to the alert topic.
    pub inbox: String,
    pub app: App,
}

impl DlqWorld {
    /// A fresh account with the world, the inspector configured with `extra` variables.
    pub async fn new(extra: &[(&str, &str)]) -> DlqWorld {
        let acct = TestAccount::new();
        let cfg = acct.sdk_config().await;
        guarded_function(&cfg, BOT, 1).await;
        let dlq = queue(&cfg, DLQ).await;
        let source = queue(&cfg, "trading-bot-source").await;
        let (topic, inbox) = topic_with_queue(&cfg, "dlq-alerts").await;
        let mut env = vec![
            ("DLQ_URL", dlq.as_str()),
            ("GUARDED_FUNCTIONS", BOT),
            ("ALERT_TOPIC_ARN", topic.as_str()),
            ("SOURCE_QUEUE_URL", source.as_str()),
        ];
        env.extend_from_slice(extra);
        let config = Config::from_env(&Env::from_pairs(env)).unwrap();
        let app = App::new(&cfg, config);
        DlqWorld {
            acct,
            cfg,
            dlq,
            source,
            inbox,
            app,
        }
    }

    /// The handler on `payload`, with `budget` left.
    pub async fn call(&self, payload: Value, budget: Duration) -> Result<Value, DlqError> {
        handler(&self.app, event(payload, budget)).await
    }

    /// Fills the DLQ as Lambda would: the original event as body (with `"seq"` set), Lambda's
    /// attributes. `make(seq)` gives `(body, ErrorCode, ErrorMessage)` of message `seq`.
    pub async fn fill(
        &self,
        n: u64,
        make: impl Fn(u64) -> (Value, Option<&'static str>, &'static str),
    ) {
        let sqs = aws_sdk_sqs::Client::new(&self.cfg);
        let string = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .unwrap()
        };
        for chunk in (0..n).collect::<Vec<_>>().chunks(10) {
            let mut batch = sqs.send_message_batch().queue_url(&self.dlq);
            for seq in chunk {
                let (mut body, code, message) = make(*seq);
                body["seq"] = json!(seq);
                let mut entry = SendMessageBatchRequestEntry::builder()
                    .id(format!("m{seq}"))
                    .message_body(body.to_string())
                    .message_attributes("RequestID", string(&format!("req-{seq}")))
                    .message_attributes("ErrorMessage", string(message));
                if let Some(code) = code {
                    entry = entry.message_attributes("ErrorCode", string(code));
                }
                batch = batch.entries(entry.build().unwrap());
            }
            let out = batch.send().await.unwrap();
            assert!(out.failed.is_empty(), "{:?}", out.failed);
        }
    }

    /// Fills the DLQ with `n` runs of an order that timed out (`ErrorCode` 200).
    pub async fn fill_timed_out(&self, n: u64) {
        self.fill(n, |_| {
            (json!({"symbol": "EURUSD"}), Some("200"), "Task timed out")
        })
        .await;
    }

    /// The events the guarded function was invoked with asynchronously (with repeats).
    pub async fn invoked(&self) -> Vec<Value> {
        self.acct.control.events(BOT).await
    }

    /// API calls the account made, by operation.
    pub async fn calls(&self) -> BTreeMap<String, u64> {
        self.acct.control.call_counts().await
    }
}
