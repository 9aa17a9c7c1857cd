//! The hook's decision line (one per invocation) and its EMF document (`HookSucceeded`,
//! `HookFailed`, `ProbeLatency`; dimensions `Phase`, `ColdStart`).

use std::time::Instant;

use guardian::hook::event::HookEvent;
use guardian::hook::verdict::{Phase, Verdict};
use guardian_aws::decision::{Decision, elapsed_ms, function::PRE_TRAFFIC_HOOK};
use guardian_aws::metrics::{Metrics, Unit};

use crate::error::HookError;

/// What the decision log needs to know about the invocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Invocation<'a> {
    pub request_id: Option<&'a str>,
    pub started: Instant,
}

impl Invocation<'_> {
    /// An event that is not a hook event: nothing to report to, so only the log says so.
    pub fn rejected(&self, phase: Phase, e: &HookError) {
        let reason = e.to_string();
        Decision {
            function: PRE_TRAFFIC_HOOK,
            request_id: self.request_id,
            verdict: "rejected",
            reason: Some(&reason),
            duration_ms: Some(elapsed_ms(self.started)),
            needs_attention: true,
            ..Decision::default()
        }
        .log();
        hook_metrics(phase.label()).emit();
    }

    /// The decision line and the EMF document for a verdict (`None`: no verdict, `outcome`
    /// says why).
    pub fn concluded(
        &self,
        phase: Phase,
        ids: &HookEvent,
        verdict: Option<&Verdict>,
        outcome: &str,
        note: &str,
    ) {
        let target = verdict.and_then(|v| v.target.as_ref());
        let mut reasons: Vec<&str> = verdict
            .map(|v| v.reasons.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if !note.is_empty() {
            reasons.push(note);
        }
        let reason = reasons.join("; ");
        Decision {
            function: PRE_TRAFFIC_HOOK,
            request_id: self.request_id,
            deployment_id: Some(&ids.deployment_id),
            hook_execution_id: Some(&ids.execution_id),
            target_function: target.map(|t| t.function.as_str()),
            target_version: target.map(|t| t.version.as_str()),
            verdict: outcome,
            reason: (!reason.is_empty()).then_some(reason.as_str()),
            duration_ms: Some(elapsed_ms(self.started)),
            needs_attention: outcome != "Succeeded",
            ..Decision::default()
        }
        .log();
        let mut metrics = hook_metrics(phase.label());
        if let Some(v) = verdict {
            let passed = v.passed();
            let latencies: Vec<f64> = v
                .probes
                .iter()
                .filter_map(|p| p.latency_ms.map(|ms| ms as f64))
                .collect();
            metrics = metrics
                .count("HookSucceeded", u64::from(passed))
                .count("HookFailed", u64::from(!passed))
                .samples("ProbeLatency", &latencies, Unit::Milliseconds);
        }
        metrics
            .property("deployment_id", ids.deployment_id.as_str())
            .emit();
    }

    /// A hook that could not read its configuration reported Failed (`reason` says how
    /// that went).
    pub fn misconfigured(&self, ids: &HookEvent, reason: &str) {
        Decision {
            function: PRE_TRAFFIC_HOOK,
            request_id: self.request_id,
            deployment_id: Some(&ids.deployment_id),
            hook_execution_id: Some(&ids.execution_id),
            verdict: "Failed",
            reason: Some(reason),
            duration_ms: Some(elapsed_ms(self.started)),
            needs_attention: true,
            ..Decision::default()
        }
        .log();
        // The phase is part of the configuration that could not be read.
        hook_metrics("unknown").count("HookFailed", 1).emit();
    }
}

/// The hook's EMF document for a phase label.
fn hook_metrics(phase: &str) -> Metrics {
    Metrics::new(PRE_TRAFFIC_HOOK)
        .dimension("Phase", phase)
        .with_cold_start()
}
