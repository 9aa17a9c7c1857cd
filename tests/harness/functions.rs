//! Lambda functions: the binaries the local stack runs (built once, debug, per process, as
//! `sam build` would build them for a deployment), and functions a test creates in its
//! account, scripted or running real code (the sample target), with their versions, alias,
//! concurrency and permissions.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use aws_config::SdkConfig;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::operation::update_function_configuration::builders::UpdateFunctionConfigurationFluentBuilder;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{DeadLetterConfig, Environment, FunctionCode, Runtime};

use crate::{function_role, workspace_root};

/// The crates whose binaries template.yaml deploys (`BuildProperties.Binary`).
pub const FUNCTION_CRATES: [&str; 5] = [
    "pre-traffic-hook",
    "alarm-fanout",
    "dlq-inspector",
    "kill-switch",
    "sample-target",
];

/// Where the built binaries are: the code directory `sam_deploy.py` packages from.
pub fn code_dir() -> PathBuf {
    workspace_root().join("target/debug")
}

/// Builds the function binaries once per process (cargo's own lock orders concurrent test
/// binaries), printing cargo's progress lines when `verbose`. Err names the failure.
pub fn build_functions(verbose: bool) -> Result<(), String> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT.get_or_init(|| run_cargo_build(verbose)).clone()
}

fn run_cargo_build(verbose: bool) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--bins"]);
    for krate in FUNCTION_CRATES {
        cmd.args(["-p", krate]);
    }
    let mut child = cmd
        .current_dir(workspace_root())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    let mut errors = Vec::new();
    if let Some(err) = child.stderr.take() {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let line = line.trim().to_string();
            if verbose
                && (line.starts_with("Compiling")
                    || line.starts_with("error")
                    || line.starts_with("Finished"))
            {
                println!("  | {line}");
            }
            if line.starts_with("error") {
                errors.push(line);
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("cargo build of the functions failed: {}", errors.join("; ")))
}

// ------------------------------------------------------------- functions in a test account

/// A function to create: scripted (an empty `bootstrap`: the emulator answers for it, from
/// queued results or routes) or running `bootstrap` as its code behind the Runtime API.
#[derive(Debug, Clone, Default)]
pub struct FunctionSpec<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub bootstrap: String,
    pub env: &'a [(&'a str, &'a str)],
    /// Seconds (Lambda's default when None).
    pub timeout: Option<i32>,
    /// The dead-letter queue's ARN.
    pub dlq: Option<&'a str>,
}

/// CreateFunction of `spec`: its ARN, or the refusal as `Code: message`.
pub async fn create_function(cfg: &SdkConfig, spec: &FunctionSpec<'_>) -> Result<String, String> {
    let mut req = aws_sdk_lambda::Client::new(cfg)
        .create_function()
        .function_name(spec.name)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(spec.role)
        .set_timeout(spec.timeout)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(package(&spec.bootstrap)))
                .build(),
        );
    if !spec.env.is_empty() {
        let mut vars = Environment::builder();
        for (k, v) in spec.env {
            vars = vars.variables(*k, *v);
        }
        req = req.environment(vars.build());
    }
    if let Some(dlq) = spec.dlq {
        req = req.dead_letter_config(DeadLetterConfig::builder().target_arn(dlq).build());
    }
    match req.send().await {
        Ok(out) => Ok(out.function_arn.expect("function ARN")),
        Err(e) => {
            let e = e.into_service_error();
            Err(format!(
                "{}: {}",
                e.code().unwrap_or("?"),
                e.message().unwrap_or("")
            ))
        }
    }
}

/// A function running the built sample target (`FAILURE_MODE` picks how it misbehaves), as
/// `sam build` packages it. Returns its ARN.
pub async fn runnable_function(
    cfg: &SdkConfig,
    name: &str,
    role: &str,
    env: &[(&str, &str)],
    timeout: i32,
) -> String {
    let spec = FunctionSpec {
        name,
        role,
        bootstrap: sample_target().await,
        env,
        timeout: Some(timeout),
        dlq: None,
    };
    create_function(cfg, &spec)
        .await
        .unwrap_or_else(|e| panic!("CreateFunction {name}: {e}"))
}

/// The `bootstrap` of a function running the sample target (target/debug/sample-target),
/// built first when needed.
pub async fn sample_target() -> String {
    tokio::task::spawn_blocking(|| build_functions(false))
        .await
        .expect("the build ran")
        .unwrap_or_else(|e| panic!("{e}"));
    let binary = code_dir().join("sample-target");
    format!("#!/bin/sh\nexec {} \"$@\"\n", binary.display())
}

/// A scripted function `name` with `versions` published versions (1..=versions, each a
/// configuration change) and, when `versions > 0`, an alias `live` on version 1. Returns its
/// ARN.
pub async fn guarded_function(cfg: &SdkConfig, name: &str, versions: u32) -> String {
    let spec = FunctionSpec {
        name,
        role: &function_role(cfg).await,
        ..FunctionSpec::default()
    };
    let arn = create_function(cfg, &spec)
        .await
        .unwrap_or_else(|e| panic!("CreateFunction {name}: {e}"));
    for v in 1..=versions {
        publish_build(cfg, name, &format!("build {v}")).await;
    }
    if versions > 0 {
        aws_sdk_lambda::Client::new(cfg)
            .create_alias()
            .function_name(name)
            .name("live")
            .function_version("1")
            .send()
            .await
            .expect("CreateAlias");
    }
    arn
}

/// Sets `FAILURE_MODE` on `$LATEST` and publishes it: the new version.
pub async fn publish(cfg: &SdkConfig, name: &str, failure_mode: &str) -> String {
    let env = Environment::builder()
        .variables("FAILURE_MODE", failure_mode)
        .build();
    let change = aws_sdk_lambda::Client::new(cfg)
        .update_function_configuration()
        .function_name(name)
        .environment(env);
    publish_after(cfg, name, change).await
}

/// A new build of `name` (its description set to `build`), published: the new version.
pub async fn publish_build(cfg: &SdkConfig, name: &str, build: &str) -> String {
    let change = aws_sdk_lambda::Client::new(cfg)
        .update_function_configuration()
        .function_name(name)
        .description(build);
    publish_after(cfg, name, change).await
}

/// `change` made to `$LATEST`, then published (Lambda publishes a version only for a change).
async fn publish_after(
    cfg: &SdkConfig,
    name: &str,
    change: UpdateFunctionConfigurationFluentBuilder,
) -> String {
    change.send().await.expect("UpdateFunctionConfiguration");
    aws_sdk_lambda::Client::new(cfg)
        .publish_version()
        .function_name(name)
        .send()
        .await
        .expect("PublishVersion")
        .version
        .expect("version")
}

/// PutFunctionConcurrency: `n` reserved (0 is what the kill switch's stop sets).
pub async fn reserve_concurrency(cfg: &SdkConfig, name: &str, n: i32) {
    aws_sdk_lambda::Client::new(cfg)
        .put_function_concurrency()
        .function_name(name)
        .reserved_concurrent_executions(n)
        .send()
        .await
        .expect("PutFunctionConcurrency");
}

/// The function's reserved concurrency (None: unreserved).
pub async fn reserved_concurrency(cfg: &SdkConfig, name: &str) -> Option<i32> {
    aws_sdk_lambda::Client::new(cfg)
        .get_function_concurrency()
        .function_name(name)
        .send()
        .await
        .expect("GetFunctionConcurrency")
        .reserved_concurrent_executions
}

/// The kill switch's stop record on `function`: its `guardian:*` tags (the note of the last
/// restore left out).
pub async fn stop_record(cfg: &SdkConfig, function: &str) -> HashMap<String, String> {
    aws_sdk_lambda::Client::new(cfg)
        .get_function()
        .function_name(function)
        .send()
        .await
        .expect("GetFunction")
        .tags
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k.starts_with("guardian:") && k != "guardian:last-restored-concurrency")
        .collect()
}

/// The alias `live` of `function`: its version and the additional versions' weights.
pub async fn live_alias(cfg: &SdkConfig, function: &str) -> (String, BTreeMap<String, f64>) {
    let alias = aws_sdk_lambda::Client::new(cfg)
        .get_alias()
        .function_name(function)
        .name("live")
        .send()
        .await
        .expect("GetAlias live");
    let weights = alias
        .routing_config
        .and_then(|r| r.additional_version_weights)
        .unwrap_or_default();
    (
        alias.function_version.unwrap_or_default(),
        weights.into_iter().collect(),
    )
}

/// A resource-based policy statement letting the AWS service `service` invoke `function`
/// on behalf of `source_arn`.
pub async fn permit(cfg: &SdkConfig, function: &str, service: &str, source_arn: &str) {
    aws_sdk_lambda::Client::new(cfg)
        .add_permission()
        .function_name(function)
        .statement_id(format!("from-{}", service.replace('.', "-")))
        .action("lambda:InvokeFunction")
        .principal(service)
        .source_arn(source_arn)
        .send()
        .await
        .expect("AddPermission");
}

/// A zip archive (stored, no compression) with one `bootstrap`, executable (mode 0755).
pub fn package(bootstrap: &str) -> Vec<u8> {
    let (name, data) = (b"bootstrap", bootstrap.as_bytes());
    let (crc, size) = (crc32(data), data.len() as u32);
    let mut local = vec![0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for v in [crc, size, size] {
        local.extend_from_slice(&v.to_le_bytes());
    }
    local.extend_from_slice(&(name.len() as u16).to_le_bytes());
    local.extend_from_slice(&[0, 0]);
    local.extend_from_slice(name);
    local.extend_from_slice(data);
    let mut central = vec![0x50, 0x4b, 0x01, 0x02, 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for v in [crc, size, size] {
        central.extend_from_slice(&v.to_le_bytes());
    }
    central.extend_from_slice(&(name.len() as u16).to_le_bytes());
    central.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attrs
    central.extend_from_slice(&(0o100755u32 << 16).to_le_bytes()); // unix mode rwxr-xr-x
    central.extend_from_slice(&[0; 4]); // local header offset
    central.extend_from_slice(name);
    let mut end = vec![0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0];
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&(local.len() as u32).to_le_bytes());
    end.extend_from_slice(&[0, 0]);
    [local, central, end].concat()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
