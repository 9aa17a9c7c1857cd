//! The alarm fan-out's world: a topic per severity and one for chat, each with a subscribed
//! queue, and the fan-out configured to publish to them.

use std::collections::BTreeMap;
use std::time::Duration;

use alarm_fanout::{App, Config, FanoutError, handler};
use aws_config::SdkConfig;
use guardian::config::Env;
use serde_json::Value;

use super::event;
use crate::{TestAccount, notifications, topic_with_queue};

/// Severity rules: the guarded function's alarms are critical, API latency is info.
pub const RULES: &str = r#"[{"pattern":"trading-bot-*","severity":"critical"},{"pattern":"api-latency-*","severity":"info"}]"#;

pub struct FanoutWorld {
    pub acct: TestAccount,
    pub cfg: SdkConfig,
    /// Topic name (`critical`, `warning`, `info`, `chat`) -> its subscribed queue's URL.
    pub queues: BTreeMap<&'static str, String>,
    /// Topic name -> ARN.
    pub topics: BTreeMap<&'static str, String>,
}

impl FanoutWorld {
    /// The topics for the three severities and chat, in a fresh account.
    pub async fn new() -> FanoutWorld {
        FanoutWorld::with_topics(&["critical", "warning", "info", "chat"]).await
    }

    /// Only the topics `names` (of `critical`, `warning`, `info`, `chat`).
    pub async fn with_topics(names: &[&'static str]) -> FanoutWorld {
        let acct = TestAccount::new();
        let cfg = acct.sdk_config().await;
        let mut queues = BTreeMap::new();
        let mut topics = BTreeMap::new();
        for name in names {
            let (topic, queue) = topic_with_queue(&cfg, &format!("alerts-{name}")).await;
            topics.insert(*name, topic);
            queues.insert(*name, queue);
        }
        FanoutWorld {
            acct,
            cfg,
            queues,
            topics,
        }
    }

    /// The fan-out's configuration: the world's topics, [`RULES`], retries backing off from
    /// 50 ms, and `extra` variables (each replacing one of the same name).
    pub fn config(&self, extra: &[(&str, &str)]) -> Config {
        let mut vars: Vec<(String, String)> = self
            .topics
            .iter()
            .map(|(name, arn)| (format!("{}_TOPIC_ARN", name.to_uppercase()), arn.clone()))
            .collect();
        vars.push(("SEVERITY_RULES".into(), RULES.into()));
        vars.push(("AWS_REGION".into(), "us-east-1".into()));
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut config = Config::from_env(&Env::from_pairs(vars)).unwrap();
        config.retry.initial_backoff = Duration::from_millis(50);
        config
    }

    /// The fan-out with [`FanoutWorld::config`].
    pub fn app(&self, extra: &[(&str, &str)]) -> App {
        App::new(&self.cfg, self.config(extra))
    }

    /// The handler on `payload`, with 60 s left.
    pub async fn run(&self, app: &App, payload: Value) -> Result<Value, FanoutError> {
        handler(app, event(payload, Duration::from_secs(60))).await
    }

    /// Drains every queue: notifications per topic name.
    pub async fn delivered(&self) -> BTreeMap<&'static str, Vec<Value>> {
        let mut out = BTreeMap::new();
        for (name, queue) in &self.queues {
            out.insert(*name, notifications(&self.cfg, queue).await);
        }
        out
    }
}
