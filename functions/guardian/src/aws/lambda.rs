//! Invoking functions and reading their reserved concurrency.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};

use crate::error::AwsCallError;

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

#[derive(Debug, Clone)]
pub struct Lambda {
    client: Client,
}

impl Lambda {
    pub fn new(client: Client) -> Self {
        Lambda { client }
    }

    /// Synchronous invoke of `function` at `qualifier` (a version number or alias), with the
    /// log tail requested.
    pub async fn invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &[u8],
    ) -> Result<InvokeOutcome, AwsCallError> {
        let out = self
            .client
            .invoke()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .invocation_type(InvocationType::RequestResponse)
            .log_type(LogType::Tail)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("Invoke", e))?;
        Ok(InvokeOutcome {
            status_code: out.status_code,
            function_error: out.function_error,
            executed_version: out.executed_version,
            payload: out.payload.map(Blob::into_inner).unwrap_or_default(),
            log_tail: out.log_result.as_deref().and_then(decode_log),
        })
    }

    /// Asynchronous invoke (`Event`): Lambda queues the event and answers 202.
    pub async fn invoke_async(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &[u8],
    ) -> Result<(), AwsCallError> {
        self.client
            .invoke()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("Invoke", e))?;
        Ok(())
    }

    /// The function's reserved concurrency: `Some(n)`, or `None` when unreserved.
    pub async fn reserved_concurrency(&self, function: &str) -> Result<Option<i32>, AwsCallError> {
        let out = self
            .client
            .get_function_concurrency()
            .function_name(function)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("GetFunctionConcurrency", e))?;
        Ok(out.reserved_concurrent_executions)
    }
}

fn decode_log(b64: &str) -> Option<String> {
    aws_smithy_types::base64::decode(b64)
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}
