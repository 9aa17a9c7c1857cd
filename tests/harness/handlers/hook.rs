//! The pre-traffic hook's world: a guarded function with versions 1 and 2, the alert topic
//! with a subscribed queue, and a CodeDeploy deployment shifting the function to version 2.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use guardian::config::Env;
use lambda_runtime::LambdaEvent;
use pre_traffic_hook::{App, Config, HookError, handler};
use serde_json::{Value, json};

use super::{BOT, event};
use crate::{
    AppSpec, TestAccount, appspec, deployment, deployment_group, guarded_function, notifications,
    topic_with_queue,
};

/// The lifecycle event hook execution id of the world's events.
pub const EXECUTION: &str = "hook-execution-1";

pub struct HookWorld {
    pub acct: TestAccount,
    pub cfg: SdkConfig,
    pub topic: String,
    pub inbox: String,
    pub deployment_id: String,
}

impl HookWorld {
    /// A guarded function with versions 1 and 2 (alias live -> 1), an alert topic with a
    /// subscribed queue, and a deployment of the AppSpec CloudFormation writes, shifting the
    /// function to version 2.
    pub async fn new() -> HookWorld {
        HookWorld::with_appspec(AppSpec::Content(&appspec(BOT, None, None))).await
    }

    /// [`HookWorld::new`], the deployment's AppSpec registered as `appspec`.
    pub async fn with_appspec(appspec: AppSpec<'_>) -> HookWorld {
        let acct = TestAccount::new();
        guarded_function(&acct.sdk_config().await, BOT, 2).await;
        HookWorld::around(acct, appspec).await
    }

    /// The alert topic and the deployment of `appspec`, around a function `trading-bot` the
    /// test made in `acct`.
    pub async fn around(acct: TestAccount, appspec: AppSpec<'_>) -> HookWorld {
        let cfg = acct.sdk_config().await;
        let (topic, inbox) = topic_with_queue(&cfg, "hook-alerts").await;
        let (app, group) = ("trading-bot-app", "trading-bot-group");
        deployment_group(&acct, app, group, None).await;
        let deployment_id = deployment(&cfg, app, group, appspec).await;
        HookWorld {
            acct,
            cfg,
            topic,
            inbox,
            deployment_id,
        }
    }

    /// The hook guarding `trading-bot`, publishing to the world's topic, with `extra`
    /// variables (a later one replaces an earlier one of the same name).
    pub fn app(&self, extra: &[(&str, &str)]) -> App {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("GUARDED_FUNCTIONS", BOT),
            ("ALERT_TOPIC_ARN", self.topic.as_str()),
            ("REPORT_MARGIN_MS", "1000"),
        ];
        pairs.extend_from_slice(extra);
        let config = Config::from_env(&Env::from_pairs(pairs)).unwrap();
        App::new(&self.cfg, config)
    }

    /// CodeDeploy's event for the world's deployment, with `budget` left.
    pub fn event(&self, budget: Duration) -> LambdaEvent<Value> {
        event(
            json!({"DeploymentId": self.deployment_id, "LifecycleEventHookExecutionId": EXECUTION}),
            budget,
        )
    }

    /// The handler on the world's event, with 30 s left.
    pub async fn run(&self, app: &App) -> Result<Value, HookError> {
        handler(app, self.event(Duration::from_secs(30))).await
    }

    /// The statuses CodeDeploy recorded for this deployment's hook execution.
    pub async fn recorded(&self) -> Vec<String> {
        self.acct
            .control
            .hook_statuses()
            .await
            .into_iter()
            .filter(|h| h["deploymentId"] == self.deployment_id.as_str())
            .map(|h| {
                assert_eq!(h["lifecycleEventHookExecutionId"], EXECUTION);
                h["status"].as_str().unwrap().to_string()
            })
            .collect()
    }

    /// The one verdict that reached the alert topic: (subject, message, attributes).
    pub async fn alert(&self) -> (String, String, BTreeMap<String, String>) {
        let mut got = notifications(&self.cfg, &self.inbox).await;
        assert_eq!(got.len(), 1, "exactly one verdict published: {got:?}");
        let n = got.remove(0);
        let attrs = n["MessageAttributes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v["Value"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        (
            n["Subject"].as_str().unwrap_or_default().to_string(),
            n["Message"].as_str().unwrap_or_default().to_string(),
            attrs,
        )
    }

    /// Every invoke of the guarded function.
    pub async fn invocations(&self) -> Vec<Value> {
        self.acct.control.invocations(BOT).await
    }

    /// Results for the probes' invokes of version 2, in order.
    pub async fn queue(&self, results: Vec<Value>) {
        self.acct
            .control
            .queue_invoke_results(BOT, Some("2"), results)
            .await;
    }

    /// The next `count` calls of `operation` fail with `status` / `code`.
    pub async fn fault(&self, operation: &str, count: u32, status: u16, code: &str) {
        self.acct
            .control
            .inject_fault(operation, count, status, code)
            .await;
    }
}
