//! CodeDeploy PreTraffic/PostTraffic hook (DESIGN.md §2): smoke-test the new version,
//! report the verdict to CodeDeploy exactly once on every path, publish it, return it.
//!
//! `handler` is what Lambda runs; `conclude` is its second half (report, publish, answer)
//! and takes the verdict-producing work as a future, so a panic or a deadline in that work
//! still ends in a Failed report.

mod config;
mod probes;
mod report;
mod target;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use aws_lambda_events::event::codedeploy::CodeDeployLifecycleEvent;
use futures::FutureExt;
use guardian::hook::appspec::DeploymentTarget;
use guardian::hook::verdict::{Phase, Status, Verdict, decide};
use guardian_aws::cloudwatch::{AlarmKind, CloudWatch};
use guardian_aws::codedeploy::{CodeDeploy, HookStatus, Reported};
use guardian_aws::deadline::Deadline;
use guardian_aws::decision::{Decision, elapsed_ms, function::PRE_TRAFFIC_HOOK};
use guardian_aws::error::{AwsCallError, ErrorType, diagnostic};
use guardian_aws::lambda::Lambda;
use guardian_aws::metrics::{Metrics, Unit};
use guardian_aws::sns::Sns;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

pub use config::{Config, DEFAULT_PROBE_CONCURRENCY, DEFAULT_REPORT_MARGIN};
use target::Resolution;

/// Clients and configuration, built once at cold start.
#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    codedeploy: CodeDeploy,
    lambda: Lambda,
    sns: Sns,
    cloudwatch: CloudWatch,
}

impl App {
    pub fn new(sdk: &guardian_aws::clients::SdkConfig, config: Config) -> Self {
        App {
            config,
            codedeploy: CodeDeploy::from_sdk(sdk),
            lambda: Lambda::from_sdk(sdk),
            sns: Sns::from_sdk(sdk),
            cloudwatch: CloudWatch::from_sdk(sdk),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(
        "the event is not a CodeDeploy lifecycle hook event ({0}); CodeDeploy sends {{\"DeploymentId\": \"d-...\", \"LifecycleEventHookExecutionId\": \"...\"}}, see events/hook-pre-traffic.json"
    )]
    BadEvent(String),
    #[error(
        "deployment {deployment_id} does not exist in this account and region, so no verdict can be reported; check the event's DeploymentId"
    )]
    UnknownDeployment {
        deployment_id: String,
        #[source]
        source: AwsCallError,
    },
    #[error("could not report {status:?} for deployment {deployment_id} to CodeDeploy")]
    ReportFailed {
        deployment_id: String,
        status: Status,
        #[source]
        source: AwsCallError,
    },
    #[error(
        "the hook is misconfigured ({problem}); {outcome} for deployment {deployment_id} so it rolls back now instead of waiting for CodeDeploy's hook timeout; fix the function's environment and redeploy"
    )]
    Misconfigured {
        problem: String,
        deployment_id: String,
        outcome: String,
    },
    #[error("could not render the verdict as JSON")]
    Output(#[source] serde_json::Error),
}

impl ErrorType for HookError {
    fn error_type(&self) -> &'static str {
        match self {
            HookError::BadEvent(_) => "PreTrafficHook.BadEvent",
            HookError::UnknownDeployment { .. } => "PreTrafficHook.UnknownDeployment",
            HookError::ReportFailed { .. } => "PreTrafficHook.ReportFailed",
            HookError::Misconfigured { .. } => "PreTrafficHook.Misconfigured",
            HookError::Output(_) => "PreTrafficHook.Output",
        }
    }
}

impl From<HookError> for Diagnostic {
    fn from(e: HookError) -> Self {
        diagnostic(&e)
    }
}

/// The two ids CodeDeploy sends the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEvent {
    pub deployment_id: String,
    pub execution_id: String,
}

impl HookEvent {
    pub fn parse(payload: Value) -> Result<HookEvent, HookError> {
        let e: CodeDeployLifecycleEvent =
            serde_json::from_value(payload).map_err(|e| HookError::BadEvent(e.to_string()))?;
        for (field, value) in [
            ("DeploymentId", &e.deployment_id),
            (
                "LifecycleEventHookExecutionId",
                &e.lifecycle_event_hook_execution_id,
            ),
        ] {
            if value.trim().is_empty() {
                return Err(HookError::BadEvent(format!("{field} is empty")));
            }
        }
        Ok(HookEvent {
            deployment_id: e.deployment_id,
            execution_id: e.lifecycle_event_hook_execution_id,
        })
    }
}

/// What the hook returns: the verdict plus what happened to it.
#[derive(Debug, Serialize)]
struct HookAnswer<'a> {
    #[serde(flatten)]
    verdict: &'a Verdict,
    /// `recorded`, `already_completed` or `failed`.
    report: &'static str,
    published: bool,
}

pub async fn handler(app: &App, event: LambdaEvent<Value>) -> Result<Value, HookError> {
    let started = Instant::now();
    let (payload, context) = event.into_parts();
    let invocation = Invocation {
        request_id: Some(&context.request_id),
        started,
    };
    let ids =
        HookEvent::parse(payload).inspect_err(|e| invocation.rejected(app.config.phase, e))?;
    let deadline = Deadline::from_context(&context);
    conclude_invocation(
        app,
        &ids,
        invocation,
        deadline,
        examine(app, &ids, deadline),
    )
    .await
}

/// What the decision log needs to know about the invocation.
#[derive(Debug, Clone, Copy)]
struct Invocation<'a> {
    request_id: Option<&'a str>,
    started: Instant,
}

impl Invocation<'_> {
    /// An event that is not a hook event: nothing to report to, so only the log says so.
    fn rejected(&self, phase: Phase, e: &HookError) {
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
        hook_metrics(phase).emit();
    }

    /// The decision line and the EMF document for a verdict (`None`: no verdict, `outcome`
    /// says why).
    fn observe(
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
        let mut metrics = hook_metrics(phase);
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
}

/// The hook's EMF document: dimension `Phase` (pre-traffic / post-traffic), `ColdStart`.
fn hook_metrics(phase: Phase) -> Metrics {
    Metrics::new(PRE_TRAFFIC_HOOK)
        .dimension("Phase", phase.label())
        .with_cold_start()
}

/// The handler when the configuration is unusable (a missing topic, a malformed number): it
/// cannot test or publish, but it still reports Failed, so a deployment never hangs on a
/// hook that cannot start. The invocation then fails loudly with the configuration problem.
pub async fn misconfigured(
    codedeploy: &CodeDeploy,
    problem: &str,
    event: LambdaEvent<Value>,
) -> Result<Value, HookError> {
    let started = Instant::now();
    let (payload, context) = event.into_parts();
    let ids = HookEvent::parse(payload)?;
    let deadline = Deadline::from_context(&context);
    let reported = report::report_once(
        codedeploy,
        &ids.deployment_id,
        &ids.execution_id,
        HookStatus::Failed,
        deadline,
    )
    .await;
    let outcome = match reported {
        Ok(Reported::Recorded) => "reported Failed".to_string(),
        Ok(Reported::AlreadyCompleted) => "an earlier attempt already reported".to_string(),
        Err(e) => format!("could not report Failed either ({e})"),
    };
    let reason = format!("misconfigured: {problem}; {outcome}");
    Decision {
        function: PRE_TRAFFIC_HOOK,
        request_id: Some(&context.request_id),
        deployment_id: Some(&ids.deployment_id),
        hook_execution_id: Some(&ids.execution_id),
        verdict: "Failed",
        reason: Some(&reason),
        duration_ms: Some(elapsed_ms(started)),
        needs_attention: true,
        ..Decision::default()
    }
    .log();
    // The phase is part of the configuration that could not be read.
    Metrics::new(PRE_TRAFFIC_HOOK)
        .dimension("Phase", "unknown")
        .with_cold_start()
        .count("HookFailed", 1)
        .emit();
    Err(HookError::Misconfigured {
        problem: problem.to_string(),
        deployment_id: ids.deployment_id,
        outcome,
    })
}

/// Everything that decides the verdict, in order, stopping at the first blocker so no call
/// is made that cannot change the outcome.
async fn examine(app: &App, ids: &HookEvent, deadline: Deadline) -> Result<Verdict, HookError> {
    let cfg = &app.config;
    let failed = |target: Option<DeploymentTarget>, reason: String| {
        Ok(decide(
            cfg.phase,
            &ids.deployment_id,
            &ids.execution_id,
            target,
            vec![reason],
            vec![],
        ))
    };
    let plan = match &cfg.plan {
        Ok(plan) => plan,
        Err(why) => return failed(None, why.clone()),
    };
    let target = match target::resolve(
        &app.codedeploy,
        &ids.deployment_id,
        cfg.fallback_target.as_ref(),
    )
    .await
    {
        Resolution::Found(t) => t,
        Resolution::Unresolved(why) => return failed(None, why),
        Resolution::UnknownDeployment(source) => {
            return Err(HookError::UnknownDeployment {
                deployment_id: ids.deployment_id.clone(),
                source,
            });
        }
    };
    if cfg.guarded.resolve(&target.function).is_none() {
        let why = format!(
            "{} is not in GUARDED_FUNCTIONS; the hook only tests functions it guards",
            target.function
        );
        return failed(Some(target), why);
    }
    match app.lambda.reserved_concurrency(&target.function).await {
        Ok(Some(0)) => {
            return failed(
                Some(target),
                "trading is stopped: the kill switch set reserved concurrency 0; resume it before deploying".into(),
            );
        }
        Ok(_) => {}
        Err(e) => {
            return failed(
                Some(target),
                format!("could not check the kill switch: {e}"),
            );
        }
    }
    if cfg.phase == Phase::Post {
        let blockers = [
            (&cfg.rollback_alarms, AlarmKind::Metric, "ROLLBACK_ALARMS"),
            (
                &cfg.rollback_composite_alarms,
                AlarmKind::Composite,
                "ROLLBACK_COMPOSITE_ALARMS",
            ),
        ];
        let mut reasons = Vec::new();
        for (names, kind, var) in blockers {
            if !names.is_empty()
                && let Some(why) = alarm_blocker(&app.cloudwatch, names, kind, var).await
            {
                reasons.push(why);
            }
        }
        if !reasons.is_empty() {
            return failed(Some(target), reasons.join("; "));
        }
    }
    let rows = probes::run_plan(
        &app.lambda,
        plan,
        probes::Target {
            function: &target.function,
            version: &target.version,
        },
        cfg.probe_concurrency,
        deadline,
        cfg.report_margin,
    )
    .await;
    Ok(decide(
        cfg.phase,
        &ids.deployment_id,
        &ids.execution_id,
        Some(target),
        vec![],
        rows,
    ))
}

/// Why the rollback alarms block the deployment, if they do. A configured alarm that does
/// not exist blocks too: it would otherwise never protect anything.
async fn alarm_blocker(
    cloudwatch: &CloudWatch,
    names: &[String],
    kind: AlarmKind,
    var: &str,
) -> Option<String> {
    let states = match cloudwatch.alarm_states(names, kind).await {
        Ok(s) => s,
        Err(e) => return Some(format!("could not read the rollback alarms: {e}")),
    };
    let firing: Vec<&str> = states
        .iter()
        .filter(|a| a.state == "ALARM")
        .map(|a| a.name.as_str())
        .collect();
    let missing: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !states.iter().any(|a| a.name == *n))
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

/// Runs `work` (the verdict) guarded against panics and the deadline, then reports to
/// CodeDeploy, then publishes, then answers. Reporting comes first: a failed publish never
/// changes or delays the report.
pub async fn conclude<F>(
    app: &App,
    ids: &HookEvent,
    deadline: Deadline,
    work: F,
) -> Result<Value, HookError>
where
    F: Future<Output = Result<Verdict, HookError>>,
{
    let invocation = Invocation {
        request_id: None,
        started: Instant::now(),
    };
    conclude_invocation(app, ids, invocation, deadline, work).await
}

async fn conclude_invocation<F>(
    app: &App,
    ids: &HookEvent,
    invocation: Invocation<'_>,
    deadline: Deadline,
    work: F,
) -> Result<Value, HookError>
where
    F: Future<Output = Result<Verdict, HookError>>,
{
    let cfg = &app.config;
    let failed = |reason: String| {
        decide(
            cfg.phase,
            &ids.deployment_id,
            &ids.execution_id,
            None,
            vec![reason],
            vec![],
        )
    };
    let guarded = AssertUnwindSafe(work).catch_unwind();
    let verdict = match deadline.bound(cfg.report_margin, guarded).await {
        Ok(Ok(Ok(verdict))) => verdict,
        Ok(Ok(Err(e))) => {
            invocation.observe(cfg.phase, ids, None, "error", &e.to_string());
            return Err(e);
        }
        Ok(Err(panic)) => failed(format!(
            "internal error: the hook panicked ({})",
            panic_text(&*panic)
        )),
        Err(reached) => failed(format!(
            "out of time: {reached}; the checks did not finish (raise the hook's timeout or REPORT_MARGIN_MS)"
        )),
    };
    let status = if verdict.passed() {
        HookStatus::Succeeded
    } else {
        HookStatus::Failed
    };
    let reported = report::report_once(
        &app.codedeploy,
        &ids.deployment_id,
        &ids.execution_id,
        status,
        deadline,
    )
    .await;
    let (report, note) = match &reported {
        Ok(Reported::Recorded) => ("recorded", format!("{status:?} recorded")),
        Ok(Reported::AlreadyCompleted) => (
            "already_completed",
            "an earlier attempt of this hook had already reported; nothing changed".to_string(),
        ),
        Err(e) => (
            "failed",
            format!("REPORT FAILED ({e}); Lambda will retry the hook"),
        ),
    };
    let publication = verdict.publication(&note);
    let published = match deadline
        .bound(
            Duration::from_millis(100),
            app.sns.publish(&cfg.alert_topic_arn, &publication),
        )
        .await
    {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::error!(deployment_id = %ids.deployment_id, "verdict not published: {e}");
            false
        }
        Err(e) => {
            tracing::error!(deployment_id = %ids.deployment_id, "verdict not published: {e}");
            false
        }
    };
    let status_label = match verdict.status {
        Status::Succeeded => "Succeeded",
        Status::Failed => "Failed",
    };
    let mut note = match &reported {
        Ok(_) => String::new(),
        Err(_) => note,
    };
    if !published {
        note.push_str(if note.is_empty() { "" } else { "; " });
        note.push_str("verdict not published");
    }
    invocation.observe(cfg.phase, ids, Some(&verdict), status_label, &note);
    if let Err(source) = reported {
        return Err(HookError::ReportFailed {
            deployment_id: ids.deployment_id.clone(),
            status: verdict.status,
            source,
        });
    }
    serde_json::to_value(HookAnswer {
        verdict: &verdict,
        report,
        published,
    })
    .map_err(HookError::Output)
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .map(|s| guardian::preview::preview(&s, 200))
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_sample_events_parse() {
        for file in ["hook-pre-traffic.json", "hook-post-traffic.json"] {
            let path = format!("{}/../../events/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            let ids = HookEvent::parse(serde_json::from_str(&text).unwrap()).unwrap();
            assert!(ids.deployment_id.starts_with("d-"), "{file}");
        }
    }

    #[test]
    fn a_wrong_event_is_a_named_error() {
        let err = HookEvent::parse(json!({"DeploymentId": "d-1"})).unwrap_err();
        let d = Diagnostic::from(err);
        assert_eq!(d.error_type, "PreTrafficHook.BadEvent");
        assert!(
            d.error_message.contains("LifecycleEventHookExecutionId"),
            "{}",
            d.error_message
        );
        let blank =
            HookEvent::parse(json!({"DeploymentId": " ", "LifecycleEventHookExecutionId": "x"}))
                .unwrap_err();
        assert!(blank.to_string().contains("DeploymentId is empty"));
    }

    #[test]
    fn panic_messages_are_kept() {
        let caught = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(panic_text(&*caught), "boom 7");
    }
}
