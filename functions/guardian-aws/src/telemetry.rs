//! Logging setup: `tracing` to stdout, JSON when Lambda's advanced logging controls ask for
//! it (`AWS_LAMBDA_LOG_FORMAT=JSON`), level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
//!
//! EMF metric documents (`crate::metrics`) travel as `tracing` events with the target
//! [`EMF_TARGET`] and are written as the bare JSON document, one per line, whatever the log
//! format or level: CloudWatch only extracts metrics from lines that are the document
//! itself. Building the subscriber over any writer lets tests capture exactly what a
//! deployed function prints.

use std::str::FromStr;

use lambda_runtime::tracing::subscriber::filter::{EnvFilter, LevelFilter, filter_fn};
use lambda_runtime::tracing::subscriber::fmt::{self, MakeWriter};
use lambda_runtime::tracing::subscriber::layer::{Context, Layer, SubscriberExt};
use lambda_runtime::tracing::subscriber::registry::Registry;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};

/// The target of events carrying an EMF document in their [`EMF_FIELD`] field.
pub const EMF_TARGET: &str = "emf";
pub const EMF_FIELD: &str = "emf";

/// How ordinary log lines are formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, event fields at the top level (Lambda's JSON log format).
    Json,
    Text,
}

/// Call once, first thing in `main`.
pub fn init() {
    let format = match std::env::var("AWS_LAMBDA_LOG_FORMAT") {
        Ok(f) if f.eq_ignore_ascii_case("json") => LogFormat::Json,
        _ => LogFormat::Text,
    };
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| LevelFilter::from_str(&l).ok())
        .unwrap_or(LevelFilter::INFO);
    let directives = std::env::var("RUST_LOG").unwrap_or_default();
    // Only fails when a subscriber is already set, and then logging works anyway.
    let _ = tracing::subscriber::set_global_default(subscriber(
        format,
        level,
        &directives,
        std::io::stdout,
    ));
}

/// The production subscriber writing to `writer`: log lines at `level` (refined by
/// `RUST_LOG`-style `directives`), EMF documents always.
pub fn subscriber<W>(
    format: LogFormat,
    level: LevelFilter,
    directives: &str,
    writer: W,
) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Clone + Send + Sync + 'static,
{
    let filter = || {
        EnvFilter::builder()
            .with_default_directive(level.into())
            .parse_lossy(directives)
    };
    let not_emf = || filter_fn(|meta| meta.target() != EMF_TARGET);
    let json = (format == LogFormat::Json).then(|| {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_target(false)
            .without_time()
            .with_writer(writer.clone())
            .with_filter(filter())
            .with_filter(not_emf())
    });
    let text = (format == LogFormat::Text).then(|| {
        fmt::layer()
            .with_target(false)
            .without_time()
            .with_writer(writer.clone())
            .with_filter(filter())
            .with_filter(not_emf())
    });
    let emf = EmfLayer { writer }.with_filter(filter_fn(|meta| meta.target() == EMF_TARGET));
    Registry::default().with(json).with(text).with(emf)
}

/// Writes each EMF event's document verbatim, one line each.
struct EmfLayer<W> {
    writer: W,
}

impl<S, W> Layer<S> for EmfLayer<W>
where
    S: Subscriber,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut document = DocumentField(None);
        event.record(&mut document);
        if let Some(mut line) = document.0 {
            line.push('\n');
            // A lost metric line must never fail the invocation.
            let _ = std::io::Write::write_all(&mut self.writer.make_writer(), line.as_bytes());
        }
    }
}

struct DocumentField(Option<String>);

impl Visit for DocumentField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == EMF_FIELD {
            self.0 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

/// What the production subscriber prints while `log` runs, line by line (for tests of
/// what a deployed function would print).
#[cfg(test)]
pub(crate) fn captured_lines(
    format: LogFormat,
    level: LevelFilter,
    log: impl FnOnce(),
) -> Vec<String> {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let sub = subscriber(format, level, "", move || writer.clone());
    tracing::subscriber::with_default(sub, log);
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_lines_are_bare_documents_even_above_the_log_level() {
        let lines = captured_lines(LogFormat::Json, LevelFilter::WARN, || {
            tracing::info!(emf = "ignored", "an info line below WARN");
            tracing::warn!(answer = 42, "a warning");
            tracing::info!(target: EMF_TARGET, emf = r#"{"_aws":{}}"#);
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        let warning: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(warning["answer"], 42, "fields at the top level: {warning}");
        assert_eq!(warning["message"], "a warning");
        assert_eq!(lines[1], r#"{"_aws":{}}"#);
    }

    #[test]
    fn text_format_keeps_emf_out_of_log_lines() {
        let lines = captured_lines(LogFormat::Text, LevelFilter::INFO, || {
            tracing::info!(target: EMF_TARGET, emf = r#"{"_aws":{}}"#);
            tracing::info!("hello");
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0], r#"{"_aws":{}}"#);
        assert!(lines[1].contains("hello") && !lines[1].contains("_aws"));
    }
}
