//! Quoting text safely in logs, alerts and error messages: bounded, never whole bodies.

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
    use super::*;

    #[test]
    fn preview_cuts_and_says_so() {
        assert_eq!(preview("short", 10), "short");
        let p = preview(&"x".repeat(100), 5);
        assert!(p.starts_with("xxxxx…") && p.contains("100 bytes"), "{p}");
    }
}
