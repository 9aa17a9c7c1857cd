//! Invoking functions; reading and setting their reserved concurrency and tags.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};

use crate::error::AwsCallError;
use crate::on_first_use::OnFirstUse;
use guardian::invoke::InvokeOutcome;

/// Lambda's maximum function timeout.
const SYNC_INVOKE_LIMIT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub struct Lambda {
    client: OnFirstUse<Client>,
}

impl Lambda {
    pub fn new(client: Client) -> Self {
        Lambda {
            client: OnFirstUse::ready(client),
        }
    }

    /// The adapter over a client built from the function's shared SDK configuration.
    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        Lambda {
            client: OnFirstUse::from_sdk(sdk, "lambda", Client::new),
        }
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
            .get()
            .invoke()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .invocation_type(InvocationType::RequestResponse)
            .log_type(LogType::Tail)
            .payload(Blob::new(payload))
            .customize()
            // A synchronous invoke lasts as long as the function runs (up to 15 minutes):
            // the shared 10 s attempt timeout would cut slow smoke tests off. Callers bound
            // it by their own Lambda deadline instead.
            .config_override(
                aws_sdk_lambda::config::Builder::default().timeout_config(
                    aws_config::timeout::TimeoutConfig::builder()
                        .operation_attempt_timeout(SYNC_INVOKE_LIMIT)
                        .operation_timeout(SYNC_INVOKE_LIMIT)
                        .build(),
                ),
            )
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
            .get()
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
            .get()
            .get_function_concurrency()
            .function_name(function)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("GetFunctionConcurrency", e))?;
        Ok(out.reserved_concurrent_executions)
    }
}

/// A function's unqualified ARN (what the tag APIs want) and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionTags {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
}

impl Lambda {
    /// Sets the function's reserved concurrency to `n` (0 throttles every invoke).
    pub async fn put_reserved_concurrency(
        &self,
        function: &str,
        n: i32,
    ) -> Result<(), AwsCallError> {
        self.client
            .get()
            .put_function_concurrency()
            .function_name(function)
            .reserved_concurrent_executions(n)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("PutFunctionConcurrency", e))?;
        Ok(())
    }

    /// Removes the function's reservation: it draws on the account's unreserved pool again.
    pub async fn delete_reserved_concurrency(&self, function: &str) -> Result<(), AwsCallError> {
        self.client
            .get()
            .delete_function_concurrency()
            .function_name(function)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("DeleteFunctionConcurrency", e))?;
        Ok(())
    }

    /// The function's ARN and tags (`GetFunction`; also proves the function exists).
    pub async fn function_tags(&self, function: &str) -> Result<FunctionTags, AwsCallError> {
        let out = self
            .client
            .get()
            .get_function()
            .function_name(function)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("GetFunction", e))?;
        let arn = out
            .configuration
            .and_then(|c| c.function_arn)
            .ok_or_else(|| AwsCallError {
                operation: "GetFunction",
                code: None,
                message: format!("no FunctionArn in the answer for {function}"),
            })?;
        // The tag APIs take the unqualified ARN.
        let arn = unqualified(&arn).to_string();
        Ok(FunctionTags {
            arn,
            tags: out.tags.unwrap_or_default().into_iter().collect(),
        })
    }

    /// Adds or overwrites `tags` on the resource `arn`, all in one call.
    pub async fn tag(
        &self,
        arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsCallError> {
        let tags: HashMap<String, String> = tags.clone().into_iter().collect();
        self.client
            .get()
            .tag_resource()
            .resource(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("TagResource", e))?;
        Ok(())
    }

    /// Removes the tags `keys` from the resource `arn`, all in one call.
    pub async fn untag(&self, arn: &str, keys: &[&str]) -> Result<(), AwsCallError> {
        self.client
            .get()
            .untag_resource()
            .resource(arn)
            .set_tag_keys(Some(keys.iter().map(|k| k.to_string()).collect()))
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("UntagResource", e))?;
        Ok(())
    }
}

/// `arn:aws:lambda:r:a:function:NAME[:QUALIFIER]` -> `arn:aws:lambda:r:a:function:NAME`.
fn unqualified(arn: &str) -> &str {
    match arn.match_indices(':').nth(6) {
        Some((i, _)) => &arn[..i],
        None => arn,
    }
}

fn decode_log(b64: &str) -> Option<String> {
    aws_smithy_types::base64::decode(b64)
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::unqualified;

    #[test]
    fn tag_arn_drops_the_qualifier() {
        let base = "arn:aws:lambda:us-east-1:123456789012:function:bot";
        assert_eq!(unqualified(base), base);
        assert_eq!(unqualified(&format!("{base}:live")), base);
    }
}
