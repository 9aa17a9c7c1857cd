//! The rollout drill: `template.yaml`, deployed into the local AWS emulator the way `sam
//! deploy` deploys it, then a scripted incident played against it.
//!
//! Nothing is fed by hand: the drill deploys builds, lets the schedule tick and time pass,
//! and acts as the on-call engineer would (through the operator policy). CodeDeploy runs the
//! hooks and shifts traffic, alarms breach from the guarded function's own metrics,
//! EventBridge and SNS deliver to the fan-out, and every verdict is read from what the
//! emulator recorded. Each step prints its evidence; the run ends with the least-privilege
//! report and a summary table, and exits non-zero naming what misbehaved.

mod report;
mod steps;

use std::process::ExitCode;

use e2e::{STACK, Template, TestAccount, World, build_functions};

/// One second here stands for 1 / TIME_SCALE seconds on AWS (the canary's 5 minutes, the
/// alarms' 5-minute periods, Lambda's async retry waits, CodeDeploy's hook timeout). Function
/// timeouts and deadlines stay real.
pub const TIME_SCALE: f64 = 0.01;

/// The drill's parameters: every condition of the template on (an e-mail subscription, a chat
/// topic, auto-halt on the errors alarm).
pub const PARAMETERS: [(&str, &str); 3] = [
    ("AlertEmail", e2e::ONCALL_EMAIL),
    ("ChatNotifications", "enabled"),
    ("HaltOnAlarms", "rollout-guardian-guarded-errors"),
];

pub struct StepResult {
    pub name: &'static str,
    pub outcome: Result<String, String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    println!("rollout drill: building the functions (debug) ...");
    if let Err(e) = build_functions(true) {
        eprintln!("FAIL build: {e}");
        return ExitCode::FAILURE;
    }
    println!("starting the local AWS emulator (moto + tests/moto_ext) ...");
    let acct = TestAccount::new();
    acct.control
        .post("/_ext/clock", serde_json::json!({"scale": TIME_SCALE}))
        .await;
    println!(
        "deploying template.yaml as stack {STACK} into account {} (sam deploy: package, SAM transform, CloudFormation) ...",
        acct.id
    );
    let world = match World::deploy(acct, &Template::Repository, &PARAMETERS).await {
        Ok(world) => world,
        Err(failure) => {
            println!("\nFAIL deploy of template.yaml:\n{failure}");
            println!("\ndrill FAILED: the stack did not deploy");
            return ExitCode::FAILURE;
        }
    };
    report::stack_summary(&world).await;

    let mut drill = steps::Drill::new(world);
    let results = drill.run_all().await;
    let least_privilege = report::least_privilege(&drill.world).await;

    println!("\n{:<4} {:<58} verdict", "", "step");
    let mut failed = 0;
    let all = results.iter().chain(std::iter::once(&least_privilege));
    for (i, r) in all.enumerate() {
        let verdict = match &r.outcome {
            Ok(_) => "PASS".to_string(),
            Err(e) => {
                failed += 1;
                format!("FAIL  {}", guardian::telemetry::preview(e, 200))
            }
        };
        println!("{:<4} {:<58} {}", i + 1, r.name, verdict);
    }
    let total = results.len() + 1;
    println!(
        "\nlogs of every function process: {}",
        report::log_dir(&drill.world).display()
    );
    if failed == 0 {
        println!("drill passed: {total} of {total} steps behaved");
        ExitCode::SUCCESS
    } else {
        println!("drill FAILED: {failed} of {total} steps misbehaved");
        ExitCode::FAILURE
    }
}
