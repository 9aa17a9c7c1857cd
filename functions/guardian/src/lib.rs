//! rollout-guardian's functional core and its AWS adapters.
//!
//! Decisions are pure functions over plain types (tested directly with the samples in
//! `events/`); the modules under `aws` are the only code that names `aws_sdk_*` types.

pub mod aws;
pub mod clients;
pub mod config;
pub mod deadline;
pub mod decision;
pub mod error;
pub mod guarded;
pub mod metrics;
pub mod sns_text;
pub mod telemetry;

// Domain cores, one per function.
pub mod dlq;
pub mod fanout;
pub mod hook;
pub mod killswitch;
