//! Alarm fan-out (DESIGN §3): CloudWatch alarm and CodeDeploy events in, routed and readable
//! SNS alerts out. The decisions live in `guardian::fanout`; this crate does the AWS calls.

mod answer;
mod app;
mod config;
mod delivery;
mod error;
mod halt;
mod handler;
mod observe;
mod ports;

pub use app::App;
pub use config::{Config, RetryPolicy};
pub use error::FanoutError;
pub use handler::handler;
