//! The rollout drill: the whole guardian, end to end, against the local AWS emulator.
//!
//! Provisions the stack's resources in moto (with the tests/moto_ext extension), runs every
//! function as a real Lambda runtime process under `cargo lambda watch`, and plays a
//! scripted incident. Each step prints a verdict and its evidence; the run ends with a
//! summary table and exits non-zero if any step misbehaved. Run it with `make drill`.

mod runtime;
mod stack;
mod steps;

use std::process::ExitCode;

use e2e::{TestAccount, workspace_root};
use runtime::{LocalLambda, build_functions, ensure_cargo_lambda};

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
    let cargo_lambda = match ensure_cargo_lambda(&root) {
        Ok(bin) => bin,
        Err(e) => {
            eprintln!("FAIL setup: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("starting the local AWS emulator (moto + tests/moto_ext) ...");
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    println!(
        "provisioning the stack's resources in account {} ...",
        acct.id
    );
    let stack = stack::provision(&acct, &cfg).await;

    let env = steps::function_env(&acct, &stack);
    let good = match LocalLambda::start(&root, &cargo_lambda, "guardian", &env) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("FAIL runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The bad build: same binary, the switch a broken release would flip.
    let mut bad_env = env.clone();
    bad_env.push(("FAILURE_MODE".into(), "fail".into()));
    bad_env.push(("AWS_LAMBDA_FUNCTION_VERSION".into(), "3".into()));
    let bad = match LocalLambda::start(&root, &cargo_lambda, "bad-build", &bad_env) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("FAIL runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "functions served by cargo lambda watch at {} (bad build at {})\n",
        good.url, bad.url
    );

    let drill = steps::Drill::new(acct, cfg, stack, &good, &bad).await;
    let results = drill.run_all().await;

    println!("\n{:<4} {:<44} {}", "", "step", "verdict");
    let mut failed = 0;
    for (i, r) in results.iter().enumerate() {
        let verdict = match &r.outcome {
            Ok(_) => "PASS".to_string(),
            Err(e) => {
                failed += 1;
                format!("FAIL  {e}")
            }
        };
        println!("{:<4} {:<44} {}", i + 1, r.name, verdict);
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
