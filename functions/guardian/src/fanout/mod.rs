//! Alarm fan-out (DESIGN §3): every alarm or deployment event, whatever shape it arrives in,
//! becomes one normalised [`Alert`], routed by severity and rendered per SNS protocol.
//!
//! Everything here is pure; the function crate `alarm-fanout` does the I/O.

pub mod alert;
pub mod batching;
pub mod glob;
pub mod halt;
pub mod links;
pub mod outcome;
pub mod outgoing;
pub mod parse;
pub mod render;
pub mod routing;

pub use alert::{Alert, Severity, Source};
pub use parse::normalise;
