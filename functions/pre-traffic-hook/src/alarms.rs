//! PostTraffic: reading the rollback alarms (metric and composite, each only when
//! configured); the core decides what blocks.

use guardian::hook::alarms::{alarm_blocker, guarding};
use guardian_aws::cloudwatch::{AlarmKind, CloudWatch};

use crate::config::Config;

/// Why the configured rollback alarms block the deployment of `function`, if they do (alarms
/// on another function's metric do not).
pub(crate) async fn rollback_alarm_blockers(
    cloudwatch: &CloudWatch,
    cfg: &Config,
    function: &str,
) -> Option<String> {
    let kinds = [
        (&cfg.rollback_alarms, AlarmKind::Metric, "ROLLBACK_ALARMS"),
        (
            &cfg.rollback_composite_alarms,
            AlarmKind::Composite,
            "ROLLBACK_COMPOSITE_ALARMS",
        ),
    ];
    let mut reasons = Vec::new();
    for (names, kind, var) in kinds {
        if names.is_empty() {
            continue;
        }
        let why = match cloudwatch.alarm_states(names, kind).await {
            Ok(states) => {
                let states: Vec<(&str, &str, Option<&str>)> = states
                    .iter()
                    .map(|a| (a.name.as_str(), a.state.as_str(), a.function.as_deref()))
                    .collect();
                let (names, states) = guarding(names, &states, function);
                alarm_blocker(&names, &states, var)
            }
            Err(e) => Some(format!("could not read the rollback alarms: {e}")),
        };
        reasons.extend(why);
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}
