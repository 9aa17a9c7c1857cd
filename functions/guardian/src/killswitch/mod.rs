//! Kill switch (DESIGN §5): the pure decisions behind `stop`, `resume` and `status`.
//!
//! The stop record lives in tags on the guarded function, so the function itself carries
//! who stopped it, why, when and what its reserved concurrency was. The handler in
//! `functions/kill-switch` does the AWS calls in the order these functions decide.

pub mod outcome;
pub mod record;
pub mod request;
pub mod schedule;
pub mod settle;
