//! Error plumbing shared by the functions: a plain description of a failed AWS call (so the
//! core never sees SDK types) and the mapping of our errors to Lambda's `Diagnostic`.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use lambda_runtime::Diagnostic;

/// A failed AWS call, after the SDK's own retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {}{message}", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct AwsCallError {
    pub operation: &'static str,
    /// The AWS error code (`ThrottlingException`, `ResourceNotFoundException`, ...), when
    /// the service answered; `None` for timeouts and connection failures.
    pub code: Option<String>,
    pub message: String,
}

impl AwsCallError {
    pub fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let code = err.code().map(str::to_string);
        let message = match (&err, err.message()) {
            (SdkError::ServiceError(_), Some(m)) => m.to_string(),
            _ => DisplayErrorContext(&err).to_string(),
        };
        AwsCallError {
            operation,
            code,
            message,
        }
    }

    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// Errors that know the `errorType` Lambda should record for them.
pub trait ErrorType: std::error::Error {
    fn error_type(&self) -> &'static str;
}

/// `Diagnostic` for one of our errors: the type from `ErrorType`, and the message with its
/// whole source chain so the operator sees the root cause in one line.
pub fn diagnostic<E: ErrorType>(err: &E) -> Diagnostic {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    Diagnostic {
        error_type: err.error_type().to_string(),
        error_message: message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("could not stop trading")]
        Stop(#[source] AwsCallError),
    }
    impl ErrorType for Outer {
        fn error_type(&self) -> &'static str {
            "KillSwitch.StopFailed"
        }
    }

    #[test]
    fn diagnostic_carries_type_and_cause_chain() {
        let err = Outer::Stop(AwsCallError {
            operation: "PutFunctionConcurrency",
            code: Some("ThrottlingException".into()),
            message: "Rate exceeded".into(),
        });
        let d = diagnostic(&err);
        assert_eq!(d.error_type, "KillSwitch.StopFailed");
        assert_eq!(
            d.error_message,
            "could not stop trading: PutFunctionConcurrency failed: ThrottlingException: Rate exceeded"
        );
    }
}
