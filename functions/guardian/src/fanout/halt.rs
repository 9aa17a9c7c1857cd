//! Auto-halt: an alarm listed in `HALT_ON_ALARMS` entering ALARM stops trading through the
//! kill switch (DESIGN §5), once per transition.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::alert::Alert;
use super::glob::{Glob, any_matches};
use crate::guarded::GuardedFunctions;

/// How much of the alarm's reason goes into the kill switch's `reason` (it is recorded as a
/// Lambda tag value, which holds at most 256 characters).
pub const MAX_REASON_CHARS: usize = 160;

/// The alerts that must halt trading: matching alarms that have just entered ALARM (a
/// repeated ALARM -> ALARM notification is not a new transition). The same transition
/// delivered twice in one batch (e.g. via SNS and EventBridge) halts once.
/// Returns their indices into `alerts`.
pub fn alerts_to_halt(alerts: &[Alert], halt_on: &[Glob]) -> Vec<usize> {
    let mut seen = HashSet::new();
    alerts
        .iter()
        .enumerate()
        .filter(|(_, a)| a.entered_alarm() && any_matches(halt_on, &a.name))
        .filter(|(_, a)| seen.insert((a.name.clone(), a.time.clone())))
        .map(|(i, _)| i)
        .collect()
}

/// The kill switch's `stop` request for `alert`.
pub fn stop_request(alert: &Alert, guarded: &GuardedFunctions) -> Value {
    let mut request = json!({
        "action": "stop",
        "reason": format!(
            "auto-halt: alarm {} entered ALARM: {}",
            alert.name,
            shorten(&alert.reason, MAX_REASON_CHARS)
        ),
        "requested_by": "alarm-fanout",
    });
    // The guarded function the alarm watches; otherwise the kill switch stops its only one
    // (or, guarding several, refuses by name).
    if let Some(function) = alert.function.as_deref().and_then(|f| guarded.resolve(f)) {
        request["function"] = Value::String(function);
    }
    request
}

fn shorten(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max - 3).collect();
    cut.push_str("...");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fanout::alert::Source;

    fn alarm(name: &str, state: &str, previous: &str, time: &str) -> Alert {
        Alert {
            source: Source::Cloudwatch,
            name: name.into(),
            state: state.into(),
            previous_state: Some(previous.into()),
            reason: "Threshold Crossed: 1 out of the last 1 datapoints [5.0] was greater than the threshold (1.0)".into(),
            time: Some(time.into()),
            ..Alert::default()
        }
    }

    #[test]
    fn only_transitions_into_alarm_of_listed_alarms_halt() {
        let globs = [Glob::new("trading-bot-*")];
        let alerts = vec![
            alarm("trading-bot-errors", "ALARM", "OK", "t1"),
            alarm("trading-bot-errors", "ALARM", "OK", "t1"), // same transition again
            alarm("trading-bot-throttles", "ALARM", "ALARM", "t2"), // still in ALARM
            alarm("trading-bot-dlq", "OK", "ALARM", "t3"),
            alarm("other-errors", "ALARM", "OK", "t4"),
            alarm("trading-bot-errors", "ALARM", "INSUFFICIENT_DATA", "t5"),
        ];
        let halts: Vec<_> = alerts_to_halt(&alerts, &globs)
            .into_iter()
            .map(|i| alerts[i].time.clone().unwrap())
            .collect();
        assert_eq!(halts, vec!["t1", "t5"]);
    }

    #[test]
    fn stop_request_names_the_alarm_and_a_short_reason() {
        let mut a = alarm("trading-bot-errors", "ALARM", "OK", "t");
        a.reason = format!("line one\nline two {}", "x".repeat(500));
        let req = stop_request(&a, &GuardedFunctions::new(["trading-bot"]));
        assert_eq!(req["action"], "stop");
        assert!(req.get("function").is_none(), "the alarm names no function");
        assert_eq!(req["requested_by"], "alarm-fanout");
        let reason = req["reason"].as_str().unwrap();
        assert!(
            reason.starts_with(
                "auto-halt: alarm trading-bot-errors entered ALARM: line one line two x"
            )
        );
        assert!(
            reason.ends_with("...") && reason.chars().count() < 256,
            "{reason}"
        );
    }

    #[test]
    fn stop_request_names_the_guarded_function_the_alarm_watches() {
        let guarded = GuardedFunctions::new([
            "arn:aws:lambda:eu-west-1:123456789012:function:trading-bot",
            "pricing-bot",
        ]);
        let mut a = alarm("pricing-bot-errors", "ALARM", "OK", "t");
        a.function = Some("pricing-bot".into());
        assert_eq!(stop_request(&a, &guarded)["function"], "pricing-bot");
        // Another function's alarm: left to the kill switch (its only function, or refused).
        a.function = Some("orders-api".into());
        assert!(stop_request(&a, &guarded).get("function").is_none());
    }
}
