//! The floor row of `make bench` (docs/PERFORMANCE.md): the least a Rust function on
//! `lambda_runtime` can do. It answers every event with the event itself; no logging setup,
//! no configuration, no AWS SDK, no TLS. What the guardian's functions take above this is
//! theirs to trim.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

// The runtime the functions use (`#[tokio::main(flavor = "current_thread")]`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    mark("runtime");
    mark("handler");
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}

/// The same phase marks as `guardian_aws::init_trace`, without depending on it.
fn mark(phase: &str) {
    if std::env::var_os("BENCH_INIT_TRACE").is_some_and(|v| v == "1") {
        let ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        eprintln!("BENCH_INIT_TRACE {phase} {ns}");
    }
}
