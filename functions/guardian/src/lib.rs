//! rollout-guardian's functional core: pure decisions over plain types, tested directly with
//! the samples in `events/`. It depends on no AWS SDK, no Lambda runtime and no async
//! runtime: the compiler keeps the AWS adapters (crate `guardian-aws`) out.

pub mod config;
pub mod guarded;
pub mod per_function;
pub mod preview;
pub mod sns_text;

// The plain types the cores share with the adapters.
pub mod invoke;
pub mod publication;
pub mod queue;

// Domain cores, one per function.
pub mod dlq;
pub mod fanout;
pub mod hook;
pub mod killswitch;
