//! Where a cold start's time goes, for `make bench` (docs/PERFORMANCE.md): with
//! `BENCH_INIT_TRACE=1` in the environment, every [`mark`] prints one line to stderr,
//! `BENCH_INIT_TRACE <phase> <unix time in ns>`, at the *end* of the phase it names; the
//! bench subtracts consecutive marks (the first from the moment it started the process).
//! Without the variable a mark costs one relaxed atomic load and prints nothing.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable that turns the marks on (value `1`).
pub const VAR: &str = "BENCH_INIT_TRACE";

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os(VAR).is_some_and(|v| v == "1"))
}

/// Marks the end of `phase`: prints it with the wall-clock time when the trace is on.
pub fn mark(phase: &str) {
    if enabled() {
        let ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        eprintln!("{VAR} {phase} {ns}");
    }
}
