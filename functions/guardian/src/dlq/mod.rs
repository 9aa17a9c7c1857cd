//! DLQ inspector core (DESIGN §4): parsing requests, selecting messages, redacting and
//! summarising them into a report. No AWS calls here; `dlq-inspector` drives the batches.

pub mod destination;
pub mod message;
pub mod pacing;
pub mod redact;
pub mod report;
pub mod request;
pub mod reserve;
pub mod select;
pub mod streak;
