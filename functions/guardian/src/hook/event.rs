//! The event CodeDeploy invokes a lifecycle hook with, reduced to the two ids the hook
//! reports against.

use serde::Deserialize;
use serde_json::Value;

/// The two ids CodeDeploy sends the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEvent {
    pub deployment_id: String,
    pub execution_id: String,
}

/// Why an event is not a hook event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookEventError {
    #[error(
        "the event is not a CodeDeploy lifecycle hook event ({0}); CodeDeploy sends {{\"DeploymentId\": \"d-...\", \"LifecycleEventHookExecutionId\": \"...\"}}, see events/hook-pre-traffic.json"
    )]
    BadEvent(String),
}

/// The event as CodeDeploy sends it; other fields are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LifecycleEvent {
    deployment_id: String,
    lifecycle_event_hook_execution_id: String,
}

impl HookEvent {
    /// Both ids, or an error naming the missing, mistyped or blank one.
    pub fn parse(payload: Value) -> Result<HookEvent, HookEventError> {
        let e: LifecycleEvent =
            serde_json::from_value(payload).map_err(|e| HookEventError::BadEvent(e.to_string()))?;
        for (field, value) in [
            ("DeploymentId", &e.deployment_id),
            (
                "LifecycleEventHookExecutionId",
                &e.lifecycle_event_hook_execution_id,
            ),
        ] {
            if value.trim().is_empty() {
                return Err(HookEventError::BadEvent(format!("{field} is empty")));
            }
        }
        Ok(HookEvent {
            deployment_id: e.deployment_id,
            execution_id: e.lifecycle_event_hook_execution_id,
        })
    }
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
            assert!(!ids.execution_id.is_empty(), "{file}");
        }
    }

    #[test]
    fn a_missing_or_mistyped_id_is_named() {
        let missing = HookEvent::parse(json!({"DeploymentId": "d-1"})).unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("LifecycleEventHookExecutionId"),
            "{missing}"
        );
        let mistyped =
            HookEvent::parse(json!({"DeploymentId": 7, "LifecycleEventHookExecutionId": "x"}));
        assert!(matches!(mistyped, Err(HookEventError::BadEvent(_))));
        assert!(HookEvent::parse(json!([1, 2])).is_err());
    }

    #[test]
    fn a_blank_id_is_refused() {
        let blank =
            HookEvent::parse(json!({"DeploymentId": " ", "LifecycleEventHookExecutionId": "x"}))
                .unwrap_err();
        assert!(
            blank.to_string().contains("DeploymentId is empty"),
            "{blank}"
        );
    }

    #[test]
    fn extra_fields_are_ignored() {
        let ids = HookEvent::parse(json!({"DeploymentId": "d-1",
            "LifecycleEventHookExecutionId": "e-1", "Other": {"x": 1}}))
        .unwrap();
        assert_eq!(
            ids,
            HookEvent {
                deployment_id: "d-1".into(),
                execution_id: "e-1".into()
            }
        );
    }
}
