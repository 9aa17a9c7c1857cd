//! CodeDeploy's deployment state changes made into an alert: as EventBridge delivers them, and
//! as a deployment group's *trigger* publishes them to SNS (CodeDeploy user guide, "JSON data
//! formats for CodeDeploy triggers").

use serde_json::Value;

use super::text;
use crate::fanout::alert::{Alert, Source};

/// EventBridge "CodeDeploy Deployment State-change Notification".
pub(super) fn deployment(envelope: &Value, detail: &Value) -> Alert {
    let application = text(detail, "/application").unwrap_or_else(|| "unknown-application".into());
    let group = text(detail, "/deploymentGroup").unwrap_or_else(|| "unknown-group".into());
    let id = text(detail, "/deploymentId");
    let state = text(detail, "/state").unwrap_or_else(|| "UNKNOWN".into());
    Alert {
        arn: envelope
            .get("resources")
            .and_then(Value::as_array)
            .and_then(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .find(|arn| arn.contains(":deploymentgroup:"))
                    .or_else(|| r.first().and_then(Value::as_str))
            })
            .map(str::to_string),
        account: text(envelope, "/account"),
        region: text(detail, "/region").or_else(|| text(envelope, "/region")),
        time: text(envelope, "/time"),
        ..alert(&application, &group, id, state)
    }
}

/// A deployment group trigger's notification (`eventTriggerName`, `deploymentId`, `status`
/// `Succeeded`/`Failed`/`Stopped`/...; instance triggers carry `instanceStatus`). Its status
/// is spelled as the EventBridge states are, so routing treats both alike.
pub(super) fn trigger(doc: &Value) -> Alert {
    let application = text(doc, "/applicationName").unwrap_or_else(|| "unknown-application".into());
    let group = text(doc, "/deploymentGroupName").unwrap_or_else(|| "unknown-group".into());
    let status = text(doc, "/status").or_else(|| text(doc, "/instanceStatus"));
    let state = match status.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("failed") => "FAILURE",
        Some("stopped") => "STOP",
        Some("succeeded") => "SUCCESS",
        Some("created" | "queued" | "inprogress" | "in_progress") => "START",
        Some("ready") => "READY",
        _ => "UNKNOWN",
    };
    let mut alert = alert(
        &application,
        &group,
        text(doc, "/deploymentId"),
        state.into(),
    );
    if let Some(trigger) = text(doc, "/eventTriggerName") {
        alert.description = Some(format!("CodeDeploy trigger {trigger}"));
    }
    // AWS sends errorInformation as an object or as a JSON string.
    let error = doc.get("errorInformation").map(|e| match e {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    });
    if let Some(message) = error.as_ref().and_then(|e| text(e, "/ErrorMessage")) {
        alert.reason = format!("{} - {message}", alert.reason);
    }
    alert.account = text(doc, "/accountId");
    alert.region = text(doc, "/region");
    alert
}

fn alert(application: &str, group: &str, id: Option<String>, state: String) -> Alert {
    let verb = match state.as_str() {
        "FAILURE" => "failed; CodeDeploy rolls back when automatic rollback is enabled",
        "STOP" => "was stopped (rolled back if automatic rollback is enabled)",
        "SUCCESS" => "succeeded",
        "START" => "started",
        "READY" => "is ready to reroute traffic",
        _ => "changed state",
    };
    Alert {
        source: Source::Codedeploy,
        name: format!("codedeploy:{application}/{group}"),
        reason: format!(
            "Deployment {} of {application}/{group} {verb} ({state})",
            id.as_deref().unwrap_or("(no id)")
        ),
        state,
        deployment_id: id,
        ..Alert::default()
    }
}
