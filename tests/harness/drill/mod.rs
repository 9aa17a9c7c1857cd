//! The rollout drill: `template.yaml`, deployed into the local AWS emulator the way `sam
//! deploy` deploys it, then a scripted incident played against it. `make drill` prints it as
//! it goes; `tests/tests/drill.rs` runs the same drill and asserts every step.
//!
//! Nothing is fed by hand: the drill deploys builds, lets the schedule tick and time pass,
//! and acts as the on-call engineer would (through the operator policy). CodeDeploy runs the
//! hooks and shifts traffic, alarms breach from the guarded function's own metrics,
//! EventBridge and SNS deliver to the fan-out, and every verdict is read from what the
//! emulator recorded.

pub mod existing;
mod report;
mod steps;

use crate::{STACK, Template, TestAccount, World};

/// One second here stands for 1 / TIME_SCALE seconds on AWS (the canary's 5 minutes, the
/// alarms' 5-minute periods, Lambda's async retry waits, CodeDeploy's hook timeout). Function
/// timeouts and deadlines stay real.
pub const TIME_SCALE: f64 = 0.01;

/// The drill's parameters: every condition of the template on (an e-mail subscription, a chat
/// topic, auto-halt on the errors alarm).
pub const PARAMETERS: [(&str, &str); 3] = [
    ("AlertEmail", crate::ONCALL_EMAIL),
    ("ChatNotifications", "enabled"),
    ("HaltOnAlarms", "rollout-guardian-guarded-errors"),
];

/// A step's verdict, with its evidence (Ok) or what misbehaved (Err).
pub struct StepResult {
    pub name: &'static str,
    pub outcome: Result<String, String>,
}

/// What a run of the drill ended with.
pub struct DrillRun {
    pub steps: Vec<StepResult>,
    /// Where the function processes' logs are.
    pub logs: std::path::PathBuf,
}

impl DrillRun {
    /// A run that ended at its deploy: one failed step.
    fn undeployed(name: &'static str, failure: String, logs: std::path::PathBuf) -> DrillRun {
        println!("\nFAIL {name}:\n{failure}");
        let step = StepResult {
            name,
            outcome: Err(failure),
        };
        DrillRun {
            steps: vec![step],
            logs,
        }
    }

    /// `step: what misbehaved`, for every step that did.
    pub fn misbehaved(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| s.outcome.as_ref().err().map(|e| format!("{}: {e}", s.name)))
            .collect()
    }
}

/// Prints a step's verdict as the drill goes, and keeps it.
fn verdict(name: &'static str, outcome: Result<String, String>) -> StepResult {
    match &outcome {
        Ok(evidence) => println!("PASS {name}: {evidence}\n"),
        Err(e) => println!("FAIL {name}: {e}\n"),
    }
    StepResult { name, outcome }
}

/// Deploys the stack into `acct` and plays every step, printing as it goes. A failed deploy
/// is the first (and only) step's failure.
pub async fn run(acct: TestAccount) -> DrillRun {
    acct.control.scale_time(TIME_SCALE).await;
    println!(
        "deploying template.yaml as stack {STACK} into account {} (sam deploy: package, SAM transform, CloudFormation) ...",
        acct.id
    );
    let logs = acct.log_dir.join(&acct.id);
    let world = match World::deploy(acct, &Template::Repository, &PARAMETERS).await {
        Ok(world) => world,
        Err(failure) => return DrillRun::undeployed("deploy template.yaml", failure, logs),
    };
    report::stack_summary(&world).await;
    let mut drill = steps::Drill::new(world);
    let mut steps = drill.run_all().await;
    steps.push(report::least_privilege(&drill.world).await);
    DrillRun { steps, logs }
}
