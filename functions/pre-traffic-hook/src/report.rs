//! Telling CodeDeploy the verdict, exactly once, before the Lambda deadline.

use std::time::Duration;

use guardian_aws::codedeploy::{HookStatus, Reported};
use guardian_aws::deadline::{DEADLINE_REACHED, Deadline};
use guardian_aws::error::AwsCallError;

use crate::ports::HookStatuses;

/// Kept free at the very end of the invocation so the handler can still return.
const FINAL_MARGIN: Duration = Duration::from_millis(200);
const PAUSE_BETWEEN_ROUNDS: Duration = Duration::from_millis(500);
/// Rounds of the SDK's own retries (3 attempts each by default).
const ROUNDS: u32 = 3;

/// Reports `status`, retrying transient failures while time is left. CodeDeploy refuses a
/// second verdict for the same execution (`LifecycleEventAlreadyCompletedException`, which
/// the adapter turns into `AlreadyCompleted`), so a retry after a lost response cannot
/// record twice.
pub async fn report_once(
    codedeploy: &impl HookStatuses,
    deployment_id: &str,
    execution_id: &str,
    status: HookStatus,
    deadline: Deadline,
) -> Result<Reported, AwsCallError> {
    let mut round = 1;
    loop {
        let call = codedeploy.report_hook_status(deployment_id, execution_id, status);
        let error = match deadline
            .call(FINAL_MARGIN, "PutLifecycleEventHookExecutionStatus", call)
            .await
        {
            Ok(reported) => return Ok(reported),
            Err(e) => e,
        };
        let time_left = deadline.remaining_before(FINAL_MARGIN) > PAUSE_BETWEEN_ROUNDS;
        if round >= ROUNDS || !is_transient(&error) || !time_left {
            return Err(error);
        }
        tracing::warn!(deployment_id, round, "report failed, retrying: {error}");
        round += 1;
        tokio::time::sleep(PAUSE_BETWEEN_ROUNDS).await;
    }
}

/// Throttling, server errors, lost connections and a call cut off by the deadline may pass
/// on a later try (time permitting); a wrong id or missing permission will not.
fn is_transient(e: &AwsCallError) -> bool {
    match e.code.as_deref() {
        None | Some(DEADLINE_REACHED) => true,
        Some(code) => {
            code.contains("Throttl")
                || code.contains("TooManyRequests")
                || code.contains("LimitExceeded")
                || code.contains("InternalFailure")
                || code.contains("InternalError")
                || code.contains("ServiceUnavailable")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: Option<&str>) -> AwsCallError {
        AwsCallError {
            operation: "PutLifecycleEventHookExecutionStatus",
            code: code.map(str::to_string),
            message: "x".into(),
        }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(is_transient(&err(None)));
        assert!(is_transient(&err(Some(DEADLINE_REACHED))));
        assert!(is_transient(&err(Some("ThrottlingException"))));
        assert!(is_transient(&err(Some("InternalFailure"))));
        assert!(!is_transient(&err(Some("DeploymentDoesNotExistException"))));
        assert!(!is_transient(&err(Some("AccessDeniedException"))));
    }
}
