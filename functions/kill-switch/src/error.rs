//! Why an invocation fails. Bad requests change nothing; the others say what state the
//! function was left in.

use guardian::killswitch::record::DamagedRecord;
use guardian::killswitch::request::RequestError;
use guardian_aws::error::{AwsCallError, ErrorType, diagnostic};
use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum KillSwitchError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    DamagedRecord(#[from] DamagedRecord),
    #[error("could not read the state of {function}; nothing was changed")]
    Read {
        function: String,
        #[source]
        source: AwsCallError,
    },
    #[error(
        "could not stop {function}: setting reserved concurrency 0 failed, trading may still run; \
         invoke stop again, or run: aws lambda put-function-concurrency --function-name {function} \
         --reserved-concurrent-executions 0"
    )]
    StopFailed {
        function: String,
        #[source]
        source: AwsCallError,
    },
    #[error(
        "{function} is stopped (reserved concurrency 0) but its stop record could not be written; \
         its previous reserved concurrency was {previous}: restore it by hand when resuming"
    )]
    RecordFailed {
        function: String,
        previous: String,
        #[source]
        source: AwsCallError,
    },
    #[error(
        "could not resume {function}: restoring reserved concurrency {previous} failed, it is still \
         stopped and its record is kept; invoke resume again"
    )]
    RestoreFailed {
        function: String,
        previous: String,
        #[source]
        source: AwsCallError,
    },
    #[error(
        "{function} runs again (reserved concurrency {previous} restored) but its stop record could \
         not be removed; invoke resume again to clear it"
    )]
    ClearFailed {
        function: String,
        previous: String,
        #[source]
        source: AwsCallError,
    },
}

impl ErrorType for KillSwitchError {
    fn error_type(&self) -> &'static str {
        match self {
            KillSwitchError::Request(e) => e.kind(),
            KillSwitchError::DamagedRecord(_) => "KillSwitch.DamagedRecord",
            KillSwitchError::Read { .. } => "KillSwitch.ReadFailed",
            KillSwitchError::StopFailed { .. } => "KillSwitch.StopFailed",
            KillSwitchError::RecordFailed { .. } => "KillSwitch.RecordFailed",
            KillSwitchError::RestoreFailed { .. } => "KillSwitch.RestoreFailed",
            KillSwitchError::ClearFailed { .. } => "KillSwitch.ClearFailed",
        }
    }
}

impl From<KillSwitchError> for Diagnostic {
    fn from(e: KillSwitchError) -> Self {
        diagnostic(&e)
    }
}
