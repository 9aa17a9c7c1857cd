//! `SCHEDULE_NAMES` entries: EventBridge Scheduler schedules as `group/name`, `name` or the
//! schedule's ARN (`arn:<partition>:scheduler:<region>:<account>:schedule/<group>/<name>`,
//! the resource type `schedule` in the Service Authorization Reference, EventBridge Scheduler).

use std::fmt;

use crate::config::ConfigError;
use crate::per_function;

pub const SCHEDULE_NAMES: &str = "SCHEDULE_NAMES";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRef {
    /// `None`: the `default` group.
    pub group: Option<String>,
    pub name: String,
}

impl ScheduleRef {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let bad = |problem: &str| {
            ConfigError::malformed(
                SCHEDULE_NAMES,
                format!("{raw:?} {problem}"),
                "use a comma-separated list of schedules, each `name` (default group), `group/name` or the schedule's ARN",
            )
        };
        let Some(raw) = per_function::resource_of(raw, "scheduler", "schedule") else {
            return Err(bad("is not a schedule ARN"));
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        let (group, name) = match raw.split_once('/') {
            Some((g, n)) => (Some(g), n),
            None => (None, raw),
        };
        if !valid(name) || group.is_some_and(|g| !valid(g)) {
            return Err(bad("is not a schedule name"));
        }
        Ok(ScheduleRef {
            group: group.map(str::to_string),
            name: name.to_string(),
        })
    }
}

impl fmt::Display for ScheduleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.group.as_deref().unwrap_or("default"),
            self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_and_without_group() {
        let plain = ScheduleRef::parse("trading-tick").unwrap();
        assert_eq!(plain.group, None);
        assert_eq!(plain.to_string(), "default/trading-tick");
        let grouped = ScheduleRef::parse("bots/tick_1").unwrap();
        assert_eq!(grouped.group.as_deref(), Some("bots"));
        assert_eq!(grouped.name, "tick_1");
    }

    #[test]
    fn schedule_arns() {
        let arn = ScheduleRef::parse("arn:aws:scheduler:eu-west-1:123456789012:schedule/bots/tick")
            .unwrap();
        assert_eq!(arn, ScheduleRef::parse("bots/tick").unwrap());
    }

    #[test]
    fn bad_names_name_the_variable() {
        for raw in [
            "a/b/c",
            "/x",
            "x/",
            "has space",
            "arn:aws:sns:eu-west-1:123456789012:schedule/a/b",
        ] {
            let err = ScheduleRef::parse(raw).unwrap_err().to_string();
            assert!(err.contains(SCHEDULE_NAMES), "{raw}: {err}");
        }
    }
}
