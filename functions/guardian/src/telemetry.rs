//! Logging setup: `tracing` to stdout, JSON when Lambda's advanced logging controls ask for
//! it (`AWS_LAMBDA_LOG_FORMAT=JSON`), level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.

/// Call once, first thing in `main`.
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// At most `max` characters of `text`, for logging values that may be long or sensitive
/// (message bodies are never logged in full).
pub fn preview(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push_str(&format!("…[{} bytes total]", text.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::preview;

    #[test]
    fn preview_cuts_and_says_so() {
        assert_eq!(preview("short", 10), "short");
        let p = preview(&"x".repeat(100), 5);
        assert!(p.starts_with("xxxxx…") && p.contains("100 bytes"), "{p}");
    }
}
