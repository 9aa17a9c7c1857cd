//! Each function's real handler, run in the test process with the configuration a test
//! chooses, around the resources it needs in a fresh account: one world per function. What a
//! deployed stack rarely shows (faults injected per call, deadlines, concurrent stops,
//! adversarial input) is reached from here.

mod dlq;
mod fanout;
mod hook;
mod kill_switch;

pub use dlq::{DLQ, DlqWorld};
pub use fanout::FanoutWorld;
pub use hook::{EXECUTION, HookWorld};
pub use kill_switch::KillSwitchWorld;

use std::time::Duration;

use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::lambda_context;

/// The guarded function every world is built around.
pub const BOT: &str = "trading-bot";

/// An event as Lambda passes it, with `budget` left before the deadline.
pub fn event(payload: Value, budget: Duration) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, lambda_context(budget))
}
