//! Why an invocation fails. Every verdict, even Failed, is an answer; these are the cases
//! where the hook could not report one, or could not be told what to report against.

use guardian::hook::event::HookEventError;
use guardian::hook::verdict::Status;
use guardian_aws::error::{AwsCallError, ErrorType, diagnostic};
use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    BadEvent(#[from] HookEventError),
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

#[cfg(test)]
mod tests {
    use super::*;
    use guardian::hook::event::HookEvent;
    use serde_json::json;

    #[test]
    fn a_wrong_event_is_a_named_error() {
        let err = HookError::from(HookEvent::parse(json!({"DeploymentId": "d-1"})).unwrap_err());
        let d = Diagnostic::from(err);
        assert_eq!(d.error_type, "PreTrafficHook.BadEvent");
        assert!(
            d.error_message.contains("LifecycleEventHookExecutionId")
                && d.error_message.contains("events/hook-pre-traffic.json"),
            "{}",
            d.error_message
        );
    }
}
