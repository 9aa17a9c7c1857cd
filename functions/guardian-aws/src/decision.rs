//! The decision log: one JSON line per invocation outcome, with the same field names in all
//! four functions so one CloudWatch Logs Insights query reads them all
//! (`filter message = "decision" | stats count(*) by function, verdict`).

use std::time::Instant;

use guardian::preview::preview;

/// The `function` field and the EMF `Function` dimension: fixed names, not the deployed
/// function names (those carry the stack name and a random suffix).
pub mod function {
    pub const PRE_TRAFFIC_HOOK: &str = "pre-traffic-hook";
    pub const ALARM_FANOUT: &str = "alarm-fanout";
    pub const DLQ_INSPECTOR: &str = "dlq-inspector";
    pub const KILL_SWITCH: &str = "kill-switch";
}

/// Field names of a decision line. Renaming one breaks saved queries and dashboards.
pub mod field {
    pub const MESSAGE: &str = "decision";
    pub const FUNCTION: &str = "function";
    pub const REQUEST_ID: &str = "request_id";
    pub const DEPLOYMENT_ID: &str = "deployment_id";
    pub const HOOK_EXECUTION_ID: &str = "hook_execution_id";
    /// The guarded function the decision is about (hook and kill switch).
    pub const TARGET_FUNCTION: &str = "target_function";
    pub const TARGET_VERSION: &str = "target_version";
    pub const ALARM: &str = "alarm";
    pub const SEVERITY: &str = "severity";
    pub const DLQ_ACTION: &str = "dlq_action";
    pub const KILL_SWITCH_ACTION: &str = "kill_switch_action";
    pub const VERDICT: &str = "verdict";
    pub const REASON: &str = "reason";
    pub const DURATION_MS: &str = "duration_ms";
}

/// Longest `reason` logged: reasons may quote probe answers or error messages.
pub const MAX_REASON_CHARS: usize = 500;

/// One decision. Fields left `None` do not apply and are left out of the line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision<'a> {
    pub function: &'a str,
    pub request_id: Option<&'a str>,
    pub deployment_id: Option<&'a str>,
    pub hook_execution_id: Option<&'a str>,
    pub target_function: Option<&'a str>,
    pub target_version: Option<&'a str>,
    pub alarm: Option<&'a str>,
    pub severity: Option<&'a str>,
    pub dlq_action: Option<&'a str>,
    pub kill_switch_action: Option<&'a str>,
    pub verdict: &'a str,
    pub reason: Option<&'a str>,
    pub duration_ms: Option<u64>,
    /// Logged at WARN (an operator should look) instead of INFO.
    pub needs_attention: bool,
}

/// Milliseconds since `started`, for `duration_ms`.
pub fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

// One callsite per level with every field; `Option` values that are `None` are not
// recorded, so they do not appear in the line.
macro_rules! decision_event {
    ($level:ident, $d:expr, $reason:expr) => {
        tracing::$level!(
            { field::FUNCTION } = $d.function,
            { field::REQUEST_ID } = $d.request_id,
            { field::DEPLOYMENT_ID } = $d.deployment_id,
            { field::HOOK_EXECUTION_ID } = $d.hook_execution_id,
            { field::TARGET_FUNCTION } = $d.target_function,
            { field::TARGET_VERSION } = $d.target_version,
            { field::ALARM } = $d.alarm,
            { field::SEVERITY } = $d.severity,
            { field::DLQ_ACTION } = $d.dlq_action,
            { field::KILL_SWITCH_ACTION } = $d.kill_switch_action,
            { field::VERDICT } = $d.verdict,
            { field::REASON } = $reason,
            { field::DURATION_MS } = $d.duration_ms,
            "{}",
            field::MESSAGE
        )
    };
}

impl Decision<'_> {
    pub fn log(&self) {
        let reason = self.reason.map(|r| preview(r, MAX_REASON_CHARS));
        let reason = reason.as_deref();
        if self.needs_attention {
            decision_event!(warn, self, reason);
        } else {
            decision_event!(info, self, reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use lambda_runtime::tracing::subscriber::filter::LevelFilter;
    use serde_json::Value;

    use super::*;
    use crate::telemetry::{LogFormat, captured_lines};

    fn logged(decision: &Decision<'_>) -> Value {
        let lines = captured_lines(LogFormat::Json, LevelFilter::INFO, || decision.log());
        assert_eq!(lines.len(), 1, "{lines:?}");
        serde_json::from_str(lines[0].trim()).unwrap()
    }

    #[test]
    fn a_decision_is_one_line_with_only_the_fields_that_apply() {
        let line = logged(&Decision {
            function: function::KILL_SWITCH,
            request_id: Some("req-1"),
            target_function: Some("trading-bot"),
            kill_switch_action: Some("stop"),
            verdict: "stopped",
            reason: Some("bad fills"),
            duration_ms: Some(12),
            needs_attention: true,
            ..Decision::default()
        });
        assert_eq!(line["message"], "decision");
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["function"], "kill-switch");
        assert_eq!(line["request_id"], "req-1");
        assert_eq!(line["kill_switch_action"], "stop");
        assert_eq!(line["verdict"], "stopped");
        assert_eq!(line["duration_ms"], 12);
        for absent in ["deployment_id", "alarm", "severity", "dlq_action"] {
            assert!(line.get(absent).is_none(), "{absent} in {line}");
        }
    }

    #[test]
    fn long_reasons_are_cut() {
        let long = "s".repeat(5_000);
        let line = logged(&Decision {
            function: function::ALARM_FANOUT,
            verdict: "failed",
            reason: Some(&long),
            ..Decision::default()
        });
        let reason = line["reason"].as_str().unwrap();
        assert!(
            reason.len() < 1_000 && reason.contains("5000 bytes total"),
            "{reason}"
        );
        assert_eq!(line["level"], "INFO");
    }
}
