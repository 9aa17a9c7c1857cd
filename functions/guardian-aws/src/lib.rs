//! rollout-guardian's AWS side: thin adapters over the `aws_sdk_*` clients that speak the
//! core's plain types (`guardian`) and `AwsCallError`, the one place that configures SDK
//! clients, the invocation deadline, errors as Lambda records them, logging and metrics.
//! The only crate of the functions that names `aws_sdk_*` types.

pub mod clients;
pub mod deadline;
pub mod decision;
pub mod error;
pub mod metrics;
pub mod telemetry;

// One adapter per service.
pub mod cloudwatch;
pub mod codedeploy;
pub mod lambda;
pub mod scheduler;
pub mod sns;
pub mod sqs;
