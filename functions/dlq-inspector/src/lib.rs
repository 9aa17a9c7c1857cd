//! DLQ inspector (DESIGN §4): see what failed in the guarded function's dead-letter queue,
//! redrive it safely, lose nothing. `inspect` (the schedule's action) consumes nothing;
//! `redrive` re-sends by async Invoke or to a source queue and deletes only what was
//! re-sent; `purge` deletes selected messages once confirmed with the queue name.

mod app;
mod config;
mod error;
mod handler;
mod observe;
mod pass;
mod ports;
mod scoped;

#[cfg(test)]
mod fakes;

pub use app::App;
pub use config::{Config, GuardedDlq, RedriveFunction};
pub use error::DlqError;
pub use handler::handler;
