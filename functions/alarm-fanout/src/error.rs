//! Why an invocation fails: an error makes Lambda retry the event (or route it to the
//! function's failure destination), so nothing is dropped.

use guardian_aws::error::{AwsCallError, ErrorType, diagnostic};
use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    /// The kill switch could not be invoked; every alert was still published (or counted
    /// in `unpublished`).
    #[error(
        "auto-halt failed: could not invoke kill switch {function} for alarm {alarm} \
         ({unpublished} alert publications also failed)"
    )]
    HaltFailed {
        function: String,
        alarm: String,
        unpublished: usize,
        #[source]
        source: AwsCallError,
    },
    #[error(
        "{failed} of {total} alert publications still failed after retries; the others went \
         out. Lambda retries this event. First failure: topic {topic}: {error}"
    )]
    PublishFailed {
        failed: usize,
        total: usize,
        topic: String,
        error: String,
    },
}

impl ErrorType for FanoutError {
    fn error_type(&self) -> &'static str {
        match self {
            FanoutError::HaltFailed { .. } => "AlarmFanout.HaltFailed",
            FanoutError::PublishFailed { .. } => "AlarmFanout.PublishFailed",
        }
    }
}

impl From<FanoutError> for Diagnostic {
    fn from(e: FanoutError) -> Self {
        diagnostic(&e)
    }
}
