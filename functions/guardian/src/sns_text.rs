//! What SNS accepts: subjects AWS would reject never reach it, bodies fit its size limit.

/// SNS's limit for one message (all of it, every protocol's rendering included).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// AWS: a subject must be "less than 100 characters".
pub const MAX_SUBJECT_CHARS: usize = 99;

/// A subject SNS accepts: ASCII only, no control characters or line breaks, starting with a
/// letter, number or punctuation, shorter than 100 characters, never empty.
pub fn safe_subject(raw: &str) -> String {
    let mut cleaned = String::with_capacity(raw.len().min(128));
    let mut last_was_space = true; // also trims leading whitespace
    for c in raw.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else if c.is_ascii() {
            c
        } else {
            '?'
        };
        if c == ' ' {
            if !last_was_space {
                cleaned.push(' ');
            }
            last_was_space = true;
        } else {
            cleaned.push(c);
            last_was_space = false;
        }
    }
    let trimmed = cleaned.trim_end();
    let subject = if trimmed.chars().count() > MAX_SUBJECT_CHARS {
        let mut cut: String = trimmed.chars().take(MAX_SUBJECT_CHARS - 3).collect();
        cut.truncate(cut.trim_end().len());
        cut.push_str("...");
        cut
    } else {
        trimmed.to_string()
    };
    if subject.is_empty() {
        "rollout-guardian alert".to_string()
    } else {
        subject
    }
}

/// `body` cut to at most `max_bytes` (on a character boundary), with a marker saying how
/// much was kept, so a reader knows the tail is missing rather than never sent.
pub fn cap_body(body: &str, max_bytes: usize) -> String {
    if body.len() <= max_bytes {
        return body.to_string();
    }
    let marker = format!(
        "\n[truncated by rollout-guardian: kept {{kept}} of {} bytes]",
        body.len()
    );
    // Reserve room for the marker with the widest possible number in it.
    let budget = max_bytes.saturating_sub(marker.len() + 20);
    let mut cut = budget.min(body.len());
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}{}",
        &body[..cut],
        marker.replace("{kept}", &cut.to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_ascii_single_line_and_short() {
        let s = safe_subject("ALARM: \"Errors\" in EU — Frankfurt\nsecond line\t\u{7}");
        assert_eq!(s, "ALARM: \"Errors\" in EU ? Frankfurt second line");
        let long = safe_subject(&"a".repeat(300));
        assert!(long.len() < 100 && long.ends_with("..."));
        assert_eq!(safe_subject(" \n\t "), "rollout-guardian alert");
    }

    #[test]
    fn body_under_limit_is_untouched() {
        assert_eq!(cap_body("hello", 10), "hello");
    }

    #[test]
    fn body_over_limit_is_cut_with_a_marker_and_fits() {
        let body = "é".repeat(200_000); // 400,000 bytes
        let capped = cap_body(&body, MAX_MESSAGE_BYTES);
        assert!(capped.len() <= MAX_MESSAGE_BYTES);
        assert!(capped.contains("[truncated by rollout-guardian: kept "));
        assert!(capped.contains("of 400000 bytes]"));
    }
}
