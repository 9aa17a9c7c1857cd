//! Redacting values of sensitive keys (passwords, tokens, account numbers) from message
//! bodies before any of it appears in a report, an alert or a log.

use regex_lite::Regex;
use serde_json::Value;

pub const REDACTED: &str = "[redacted]";

/// `SENSITIVE_KEYS` when unset.
pub const DEFAULT_SENSITIVE_KEYS: &[&str] = &[
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "account_number",
    "iban",
];

#[derive(Debug, Clone)]
pub struct Redactor {
    /// Keys normalised (lower case, no `_`/`-`), so `apiKey`, `api_key` and `API-KEY` match.
    normalised: Vec<String>,
    /// `key=value` / `"key": "value"` inside text that is not JSON (or inside JSON strings).
    /// Key matching ignores ASCII case and word boundaries are ASCII ones; whitespace is
    /// Unicode's (`WHITE_SPACE`). `regex_lite`: built in microseconds at cold start where
    /// `regex` took over a millisecond, and it only ever scans a few samples.
    in_text: Option<Regex>,
}

/// Unicode's `White_Space` property, the set `\s` means in the `regex` crate (`regex_lite`'s
/// `\s` is ASCII only), for use inside a bracketed class.
const WHITE_SPACE: &str = r"\t\n\x0B\x0C\r\x20\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}";

fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

impl Redactor {
    pub fn new<S: AsRef<str>>(keys: &[S]) -> Result<Self, regex_lite::Error> {
        let keys: Vec<&str> = keys
            .iter()
            .map(AsRef::as_ref)
            .filter(|k| !k.is_empty())
            .collect();
        let in_text = if keys.is_empty() {
            None
        } else {
            let alternatives: Vec<String> = keys.iter().map(|k| regex_lite::escape(k)).collect();
            Some(Regex::new(&format!(
                r#"((?i:\b(?:{keys})\b)["']?[{ws}]*[=:][{ws}]*)("(?:[^"\\]|\\.)*"|'[^']*'|[^{ws},;&}}\]]+)"#,
                keys = alternatives.join("|"),
                ws = WHITE_SPACE,
            ))?)
        };
        Ok(Redactor {
            normalised: keys.iter().map(|k| normalise(k)).collect(),
            in_text,
        })
    }

    fn is_sensitive(&self, key: &str) -> bool {
        let key = normalise(key);
        self.normalised.contains(&key)
    }

    /// Replaces, at any depth, the value of every sensitive key; strings are also scanned
    /// for `key=value` text (a JSON document embedded as a string, a query string).
    pub fn redact_json(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if self.is_sensitive(key) {
                        *v = Value::String(REDACTED.into());
                    } else {
                        self.redact_json(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::String(s) => {
                let redacted = self.redact_text(s);
                if redacted != *s {
                    *s = redacted;
                }
            }
            _ => {}
        }
    }

    pub fn redact_text(&self, text: &str) -> String {
        match &self.in_text {
            Some(re) => re
                .replace_all(text, format!("${{1}}{REDACTED}"))
                .into_owned(),
            None => text.to_string(),
        }
    }

    /// A body safe to show: JSON with sensitive values replaced, or redacted text.
    pub fn redact_body(&self, body: &str) -> String {
        match serde_json::from_str::<Value>(body) {
            Ok(mut json) => {
                self.redact_json(&mut json);
                json.to_string()
            }
            Err(_) => self.redact_text(body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn default() -> Redactor {
        Redactor::new(DEFAULT_SENSITIVE_KEYS).unwrap()
    }

    #[test]
    fn sensitive_json_values_are_replaced_at_any_depth_in_any_spelling() {
        let body = json!({
            "order": {"symbol": "EURUSD", "apiKey": "AKIA123", "legs": [{"IBAN": "DE89 3704"}]},
            "Authorization": "Bearer xyz",
            "account-number": 12345678,
            "note": "fine"
        })
        .to_string();
        let out = default().redact_body(&body);
        for secret in ["AKIA123", "DE89", "Bearer", "12345678"] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        assert!(out.contains("EURUSD") && out.contains("fine"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 4, "{out}");
    }

    #[test]
    fn text_and_embedded_json_are_redacted_too() {
        let r = default();
        assert_eq!(
            r.redact_body("user=bob&password=hunter2&x=1"),
            "user=bob&password=[redacted]&x=1"
        );
        assert_eq!(
            r.redact_body("token: abc.def, other: 1"),
            "token: [redacted], other: 1"
        );
        let embedded = json!({"Message": "{\"secret\":\"s3cr3t\",\"qty\":1}"}).to_string();
        let out = r.redact_body(&embedded);
        assert!(!out.contains("s3cr3t") && out.contains("qty"), "{out}");
    }

    #[test]
    fn white_space_is_exactly_what_regex_means_by_backslash_s() {
        let unicode = regex::Regex::new(r"^\s$").unwrap();
        let ours = Regex::new(&format!("^[{WHITE_SPACE}]$")).unwrap();
        // Every code point up to U+3100 (the last White_Space is U+3000), then a sweep.
        let points = (0..=0x3100).chain((0x3101..=0x10FFFF).step_by(7));
        for c in points.filter_map(char::from_u32) {
            let text = c.to_string();
            assert_eq!(
                ours.is_match(&text),
                unicode.is_match(&text),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn text_separators_and_values_end_at_unicode_white_space() {
        let r = default();
        assert_eq!(
            r.redact_text("token\u{A0}:\u{3000}abc\u{2003}next"),
            "token\u{A0}:\u{3000}[redacted]\u{2003}next"
        );
        assert_eq!(r.redact_text("PassWord=x y"), "PassWord=[redacted] y");
        assert_eq!(r.redact_text("mypassword=x"), "mypassword=x");
    }

    #[test]
    fn keys_are_configurable_and_empty_means_none() {
        let r = Redactor::new(&["pin"]).unwrap();
        assert_eq!(
            r.redact_body(r#"{"pin":"1234","password":"p"}"#),
            r#"{"password":"p","pin":"[redacted]"}"#
        );
        let none = Redactor::new::<&str>(&[]).unwrap();
        assert_eq!(none.redact_body("password=p"), "password=p");
    }
}
