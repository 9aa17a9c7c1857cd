//! rollout-guardian's AWS side: thin adapters over the `aws_sdk_*` clients that speak the
//! core's plain types (`guardian`) and `AwsCallError`, the one place that configures SDK
//! clients, the invocation deadline, errors as Lambda records them, logging and metrics.
//! The only crate of the functions that names `aws_sdk_*` types.

pub mod clients;
pub mod deadline;
pub mod decision;
pub mod error;
pub mod init_trace;
pub mod invocation;
pub mod metrics;
mod on_first_use;
pub mod telemetry;

// One adapter per service, each behind the feature of the same name.
#[cfg(feature = "cloudwatch")]
pub mod cloudwatch;
#[cfg(feature = "codedeploy")]
pub mod codedeploy;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "scheduler")]
pub mod scheduler;
#[cfg(feature = "sns")]
pub mod sns;
#[cfg(feature = "sqs")]
pub mod sqs;
