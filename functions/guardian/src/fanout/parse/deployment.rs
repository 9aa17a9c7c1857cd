//! CodeDeploy's deployment state changes, as EventBridge delivers them, made into an alert.

use serde_json::Value;

use super::text;
use crate::fanout::alert::{Alert, Source};

/// EventBridge "CodeDeploy Deployment State-change Notification".
pub(super) fn deployment(envelope: &Value, detail: &Value) -> Alert {
    let application = text(detail, "/application").unwrap_or_else(|| "unknown-application".into());
    let group = text(detail, "/deploymentGroup").unwrap_or_else(|| "unknown-group".into());
    let id = text(detail, "/deploymentId");
    let state = text(detail, "/state").unwrap_or_else(|| "UNKNOWN".into());
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
        // `resources` lists the application and the deployment group, in either order.
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
        deployment_id: id,
        ..Alert::default()
    }
}
