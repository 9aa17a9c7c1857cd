//! The AWS adapters: the only module naming `aws_sdk_*` types. Configured through
//! `guardian_aws::clients::loader`, so TLS, timeouts and retries are the functions' own; region,
//! credentials and endpoint (`AWS_ENDPOINT_URL`) come from the standard chain.

use std::collections::BTreeMap;

use aws_config::Region;
use guardian::queue::QueueDepth;
use guardian_aws::clients::{SdkSettings, loader};
use guardian_aws::codedeploy::{CodeDeploy, InFlight};
use guardian_aws::error::AwsCallError;
use guardian_aws::lambda::Lambda;
use guardian_aws::sqs::Sqs;

/// A stack as `DescribeStacks` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInfo {
    pub status: String,
    pub outputs: BTreeMap<String, String>,
}

/// What a synchronous invoke returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
}

/// Every client the CLI uses, built once.
pub struct Aws {
    region: Option<String>,
    cloudformation: aws_sdk_cloudformation::Client,
    sts: aws_sdk_sts::Client,
    lambda: Lambda,
    sqs: Sqs,
    codedeploy: CodeDeploy,
}

impl Aws {
    pub async fn connect(
        settings: &SdkSettings,
        region: Option<&str>,
        profile: Option<&str>,
    ) -> Aws {
        let mut config = loader(settings);
        if let Some(profile) = profile {
            config = config.profile_name(profile);
        }
        if let Some(region) = region {
            config = config.region(Region::new(region.to_string()));
        }
        let sdk = config.load().await;
        Aws {
            region: sdk.region().map(|r| r.to_string()),
            cloudformation: aws_sdk_cloudformation::Client::new(&sdk),
            sts: aws_sdk_sts::Client::new(&sdk),
            lambda: Lambda::from_sdk(&sdk),
            sqs: Sqs::from_sdk(&sdk),
            codedeploy: CodeDeploy::from_sdk(&sdk),
        }
    }

    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The stack's status and outputs; `Ok(None)` when there is no such stack.
    pub async fn stack(&self, name: &str) -> Result<Option<StackInfo>, AwsCallError> {
        let answer = self
            .cloudformation
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("DescribeStacks", e));
        let out = match answer {
            Ok(out) => out,
            Err(e) if crate::error::stack_missing(e.code.as_deref(), &e.message) => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        Ok(out.stacks().first().map(|s| StackInfo {
            status: s
                .stack_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            outputs: s
                .outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
                .collect(),
        }))
    }

    /// The caller's ARN (STS `GetCallerIdentity`, which needs no permission).
    pub async fn caller_arn(&self) -> Result<String, AwsCallError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("GetCallerIdentity", e))?;
        out.arn.ok_or_else(|| AwsCallError {
            operation: "GetCallerIdentity",
            code: None,
            message: "no Arn in the answer".into(),
        })
    }

    pub async fn invoke(&self, function: &str, payload: &[u8]) -> Result<Invoked, AwsCallError> {
        let out = self.lambda.invoke(function, None, payload).await?;
        Ok(Invoked {
            function_error: out.function_error,
            payload: out.payload,
        })
    }

    pub async fn dlq_depth(&self, queue_url: &str) -> Result<QueueDepth, AwsCallError> {
        self.sqs.depth(queue_url).await
    }

    pub async fn deployments_in_flight(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Vec<InFlight>, AwsCallError> {
        self.codedeploy
            .in_flight_deployments(application, group)
            .await
    }
}
