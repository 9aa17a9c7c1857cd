//! Test harness: the local AWS emulator (moto server with the extension in
//! `tests/moto_ext/server.py`), one isolated account per test, and small helpers to
//! provision resources and read what reached them.
//!
//! The emulator is installed into `.venv/moto` on first use, started once per test binary
//! on a free loopback port, and exits with the test process. Tests run in parallel; each
//! takes a fresh [`TestAccount`] so their state never mixes.

mod control;
pub mod drill;
mod emulator;
mod functions;
mod principals;
mod provision;
mod stack;
mod world;

pub use control::Control;
pub use emulator::{
    Emulator, emulator, emulator_for, emulator_log_dir, emulator_python, python_venv,
    workspace_root,
};
pub use functions::{FUNCTION_CRATES, build_functions, code_dir};
pub use provision::*;
pub use stack::{Stack, StackResource, Template};
pub use world::{
    DeploymentRecord, Inboxes, ONCALL_EMAIL, ONCALL_PHONE, STACK, World, invoke, subscribe_queue,
};

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

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
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let emulator = emulator_for(n as usize);
        let id = format!("{:06}{:06}", std::process::id() % 1_000_000, n);
        TestAccount {
            control: Control::new(&emulator.url, &id),
            endpoint: emulator.url.clone(),
            log_dir: emulator.log_dir.clone(),
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
