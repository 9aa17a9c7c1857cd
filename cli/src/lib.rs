//! `rollout-guardian`, the operator CLI (issue #20): stop trading, resume, status and the
//! DLQ in one short command, with a human summary and exit codes scripts can trust.
//!
//! `main.rs` only wires. The decisions are pure functions with their own tests: finding the
//! stack ([`locate`]), reading durations ([`duration`]), when to ask ([`confirm`]), the
//! summary and exit code from a function's answer ([`killswitch`], [`dlq`], [`answer`]),
//! errors a person can act on ([`error`]). [`aws`] is the only module naming `aws_sdk_*`
//! types; [`commands`] sequences the calls.

pub mod answer;
pub mod args;
pub mod aws;
pub mod commands;
pub mod confirm;
pub mod dlq;
pub mod drill;
pub mod duration;
pub mod error;
pub mod exit;
pub mod identity;
pub mod killswitch;
pub mod locate;
pub mod style;
