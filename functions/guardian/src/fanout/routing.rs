//! Which alerts go out, at what severity, to which topic.

use std::str::FromStr;

use serde::Deserialize;

use super::alert::{Alert, OK, Severity, Source};
use super::glob::Glob;

/// One `SEVERITY_RULES` entry: `{"pattern": "<glob on alarm name>", "severity": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityRule {
    pub pattern: String,
    pub severity: Severity,
}

/// The severity routing table: configured rules first (first match wins), then the
/// built-in rules "deployment failures and rollbacks are critical, other deployment states
/// (started, succeeded) are info", then the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    rules: Vec<(Glob, Severity)>,
    default: Severity,
}

impl Routing {
    pub fn new(rules: &[SeverityRule], default: Severity) -> Self {
        Routing {
            rules: rules
                .iter()
                .map(|r| (Glob::new(&r.pattern), r.severity))
                .collect(),
            default,
        }
    }

    pub fn severity(&self, alert: &Alert) -> Severity {
        // An unrecognised payload cannot be matched meaningfully: always a warning, so
        // someone looks at it without being paged at night.
        if alert.source == Source::Unparsed {
            return Severity::Warning;
        }
        if let Some((_, severity)) = self.rules.iter().find(|(g, _)| g.matches(&alert.name)) {
            return *severity;
        }
        if alert.is_deployment_failure() {
            return Severity::Critical;
        }
        // Every deployment starts and (mostly) succeeds: worth a record, not a page.
        if alert.source == Source::Codedeploy {
            return Severity::Info;
        }
        self.default
    }
}

/// `FORWARD_OK`: when a return to OK is worth a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardOk {
    /// Only when the alarm was in ALARM before (no noise from INSUFFICIENT_DATA -> OK flaps).
    #[default]
    AfterAlarm,
    Always,
    Never,
}

impl FromStr for ForwardOk {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "after_alarm" => Ok(ForwardOk::AfterAlarm),
            "always" => Ok(ForwardOk::Always),
            "never" => Ok(ForwardOk::Never),
            other => Err(format!("{other:?} is not a FORWARD_OK mode")),
        }
    }
}

/// Flap hygiene: whether `alert` is forwarded at all. Only CloudWatch returns to OK are
/// ever held back; an OK whose previous state is unknown is forwarded (when unsure, tell).
pub fn should_forward(alert: &Alert, mode: ForwardOk) -> bool {
    if alert.source != Source::Cloudwatch || alert.state != OK {
        return true;
    }
    match mode {
        ForwardOk::Always => true,
        ForwardOk::Never => false,
        ForwardOk::AfterAlarm => match alert.previous_state.as_deref() {
            Some(previous) => previous == super::alert::ALARM,
            None => true,
        },
    }
}

/// Severity -> topic ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    pub critical: String,
    pub warning: String,
    pub info: String,
}

impl Topics {
    /// Unset topics fall back one level up: info -> warning -> critical.
    pub fn with_fallbacks(critical: String, warning: Option<String>, info: Option<String>) -> Self {
        let warning = warning.unwrap_or_else(|| critical.clone());
        let info = info.unwrap_or_else(|| warning.clone());
        Topics {
            critical,
            warning,
            info,
        }
    }

    pub fn for_severity(&self, severity: Severity) -> &str {
        match severity {
            Severity::Critical => &self.critical,
            Severity::Warning => &self.warning,
            Severity::Info => &self.info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(name: &str, state: &str, previous: Option<&str>) -> Alert {
        Alert {
            source: Source::Cloudwatch,
            name: name.into(),
            state: state.into(),
            previous_state: previous.map(str::to_string),
            ..Alert::default()
        }
    }

    #[test]
    fn first_matching_rule_wins_then_builtin_then_default() {
        let routing = Routing::new(
            &[
                SeverityRule {
                    pattern: "trading-*-errors".into(),
                    severity: Severity::Critical,
                },
                SeverityRule {
                    pattern: "trading-*".into(),
                    severity: Severity::Info,
                },
            ],
            Severity::Warning,
        );
        assert_eq!(
            routing.severity(&alarm("trading-bot-errors", "ALARM", None)),
            Severity::Critical
        );
        assert_eq!(
            routing.severity(&alarm("trading-bot-latency", "ALARM", None)),
            Severity::Info
        );
        assert_eq!(
            routing.severity(&alarm("other", "ALARM", None)),
            Severity::Warning
        );
        let failed = Alert {
            source: Source::Codedeploy,
            name: "codedeploy:app/group".into(),
            state: "FAILURE".into(),
            ..Alert::default()
        };
        assert_eq!(routing.severity(&failed), Severity::Critical);
        let ok = Alert {
            state: "SUCCESS".into(),
            ..failed
        };
        assert_eq!(routing.severity(&ok), Severity::Info);
    }

    #[test]
    fn unparsed_is_always_a_warning() {
        let routing = Routing::new(
            &[SeverityRule {
                pattern: "*".into(),
                severity: Severity::Critical,
            }],
            Severity::Info,
        );
        let garbage = super::super::parse::unparsed("x".into());
        assert_eq!(routing.severity(&garbage), Severity::Warning);
    }

    #[test]
    fn ok_is_forwarded_only_after_alarm_by_default() {
        let m = ForwardOk::AfterAlarm;
        assert!(should_forward(&alarm("a", "OK", Some("ALARM")), m));
        assert!(!should_forward(
            &alarm("a", "OK", Some("INSUFFICIENT_DATA")),
            m
        ));
        assert!(should_forward(&alarm("a", "OK", None), m));
        assert!(should_forward(&alarm("a", "ALARM", Some("OK")), m));
        assert!(should_forward(
            &alarm("a", "INSUFFICIENT_DATA", Some("OK")),
            m
        ));
        assert!(should_forward(
            &alarm("a", "OK", Some("INSUFFICIENT_DATA")),
            ForwardOk::Always
        ));
        assert!(!should_forward(
            &alarm("a", "OK", Some("ALARM")),
            ForwardOk::Never
        ));
        assert_eq!("ALWAYS".parse::<ForwardOk>(), Ok(ForwardOk::Always));
        assert!("sometimes".parse::<ForwardOk>().is_err());
    }

    #[test]
    fn topics_fall_back_upwards() {
        let t = Topics::with_fallbacks("crit".into(), None, None);
        assert_eq!(t.for_severity(Severity::Info), "crit");
        let t = Topics::with_fallbacks("crit".into(), Some("warn".into()), None);
        assert_eq!(t.for_severity(Severity::Info), "warn");
        assert_eq!(t.for_severity(Severity::Critical), "crit");
    }
}
