//! `make drill`: the rollout drill (e2e::drill) with its summary table; exits non-zero naming
//! what misbehaved.

use std::process::ExitCode;

use e2e::{TestAccount, build_functions, drill};

#[tokio::main]
async fn main() -> ExitCode {
    println!("rollout drill: building the functions (debug) ...");
    if let Err(e) = build_functions(true) {
        eprintln!("FAIL build: {e}");
        return ExitCode::FAILURE;
    }
    // `make drill SCENARIO=existing`: the guardian-only stack guarding another stack's bots.
    let scenario = std::env::var("SCENARIO").unwrap_or_default();
    println!("starting the local AWS emulator (moto + tests/moto_ext) ...");
    let run = match scenario.as_str() {
        "" | "all-in-one" => drill::run(TestAccount::new()).await,
        "existing" => drill::existing::run(TestAccount::new()).await,
        other => {
            eprintln!(
                "FAIL: SCENARIO={other:?} is not a drill; use all-in-one (the default) or existing"
            );
            return ExitCode::FAILURE;
        }
    };

    println!("\n{:<4} {:<62} verdict", "", "step");
    let mut failed = 0;
    for (i, r) in run.steps.iter().enumerate() {
        let verdict = match &r.outcome {
            Ok(_) => "PASS".to_string(),
            Err(e) => {
                failed += 1;
                format!("FAIL  {}", guardian::preview::preview(e, 200))
            }
        };
        println!("{:<4} {:<62} {}", i + 1, r.name, verdict);
    }
    let total = run.steps.len();
    println!("\nlogs of every function process: {}", run.logs.display());
    if failed == 0 {
        println!("drill passed: {total} of {total} steps behaved");
        ExitCode::SUCCESS
    } else {
        println!("drill FAILED: {failed} of {total} steps misbehaved");
        ExitCode::FAILURE
    }
}
