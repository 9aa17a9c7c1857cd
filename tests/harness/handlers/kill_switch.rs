//! The kill switch's world: a guarded function at a chosen reserved concurrency, the critical
//! alert topic with a subscribed queue, and the kill switch configured for them.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use guardian::config::Env;
use kill_switch::{App, Config, KillSwitchError, handler};
use serde_json::Value;

use super::{BOT, event};
use crate::{
    TestAccount, guarded_function, reserve_concurrency, reserved_concurrency, stop_record,
    topic_with_queue,
};

pub struct KillSwitchWorld {
    pub acct: TestAccount,
    pub cfg: SdkConfig,
    pub app: App,
    /// The queue subscribed to the alert topic.
    pub alerts: String,
}

impl KillSwitchWorld {
    /// A guarded function (version 1, alias live) at reserved `concurrency` (None:
    /// unreserved) in a fresh account, the alert topic, and the kill switch configured with
    /// `extra` variables.
    pub async fn new(concurrency: Option<i32>, extra: &[(&str, String)]) -> KillSwitchWorld {
        KillSwitchWorld::in_account(TestAccount::new(), concurrency, extra).await
    }

    /// [`KillSwitchWorld::new`], in an account the test already prepared.
    pub async fn in_account(
        acct: TestAccount,
        concurrency: Option<i32>,
        extra: &[(&str, String)],
    ) -> KillSwitchWorld {
        let cfg = acct.sdk_config().await;
        guarded_function(&cfg, BOT, 1).await;
        if let Some(n) = concurrency {
            reserve_concurrency(&cfg, BOT, n).await;
        }
        let (topic, alerts) = topic_with_queue(&cfg, "critical").await;
        let mut vars = vec![
            ("GUARDED_FUNCTIONS", BOT.to_string()),
            ("ALERT_TOPIC_ARN", topic),
        ];
        vars.extend(extra.iter().cloned());
        let config = Config::from_env(&Env::from_pairs(vars)).unwrap();
        KillSwitchWorld {
            app: App::new(&cfg, config),
            acct,
            cfg,
            alerts,
        }
    }

    /// The handler on `payload`, with 60 s left.
    pub async fn invoke(&self, payload: Value) -> Result<Value, KillSwitchError> {
        handler(&self.app, event(payload, Duration::from_secs(60))).await
    }

    /// What the guarded function holds: reserved concurrency and the kill switch's tags (the
    /// restore note left out).
    pub async fn held(&self) -> (Option<i32>, HashMap<String, String>) {
        let concurrency = reserved_concurrency(&self.cfg, BOT).await;
        (concurrency, stop_record(&self.cfg, BOT).await)
    }
}
