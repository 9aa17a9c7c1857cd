//! The rollout drill: the whole guardian, end to end, against the local AWS emulator.
//!
//! Provisions the stack's resources in moto (with the tests/moto_ext extension), runs every
//! function as a real Lambda runtime process (see `runtime`), and plays a
//! scripted incident. Each step prints a verdict and its evidence; the run ends with a
//! summary table and exits non-zero if any step misbehaved. Run it with `make drill`.

mod runtime;
mod stack;
mod steps;

use std::process::ExitCode;

use e2e::{TestAccount, workspace_root};
use runtime::{LocalLambda, build_functions};

pub struct StepResult {
    pub name: &'static str,
    pub outcome: Result<String, String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let root = workspace_root();
    println!("rollout drill: building the functions (debug) ...");
    if let Err(e) = build_functions(&root) {
        eprintln!("FAIL build: {e}");
        return ExitCode::FAILURE;
    }
    println!("starting the local AWS emulator (moto + tests/moto_ext) ...");
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    println!(
        "provisioning the stack's resources in account {} ...",
        acct.id
    );
    let stack = stack::provision(&acct, &cfg).await;

    let env = steps::function_env(&acct, &stack);
    let with = |extra: &[(&str, &str)]| {
        let mut e = env.clone();
        e.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        e
    };
    let mut functions = Vec::new();
    for (binary, instance, env) in [
        ("pre-traffic-hook", "pre-traffic-hook", with(&[])),
        ("alarm-fanout", "alarm-fanout", with(&[])),
        ("dlq-inspector", "dlq-inspector", with(&[])),
        ("kill-switch", "kill-switch", with(&[])),
        // The guarded function's good build (versions 1 and 2) and its bad build (3):
        // same binary, the switch a broken release would flip.
        (
            "sample-target",
            "trading-bot-good",
            with(&[("AWS_LAMBDA_FUNCTION_VERSION", "2")]),
        ),
        (
            "sample-target",
            "trading-bot-bad",
            with(&[
                ("AWS_LAMBDA_FUNCTION_VERSION", "3"),
                ("FAILURE_MODE", "fail"),
            ]),
        ),
    ] {
        match LocalLambda::start(&root, binary, instance, &env).await {
            Ok(l) => functions.push((instance, l)),
            Err(e) => {
                eprintln!("FAIL runtime: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("functions running as Lambda runtime processes (logs in target/drill/)\n");

    let drill = steps::Drill::new(acct, cfg, stack, &functions).await;
    let results = drill.run_all().await;

    println!("\n{:<4} {:<46} verdict", "", "step");
    let mut failed = 0;
    for (i, r) in results.iter().enumerate() {
        let verdict = match &r.outcome {
            Ok(_) => "PASS".to_string(),
            Err(e) => {
                failed += 1;
                format!("FAIL  {}", guardian::telemetry::preview(e, 160))
            }
        };
        println!("{:<4} {:<46} {}", i + 1, r.name, verdict);
    }
    if failed == 0 {
        println!(
            "\ndrill passed: {} of {} steps behaved",
            results.len(),
            results.len()
        );
        ExitCode::SUCCESS
    } else {
        println!(
            "\ndrill FAILED: {failed} of {} steps misbehaved",
            results.len()
        );
        ExitCode::FAILURE
    }
}
