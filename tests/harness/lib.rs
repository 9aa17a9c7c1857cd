//! Test harness: the local AWS emulator (moto server with the extension in
//! `tests/moto_ext/server.py`), one isolated account per test, and one helper per concept
//! the tests set up or read: functions (scripted or running real code), IAM roles, CodeDeploy
//! groups and deployments, alarms, EventBridge rules, queue and topic inboxes; each
//! function's real handler in a world of its own ([`handlers`]); the deployed stack
//! ([`World`]) and the drill; `template.yaml` as CloudFormation receives it ([`translated`]).
//!
//! The emulator is installed into `.venv/moto` on first use, started once per test binary
//! on a free loopback port, and exits with the test process. Tests run in parallel; each
//! takes a fresh [`TestAccount`] so their state never mixes.

mod alarms;
mod codedeploy;
mod control;
pub mod drill;
mod emulator;
mod eventbridge;
mod functions;
pub mod handlers;
mod iam;
mod inboxes;
mod principals;
mod stack;
pub mod translated;
mod world;

pub use alarms::{alarm_history, errors_alarm, put_errors, set_alarm_state};
pub use codedeploy::{
    AppSpec, Rollout, answer_hook, appspec, deployment, deployment_group, deployment_info,
    finished, hook_event, try_deployment,
};
pub use control::Control;
pub use emulator::{
    Emulator, emulator, emulator_for, emulator_log_dir, emulator_python, python_venv,
    workspace_root,
};
pub use eventbridge::{eventbridge, rule};
pub use functions::{
    FUNCTION_CRATES, FunctionSpec, build_functions, code_dir, create_function, guarded_function,
    live_alias, package, permit, publish, publish_build, reserve_concurrency, reserved_concurrency,
    runnable_function, sample_target, stop_record,
};
pub use iam::{
    CODEDEPLOY_FOR_LAMBDA, codedeploy_service_role, function_role, lambda_role, policy, role,
    trust, trusted_by,
};
pub use inboxes::{
    Letter, allow_sends, drain, letters, notifications, queue, queue_arn, subscribe_queue,
    topic_with_queue, visible_messages,
};
pub use stack::{Stack, StackResource, Template};
pub use world::{DeploymentRecord, Inboxes, ONCALL_EMAIL, ONCALL_PHONE, STACK, World, invoke};

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use guardian_aws::clients::{SdkSettings, loader};

pub const REGION: &str = "us-east-1";

/// One test's private slice of the emulator: its own 12-digit account id, reached with
/// credentials the extension maps to that account.
#[derive(Debug, Clone)]
pub struct TestAccount {
    pub id: String,
    pub endpoint: String,
    pub control: Control,
    /// The emulator's log directory for function processes.
    pub log_dir: std::path::PathBuf,
}

impl TestAccount {
    pub fn new() -> Self {
        let n = next_account();
        let emulator = emulator_for(n as usize);
        TestAccount::on(&emulator.url, &emulator.log_dir, n)
    }

    /// Another account on the same emulator, for what crosses accounts (an organisation's
    /// central alerts topic).
    pub fn sibling(&self) -> TestAccount {
        TestAccount::on(&self.endpoint, &self.log_dir, next_account())
    }

    fn on(endpoint: &str, log_dir: &std::path::Path, n: u32) -> Self {
        let id = format!("{:06}{:06}", std::process::id() % 1_000_000, n);
        TestAccount {
            control: Control::new(endpoint, &id),
            endpoint: endpoint.to_string(),
            log_dir: log_dir.to_path_buf(),
            id,
        }
    }

    /// The SDK configuration the functions' `main` would build (same timeouts, retries and
    /// HTTP client), pointed at the emulator as `AWS_ENDPOINT_URL` would.
    pub async fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_with(&SdkSettings::default()).await
    }

    pub async fn sdk_config_with(&self, settings: &SdkSettings) -> SdkConfig {
        loader(settings)
            .endpoint_url(&self.endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                format!("ACCT{}", self.id),
                "emulator-secret",
                None,
                None,
                "rollout-guardian-tests",
            ))
            .load()
            .await
    }

    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{REGION}:{}:{resource}", self.id)
    }

    pub fn function_arn(&self, name: &str) -> String {
        self.arn("lambda", &format!("function:{name}"))
    }

    /// The account itself as a principal (`arn:aws:iam::<id>:root`).
    pub fn root(&self) -> String {
        format!("arn:aws:iam::{}:root", self.id)
    }
}

fn next_account() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Default for TestAccount {
    fn default() -> Self {
        Self::new()
    }
}

/// A Lambda context whose deadline is `budget` from now, as the runtime would pass.
pub fn lambda_context(budget: Duration) -> lambda_runtime::Context {
    let mut ctx = lambda_runtime::Context::default();
    ctx.request_id = format!("req-{}", std::process::id());
    ctx.deadline = (std::time::SystemTime::now() + budget)
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    ctx
}

/// Polls `probe` every 50 ms until it returns `Some`, for at most `within`; panics naming
/// `what` when it never does.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A sample event of `events/` (e.g. `fanout-sns-classic-metric.json`).
pub fn sample_event(name: &str) -> serde_json::Value {
    let path = workspace_root().join("events").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is JSON: {e}", path.display()))
}
