//! What a synchronous Lambda invoke returned, in plain types: what the hook's core judges and
//! the Lambda adapter returns.

/// What a synchronous invoke returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeOutcome {
    pub status_code: i32,
    /// `Handled` / `Unhandled` when the function failed; the payload then holds the error.
    pub function_error: Option<String>,
    pub executed_version: Option<String>,
    pub payload: Vec<u8>,
    /// The last 4 KB of the invocation's log, decoded.
    pub log_tail: Option<String>,
}
