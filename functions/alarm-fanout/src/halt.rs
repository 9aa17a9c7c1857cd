//! Auto-halt: asking the kill switch to stop trading for the alarms in `HALT_ON_ALARMS`
//! that just entered ALARM. Which alerts halt is the core's decision; this is the invoke.

use std::time::Duration;

use guardian::fanout::Alert;
use guardian::fanout::halt::{alerts_to_halt, stop_request};
use guardian_aws::deadline::Deadline;
use guardian_aws::error::AwsCallError;
use guardian_aws::lambda::Lambda;

use crate::config::Config;

/// Time kept free before the Lambda deadline when invoking the kill switch.
const HALT_DEADLINE_MARGIN: Duration = Duration::from_secs(1);

/// A kill switch invocation that failed.
#[derive(Debug)]
pub(crate) struct HaltFailure {
    pub function: String,
    pub alarm: String,
    pub source: AwsCallError,
}

#[derive(Debug, Default)]
pub(crate) struct Halts {
    /// Alerts that called for a halt.
    pub requested: usize,
    /// The first invocation that failed.
    pub failure: Option<HaltFailure>,
}

/// Invokes the kill switch (asynchronously) once per alert that halts and notes on each
/// alert what happened, so its alert says whether trading was stopped.
pub(crate) async fn halt(
    lambda: &Lambda,
    config: &Config,
    alerts: &mut [Alert],
    deadline: &Deadline,
) -> Halts {
    let to_halt = alerts_to_halt(alerts, &config.halt_on);
    let mut halts = Halts {
        requested: to_halt.len(),
        failure: None,
    };
    let Some(function) = &config.kill_switch_function else {
        return halts;
    };
    for i in to_halt {
        let alert = &mut alerts[i];
        let request = stop_request(alert, &config.guarded).to_string();
        let invoke = lambda.invoke_async(function, None, request.as_bytes());
        let note = match deadline.call(HALT_DEADLINE_MARGIN, "Invoke", invoke).await {
            Ok(()) => {
                tracing::warn!(alarm = %alert.name, kill_switch = %function, "auto-halt requested");
                format!("auto-halt: kill switch {function} asked to stop trading")
            }
            Err(e) => {
                tracing::error!(alarm = %alert.name, kill_switch = %function, error = %e, "auto-halt failed");
                let note = format!("auto-halt FAILED: kill switch {function} not invoked: {e}");
                halts.failure.get_or_insert(HaltFailure {
                    function: function.clone(),
                    alarm: alert.name.clone(),
                    source: e,
                });
                note
            }
        };
        alert.actions_taken.push(note);
    }
    halts
}
