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
}
