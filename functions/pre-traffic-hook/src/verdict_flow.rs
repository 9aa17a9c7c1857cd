//! The second half of every invocation: whatever the verdict work does (answers, fails,
//! panics or hangs), a verdict is reported to CodeDeploy, then published, then returned.
//! Reporting comes first: a failed publish never changes or delays the report.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use guardian::hook::event::HookEvent;
use guardian::hook::verdict::{Status, Verdict, decide};
use guardian_aws::codedeploy::{HookStatus, Reported};
use guardian_aws::deadline::Deadline;
use serde::Serialize;
use serde_json::Value;

use crate::error::HookError;
use crate::observe::Invocation;
use crate::ports::{Alerts, Ports};
use crate::report::report_once;

/// Time kept free before the deadline for publishing the verdict: the report has already
/// been made, so the publish may use nearly all that is left.
const PUBLISH_MARGIN: Duration = Duration::from_millis(100);

/// What the hook returns: the verdict plus what happened to it.
#[derive(Debug, Serialize)]
struct HookAnswer<'a> {
    #[serde(flatten)]
    verdict: &'a Verdict,
    /// `recorded`, `already_completed` or `failed`.
    report: &'static str,
    published: bool,
}

/// Runs `work` (the verdict) guarded against panics and the deadline, then reports, publishes
/// and answers. The handler's second half, with the verdict work as a parameter: the seam
/// through which any work, a panicking or a never-ending one included, is proven to end in
/// exactly one report (see the tests).
pub(crate) async fn conclude<P: Ports, F>(
    ports: &P,
    ids: &HookEvent,
    invocation: Invocation<'_>,
    deadline: Deadline,
    work: F,
) -> Result<Value, HookError>
where
    F: Future<Output = Result<Verdict, HookError>>,
{
    let cfg = ports.config();
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
            invocation.concluded(cfg.phase, ids, None, "error", &e.to_string());
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
    let reported = report_once(
        ports.codedeploy(),
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
    let published = deadline
        .call(
            PUBLISH_MARGIN,
            "Publish",
            ports.sns().publish(&cfg.alert_topic_arn, &publication),
        )
        .await
        .inspect_err(|e| {
            tracing::error!(deployment_id = %ids.deployment_id, "verdict not published: {e}");
        })
        .is_ok();
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
    invocation.concluded(cfg.phase, ids, Some(&verdict), status_label, &note);
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
mod tests;
