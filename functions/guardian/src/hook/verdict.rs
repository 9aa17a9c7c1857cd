//! The hook's verdict: Succeeded only when nothing blocked the deployment and every probe
//! passed; rendered as the alert the on-call engineer reads.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::appspec::DeploymentTarget;
use super::probe::ProbeReport;
use crate::publication::Publication;
use crate::sns_text::{MAX_MESSAGE_BYTES, cap_body};

/// How much of each probe's log tail the alert quotes (the end is what matters).
pub const LOG_TAIL_CHARS: usize = 1_000;
pub const SOURCE: &str = "pre-traffic-hook";

/// Which traffic hook this is (env `HOOK_PHASE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Pre,
    Post,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Pre => "pre-traffic",
            Phase::Post => "post-traffic",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub status: Status,
    pub phase: Phase,
    pub deployment_id: String,
    pub execution_id: String,
    pub target: Option<DeploymentTarget>,
    /// Why the hook failed (empty when it succeeded).
    pub reasons: Vec<String>,
    pub probes: Vec<ProbeReport>,
}

/// The verdict from what stopped the hook before probing (`blockers`: not allowed, trading
/// stopped, alarm in ALARM, unreadable plan, deadline...) and the probe table. No probe at
/// all is a failure: an unproven build must not take traffic.
pub fn decide(
    phase: Phase,
    deployment_id: &str,
    execution_id: &str,
    target: Option<DeploymentTarget>,
    blockers: Vec<String>,
    probes: Vec<ProbeReport>,
) -> Verdict {
    let mut reasons = blockers;
    for p in probes.iter().filter(|p| !p.passed) {
        reasons.push(format!("probe {:?}: {}", p.name, p.failures.join("; ")));
    }
    if reasons.is_empty() && probes.is_empty() {
        reasons.push("no probe ran".into());
    }
    Verdict {
        status: if reasons.is_empty() {
            Status::Succeeded
        } else {
            Status::Failed
        },
        phase,
        deployment_id: deployment_id.to_string(),
        execution_id: execution_id.to_string(),
        target,
        reasons,
        probes,
    }
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.status == Status::Succeeded
    }

    /// `PASS pre-traffic trading-bot v2` / `FAIL post-traffic deployment d-123`.
    pub fn subject(&self) -> String {
        let word = if self.passed() { "PASS" } else { "FAIL" };
        let what = match &self.target {
            Some(t) => format!(
                "{} v{}",
                crate::guarded::function_name(&t.function),
                t.version
            ),
            None => format!("deployment {}", self.deployment_id),
        };
        format!("{word} {} {what}", self.phase.label())
    }

    /// The alert: subject, full text (reasons, probe table, log tails) and filter attributes.
    /// `report_note` says what CodeDeploy recorded, as the operator needs to know it.
    pub fn publication(&self, report_note: &str) -> Publication {
        let severity = if self.passed() { "info" } else { "warning" };
        let attributes = BTreeMap::from([
            ("severity".to_string(), severity.to_string()),
            ("source".to_string(), SOURCE.to_string()),
            ("phase".to_string(), self.phase.label().to_string()),
        ]);
        Publication {
            subject: Some(self.subject()),
            message: cap_body(&self.render(report_note), MAX_MESSAGE_BYTES),
            per_protocol: false,
            attributes,
        }
    }

    fn render(&self, report_note: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.subject());
        match &self.target {
            Some(t) => {
                let _ = writeln!(
                    out,
                    "Function: {} version {} (alias {}, current version {})",
                    t.function,
                    t.version,
                    t.alias.as_deref().unwrap_or("unknown"),
                    t.current_version.as_deref().unwrap_or("unknown"),
                );
            }
            None => {
                let _ = writeln!(out, "Function: unknown (target not resolved)");
            }
        }
        let _ = writeln!(
            out,
            "Deployment: {}  hook execution: {}",
            self.deployment_id, self.execution_id
        );
        let _ = writeln!(out, "CodeDeploy: {report_note}");
        if !self.reasons.is_empty() {
            let _ = writeln!(out, "\nReasons:");
            for r in &self.reasons {
                let _ = writeln!(out, "- {r}");
            }
        }
        if self.probes.is_empty() {
            let _ = writeln!(out, "\nProbes: none ran");
        } else {
            let _ = writeln!(
                out,
                "\nProbes:\n{:<24} {:<6} {:>8} {:>10} {:>8}  error",
                "probe", "result", "attempts", "latency", "version"
            );
            for p in &self.probes {
                let _ = writeln!(
                    out,
                    "{:<24} {:<6} {:>8} {:>10} {:>8}  {}",
                    p.name,
                    if p.passed { "pass" } else { "FAIL" },
                    p.attempts,
                    p.latency_ms.map_or("-".into(), |ms| format!("{ms} ms")),
                    p.executed_version.as_deref().unwrap_or("-"),
                    p.function_error.as_deref().unwrap_or("-"),
                );
            }
        }
        for p in &self.probes {
            if let Some(log) = p.log_tail.as_deref().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(
                    out,
                    "\nLog tail ({}):\n{}",
                    p.name,
                    tail(log, LOG_TAIL_CHARS)
                );
            }
        }
        out
    }
}

/// The last `max` characters of `text`, marked when cut.
pub fn tail(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_string();
    }
    let kept: String = text.chars().skip(total - max).collect();
    format!("…[last {max} of {total} characters]\n{kept}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> DeploymentTarget {
        DeploymentTarget {
            function: "arn:aws:lambda:us-east-1:123456789012:function:trading-bot".into(),
            version: "2".into(),
            alias: Some("live".into()),
            current_version: Some("1".into()),
        }
    }

    fn row(name: &str, failures: &[&str]) -> ProbeReport {
        ProbeReport {
            name: name.into(),
            passed: failures.is_empty(),
            attempts: 1,
            latency_ms: Some(12),
            executed_version: Some("2".into()),
            function_error: None,
            failures: failures.iter().map(|f| f.to_string()).collect(),
            log_tail: Some("START RequestId: 1\nEND RequestId: 1\n".into()),
        }
    }

    #[test]
    fn all_probes_passing_and_nothing_blocking_succeeds() {
        let v = decide(
            Phase::Pre,
            "d-1",
            "h-1",
            Some(target()),
            vec![],
            vec![row("smoke", &[])],
        );
        assert!(v.passed());
        assert!(v.reasons.is_empty());
        assert_eq!(v.subject(), "PASS pre-traffic trading-bot v2");
    }

    #[test]
    fn a_failed_probe_or_a_blocker_fails_with_reasons() {
        let v = decide(
            Phase::Pre,
            "d-1",
            "h-1",
            Some(target()),
            vec![],
            vec![row("smoke", &["version 1 answered, expected 2"])],
        );
        assert_eq!(v.status, Status::Failed);
        assert_eq!(
            v.reasons,
            [r#"probe "smoke": version 1 answered, expected 2"#]
        );

        let stopped = decide(
            Phase::Post,
            "d-1",
            "h-1",
            Some(target()),
            vec!["trading is stopped".into()],
            vec![],
        );
        assert_eq!(stopped.reasons, ["trading is stopped"]);
        assert_eq!(stopped.subject(), "FAIL post-traffic trading-bot v2");
    }

    #[test]
    fn nothing_probed_is_not_a_pass() {
        let v = decide(Phase::Pre, "d-9", "h-1", None, vec![], vec![]);
        assert_eq!(v.reasons, ["no probe ran"]);
        assert_eq!(v.subject(), "FAIL pre-traffic deployment d-9");
    }

    #[test]
    fn the_alert_carries_table_reasons_log_tail_and_attributes() {
        let v = decide(
            Phase::Pre,
            "d-1",
            "h-1",
            Some(target()),
            vec![],
            vec![row("smoke", &["boom"]), row("tick", &[])],
        );
        let p = v.publication("Failed recorded");
        assert_eq!(
            p.subject.as_deref(),
            Some("FAIL pre-traffic trading-bot v2")
        );
        assert!(p.message.contains("- probe \"smoke\": boom"));
        assert!(
            p.message.contains("smoke")
                && p.message.contains("FAIL")
                && p.message.contains("12 ms")
        );
        assert!(p.message.contains("Log tail (tick):\nSTART RequestId: 1"));
        assert!(p.message.contains("CodeDeploy: Failed recorded"));
        assert_eq!(p.attributes["severity"], "warning");
        assert_eq!(p.attributes["source"], "pre-traffic-hook");
    }

    #[test]
    fn tail_keeps_the_end() {
        assert_eq!(tail("abc", 5), "abc");
        let t = tail("0123456789", 3);
        assert!(t.ends_with("\n789") && t.contains("last 3 of 10"), "{t}");
    }
}
