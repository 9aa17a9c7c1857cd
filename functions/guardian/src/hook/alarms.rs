//! PostTraffic: whether the rollback alarms block the deployment.

/// Why the rollback alarms block the deployment, if they do: any of them in ALARM, and any
/// configured one that does not exist (it would otherwise never protect anything).
/// `states` are the `(name, state)` pairs read for `configured`; `var` is the setting that
/// lists them, named so the operator knows what to fix.
pub fn alarm_blocker(configured: &[String], states: &[(&str, &str)], var: &str) -> Option<String> {
    let firing: Vec<&str> = states
        .iter()
        .filter(|(_, state)| *state == "ALARM")
        .map(|(name, _)| *name)
        .collect();
    let missing: Vec<&str> = configured
        .iter()
        .map(String::as_str)
        .filter(|n| !states.iter().any(|(name, _)| name == n))
        .collect();
    let mut reasons = Vec::new();
    if !firing.is_empty() {
        reasons.push(format!("rollback alarm in ALARM: {}", firing.join(", ")));
    }
    if !missing.is_empty() {
        reasons.push(format!(
            "rollback alarm not found: {} (check {var})",
            missing.join(", ")
        ));
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// The configured alarms that guard a deployment of `function` (bare name), with their
/// `(name, state)`: every alarm except those whose metric names another function. A guardian
/// guarding several functions is given all their rollback alarms; one bot's errors must not
/// fail another bot's deployment. Alarms without a function (a queue's, a composite) and
/// configured ones that were not found (they block as missing) all count.
/// `states` are `(name, state, function of its metric)`.
pub fn guarding<'a>(
    configured: &[String],
    states: &[(&'a str, &'a str, Option<&'a str>)],
    function: &str,
) -> (Vec<String>, Vec<(&'a str, &'a str)>) {
    let other = |f: Option<&str>| f.is_some_and(|f| crate::guarded::function_name(f) != function);
    let elsewhere: Vec<&str> = states
        .iter()
        .filter(|(_, _, f)| other(*f))
        .map(|(name, _, _)| *name)
        .collect();
    let names = configured
        .iter()
        .filter(|n| !elsewhere.contains(&n.as_str()))
        .cloned()
        .collect();
    let kept = states
        .iter()
        .filter(|(_, _, f)| !other(*f))
        .map(|(name, state, _)| (*name, *state))
        .collect();
    (names, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn quiet_alarms_do_not_block() {
        let states = [("errors", "OK"), ("latency", "INSUFFICIENT_DATA")];
        assert_eq!(
            alarm_blocker(&names(&["errors", "latency"]), &states, "ROLLBACK_ALARMS"),
            None
        );
    }

    #[test]
    fn an_alarm_in_alarm_blocks_by_name() {
        let states = [
            ("errors", "ALARM"),
            ("latency", "OK"),
            ("throttles", "ALARM"),
        ];
        let why = alarm_blocker(
            &names(&["errors", "latency", "throttles"]),
            &states,
            "ROLLBACK_ALARMS",
        );
        assert_eq!(
            why.as_deref(),
            Some("rollback alarm in ALARM: errors, throttles")
        );
    }

    #[test]
    fn a_missing_alarm_blocks_and_names_the_setting() {
        let why = alarm_blocker(
            &names(&["errors", "gone"]),
            &[("errors", "ALARM")],
            "ROLLBACK_COMPOSITE_ALARMS",
        );
        assert_eq!(
            why.as_deref(),
            Some(
                "rollback alarm in ALARM: errors; rollback alarm not found: gone (check ROLLBACK_COMPOSITE_ALARMS)"
            )
        );
        let none_exist = alarm_blocker(&names(&["a", "b"]), &[], "ROLLBACK_ALARMS");
        assert_eq!(
            none_exist.as_deref(),
            Some("rollback alarm not found: a, b (check ROLLBACK_ALARMS)")
        );
    }

    #[test]
    fn another_functions_alarm_does_not_guard_this_deployment() {
        let configured = names(&["bot-errors", "pricer-errors", "dlq-depth", "gone"]);
        let states = [
            ("bot-errors", "OK", Some("bot")),
            ("pricer-errors", "ALARM", Some("pricer")),
            ("dlq-depth", "OK", None),
        ];
        let (names_for_bot, bot_states) = guarding(&configured, &states, "bot");
        assert_eq!(names_for_bot, ["bot-errors", "dlq-depth", "gone"]);
        assert_eq!(
            alarm_blocker(&names_for_bot, &bot_states, "ROLLBACK_ALARMS").as_deref(),
            Some("rollback alarm not found: gone (check ROLLBACK_ALARMS)")
        );
        let (names_for_pricer, pricer_states) = guarding(&configured, &states, "pricer");
        let why = alarm_blocker(&names_for_pricer, &pricer_states, "ROLLBACK_ALARMS").unwrap();
        assert!(
            why.contains("rollback alarm in ALARM: pricer-errors"),
            "{why}"
        );
    }
}
