//! CodeDeploy PreTraffic/PostTraffic hook (DESIGN.md §2): smoke-test the new version,
//! report the verdict to CodeDeploy exactly once on every path, publish it, return it.
//! The decisions live in `guardian::hook`; this crate does the AWS calls in order.

mod alarms;
mod app;
mod checks;
mod config;
mod error;
mod handler;
mod misconfigured;
mod observe;
mod ports;
mod probes;
mod report;
mod target;
mod verdict_flow;

pub use app::App;
pub use config::Config;
pub use error::HookError;
pub use handler::handler;
pub use misconfigured::misconfigured;
