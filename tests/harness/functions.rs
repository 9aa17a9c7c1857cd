//! The function binaries the local stack runs: built once (debug) per process, as
//! `sam build` would build them for a deployment.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::workspace_root;

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
