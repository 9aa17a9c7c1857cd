//! Kill switch (DESIGN §5): stop trading in one invoke, resume exactly as it was.
//!
//! `{"action": "stop"|"resume"|"status", "reason", "requested_by", "function"?}`, or a
//! CloudWatch alarm event entering ALARM (auto-halt, a `stop`). The decisions live in
//! `guardian::killswitch`; this crate does the AWS calls in the order they require.

mod app;
mod config;
mod error;
mod guarded;
mod handler;
mod observe;
mod ports;
mod resume;
mod side_effects;
mod status;
mod stop;

#[cfg(test)]
mod fakes;

pub use app::App;
pub use config::{Config, DeploymentGroup};
pub use error::KillSwitchError;
pub use handler::handler;
