//! Adapters: thin wrappers over the `aws_sdk_*` clients that speak plain types and
//! `AwsCallError` to the rest of the library.

pub mod cloudwatch;
pub mod codedeploy;
pub mod lambda;
pub mod scheduler;
pub mod sns;
pub mod sqs;
