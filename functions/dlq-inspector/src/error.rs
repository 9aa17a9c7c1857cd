//! What can make an invocation fail, with the `errorType` Lambda records for it.

use guardian::dlq::request::RequestError;
use guardian_aws::error::{AwsCallError, ErrorType, diagnostic};
use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum DlqError {
    /// A bad request: nothing was touched.
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(
        "{0} has no dead-letter queue in DLQ_URL, so there is nothing to inspect or redrive; add its queue (URL or ARN) at its place in the list"
    )]
    NoQueue(String),
    #[error("could not read the dead-letter queue's depth, so nothing was touched")]
    QueueUnreadable(#[source] AwsCallError),
    #[error(
        "could not read the dead-letter queue's depth before the deadline, so nothing was touched"
    )]
    OutOfTime(#[source] AwsCallError),
    /// Inspect only: the report is the point of a scheduled run, so a lost one fails the
    /// invocation (nothing was consumed; the schedule's retry runs it again).
    #[error("the DLQ report could not be published to the alert topic")]
    AlertNotPublished(#[source] AwsCallError),
    #[error("the DLQ report could not be serialised: {0}")]
    Serialise(String),
    /// Redrive refused: the target is stopped by the kill switch, so Lambda would put every
    /// re-sent event straight back into this queue (async invokes at reserved concurrency 0
    /// go to the DLQ without running). Nothing was read or moved.
    #[error(
        "{function} is stopped (reserved concurrency 0, the kill switch): a redrive now would send every message straight back to the DLQ; nothing was moved. Resume trading first (kill switch action \"resume\"), then redrive"
    )]
    TargetStopped { function: String },
    #[error("could not check whether {function} is stopped, so nothing was moved")]
    TargetUnreadable {
        function: String,
        #[source]
        source: AwsCallError,
    },
}

impl ErrorType for DlqError {
    fn error_type(&self) -> &'static str {
        match self {
            DlqError::Request(RequestError::UnknownAction(_)) => "Dlq.UnknownAction",
            DlqError::Request(RequestError::PurgeNotConfirmed { .. }) => "Dlq.PurgeNotConfirmed",
            DlqError::Request(_) => "Dlq.BadRequest",
            DlqError::NoQueue(_) => "Dlq.NoQueue",
            DlqError::QueueUnreadable(_) => "Dlq.QueueUnreadable",
            DlqError::OutOfTime(_) => "Dlq.OutOfTime",
            DlqError::AlertNotPublished(_) => "Dlq.AlertNotPublished",
            DlqError::Serialise(_) => "Dlq.Internal",
            DlqError::TargetStopped { .. } => "Dlq.TargetStopped",
            DlqError::TargetUnreadable { .. } => "Dlq.TargetUnreadable",
        }
    }
}

impl From<DlqError> for Diagnostic {
    fn from(e: DlqError) -> Self {
        diagnostic(&e)
    }
}
