//! A deployed guardian: `template.yaml` deployed into a fresh account of the emulator, with
//! what its users add around it (an on-call engineer holding the operator policy, inboxes
//! subscribed to the alert topics, a phone for SMS), and readers of what the emulator
//! recorded. The drill and the stack tests both start from here.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_lambda::primitives::Blob;
use serde_json::Value;

use crate::{Stack, Template, TestAccount, live_alias, notifications, subscribe_queue};

/// The stack name the drill deploys (samconfig.toml's).
pub const STACK: &str = "rollout-guardian";
pub const ONCALL_EMAIL: &str = "oncall@example.com";
pub const ONCALL_PHONE: &str = "+15555550100";

/// Queues subscribed to the stack's topics, standing in for the tools a team points at them.
#[derive(Debug, Clone)]
pub struct Inboxes {
    pub critical: String,
    pub warning: String,
    pub info: String,
    pub chat: Option<String>,
}

pub struct World {
    pub acct: TestAccount,
    pub admin: SdkConfig,
    pub stack: Stack,
    pub operator: SdkConfig,
    pub inboxes: Inboxes,
}

/// A deployment as CodeDeploy recorded it.
#[derive(Debug, Clone)]
pub struct DeploymentRecord {
    pub id: String,
    pub creator: String,
    pub status: String,
    pub error: Option<String>,
    pub rollback_of: Option<String>,
}

impl World {
    /// Deploys `template` as stack [`STACK`] with `params`; Err is the deploy's failure, with
    /// the reasons CloudFormation recorded.
    pub async fn deploy(
        acct: TestAccount,
        template: &Template,
        params: &[(&str, &str)],
    ) -> Result<World, String> {
        let admin = acct.sdk_config().await;
        let stack = acct.deploy(STACK, template, params).await;
        if !stack.succeeded() {
            return Err(stack.failure());
        }
        let operator = acct
            .operator(&stack.output("OperatorPolicyArn"), "on-call")
            .await;
        let inbox = |key: &'static str| {
            let (acct, stack) = (&acct, &stack);
            async move {
                let topic = stack.outputs.get(key)?.clone();
                Some(
                    subscribe_queue(
                        acct,
                        &topic,
                        &format!("{}-inbox", key.trim_end_matches("TopicArn").to_lowercase()),
                    )
                    .await,
                )
            }
        };
        let inboxes = Inboxes {
            critical: inbox("CriticalTopicArn").await.expect("critical topic"),
            warning: inbox("WarningTopicArn").await.expect("warning topic"),
            info: inbox("InfoTopicArn").await.expect("info topic"),
            chat: inbox("ChatTopicArn").await,
        };
        // The on-call phone gets the critical alerts by SMS (e-mail is the template's own
        // subscription, AlertEmail).
        aws_sdk_sns::Client::new(&admin)
            .subscribe()
            .topic_arn(stack.output("CriticalTopicArn"))
            .protocol("sms")
            .endpoint(ONCALL_PHONE)
            .send()
            .await
            .map_err(|e| format!("Subscribe sms: {e}"))?;
        Ok(World {
            acct,
            admin,
            stack,
            operator,
            inboxes,
        })
    }

    /// A stack update, as `sam deploy` after a change: `params` replace the previous values;
    /// `build` names the build (a new one is a code change: a new version goes through
    /// CodeDeploy).
    pub async fn update(
        &mut self,
        template: &Template,
        params: &[(&str, &str)],
        build: Option<&str>,
    ) -> Stack {
        let stack = self.acct.deploy_build(STACK, template, params, build).await;
        if stack.succeeded() {
            self.stack = stack.clone();
        }
        stack
    }

    /// A physical name by logical id (e.g. `KillSwitchFunction`).
    pub fn name(&self, logical_id: &str) -> String {
        self.stack.physical(logical_id)
    }

    /// Invokes one of the stack's functions as the on-call engineer (operator policy).
    pub async fn invoke_as_operator(
        &self,
        logical_id: &str,
        payload: &Value,
    ) -> Result<Value, String> {
        invoke(&self.operator, &self.name(logical_id), None, payload).await
    }

    pub async fn reserved_concurrency(&self) -> Option<i32> {
        aws_sdk_lambda::Client::new(&self.admin)
            .get_function_concurrency()
            .function_name(self.name("GuardedFunction"))
            .send()
            .await
            .ok()
            .and_then(|o| o.reserved_concurrent_executions)
    }

    /// The state of the guarded function's schedule (`ENABLED`, `DISABLED`; `?` when it
    /// cannot be read).
    pub async fn schedule_state(&self) -> String {
        aws_sdk_scheduler::Client::new(&self.admin)
            .get_schedule()
            .group_name(STACK)
            .name(format!("{STACK}-guarded"))
            .send()
            .await
            .ok()
            .and_then(|s| s.state.map(|s| s.as_str().to_string()))
            .unwrap_or_else(|| "?".into())
    }

    /// The version the alias `live` points at, and its extra routing weights.
    pub async fn live(&self) -> (String, BTreeMap<String, f64>) {
        live_alias(&self.admin, &self.name("GuardedFunction")).await
    }

    /// Every deployment of the guarded function's group, oldest first.
    pub async fn deployments(&self) -> Vec<DeploymentRecord> {
        let cd = aws_sdk_codedeploy::Client::new(&self.admin);
        let ids = cd
            .list_deployments()
            .application_name(self.stack.output("ApplicationName"))
            .deployment_group_name(self.stack.output("DeploymentGroup"))
            .send()
            .await
            .map(|o| o.deployments.unwrap_or_default())
            .unwrap_or_default();
        let mut out = Vec::new();
        for id in ids {
            let Ok(got) = cd.get_deployment().deployment_id(&id).send().await else {
                continue;
            };
            let Some(info) = got.deployment_info else {
                continue;
            };
            out.push((
                info.create_time
                    .map(|t| t.as_secs_f64())
                    .unwrap_or_default(),
                DeploymentRecord {
                    id,
                    creator: info
                        .creator
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_default(),
                    status: info
                        .status
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    error: info.error_information.and_then(|e| e.message),
                    rollback_of: info
                        .rollback_info
                        .and_then(|r| r.rollback_triggering_deployment_id),
                },
            ));
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out.into_iter().map(|(_, d)| d).collect()
    }

    /// The alias weights over (scaled) time of a deployment, as the emulator recorded them.
    pub async fn timeline(&self, deployment_id: &str) -> Value {
        self.acct.control.timeline(deployment_id).await
    }

    /// SNS notifications that reached an inbox since the last read (drained).
    pub async fn read_inbox(&self, queue_url: &str) -> Vec<Value> {
        notifications(&self.admin, queue_url).await
    }

    /// Calls IAM denied in this account: `{"principal","action","resource","message",...}`.
    pub async fn denials(&self) -> Vec<Value> {
        match self.acct.control.get("/_ext/iam/denials").await {
            Value::Array(items) => items,
            _ => Vec::new(),
        }
    }

    /// Waits until `check` holds (polling every 200 ms) or `limit` passes; returns whether
    /// it held.
    pub async fn wait_for<F, Fut>(&self, limit: Duration, mut check: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let until = std::time::Instant::now() + limit;
        loop {
            if check().await {
                return true;
            }
            if std::time::Instant::now() > until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Invokes `function` (synchronously) with `cfg`'s credentials; Err carries the API error or
/// the function's error payload.
pub async fn invoke(
    cfg: &SdkConfig,
    function: &str,
    qualifier: Option<&str>,
    payload: &Value,
) -> Result<Value, String> {
    let out = aws_sdk_lambda::Client::new(cfg)
        .invoke()
        .function_name(function)
        .set_qualifier(qualifier.map(str::to_string))
        .payload(Blob::new(payload.to_string()))
        .send()
        .await
        .map_err(|e| aws_smithy_types::error::display::DisplayErrorContext(&e).to_string())?;
    let body = out.payload.map(Blob::into_inner).unwrap_or_default();
    let value: Value = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into()));
    match out.function_error {
        Some(kind) => Err(format!("{function} returned a {kind} error: {value}")),
        None => Ok(value),
    }
}
