//! The stop record: tags on the guarded function saying who stopped it, why, when, and the
//! reserved concurrency to restore.

use std::collections::BTreeMap;
use std::fmt;

pub const STOPPED_AT: &str = "guardian:stopped-at";
pub const STOPPED_BY: &str = "guardian:stopped-by";
pub const STOP_REASON: &str = "guardian:stop-reason";
pub const PREVIOUS_CONCURRENCY: &str = "guardian:previous-concurrency";
/// Left by `resume`: what it restored. A stop that finds reserved concurrency 0 and no
/// record (a concurrent resume has not settled yet) records this instead of the 0.
pub const LAST_RESTORED: &str = "guardian:last-restored-concurrency";

/// The record's tags; `resume` removes exactly these.
pub const RECORD_KEYS: [&str; 4] = [STOPPED_AT, STOPPED_BY, STOP_REASON, PREVIOUS_CONCURRENCY];

/// Lambda's limit for one tag value.
pub const MAX_TAG_VALUE_CHARS: usize = 256;

/// A function's reserved concurrency as it was: a number, or unreserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    Reserved(i32),
    Unreserved,
}

impl Concurrency {
    pub fn from_reserved(value: Option<i32>) -> Self {
        value.map_or(Concurrency::Unreserved, Concurrency::Reserved)
    }

    pub fn reserved(self) -> Option<i32> {
        match self {
            Concurrency::Reserved(n) => Some(n),
            Concurrency::Unreserved => None,
        }
    }

    /// The tag spelling: the number, or `none`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "none" => Some(Concurrency::Unreserved),
            n => n
                .parse::<i32>()
                .ok()
                .filter(|n| *n >= 0)
                .map(Concurrency::Reserved),
        }
    }
}

impl fmt::Display for Concurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Concurrency::Reserved(n) => write!(f, "{n}"),
            Concurrency::Unreserved => f.write_str("none"),
        }
    }
}

/// Who stopped the function, why, when, and what to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopRecord {
    /// RFC 3339, UTC.
    pub stopped_at: String,
    pub stopped_by: String,
    pub reason: String,
    pub previous: Concurrency,
}

/// A record whose tags are present but unusable: resuming from it would be a guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the stop record on the function is damaged: tag {tag} is {value:?}; set it to the reserved \
     concurrency to restore (a number, or none) and resume again"
)]
pub struct DamagedRecord {
    pub tag: &'static str,
    pub value: Option<String>,
}

impl StopRecord {
    /// The record in `tags`: `Ok(None)` when the function is not stopped by the kill switch.
    pub fn from_tags(tags: &BTreeMap<String, String>) -> Result<Option<Self>, DamagedRecord> {
        if !RECORD_KEYS.iter().any(|k| tags.contains_key(*k)) {
            return Ok(None);
        }
        let raw = tags.get(PREVIOUS_CONCURRENCY);
        let previous = raw
            .and_then(|v| Concurrency::parse(v))
            .ok_or_else(|| DamagedRecord {
                tag: PREVIOUS_CONCURRENCY,
                value: raw.cloned(),
            })?;
        let text = |key: &str| tags.get(key).cloned().unwrap_or_default();
        Ok(Some(StopRecord {
            stopped_at: text(STOPPED_AT),
            stopped_by: text(STOPPED_BY),
            reason: text(STOP_REASON),
            previous,
        }))
    }

    /// The record as tags, values made acceptable to Lambda.
    pub fn to_tags(&self) -> BTreeMap<String, String> {
        [
            (STOPPED_AT, self.stopped_at.as_str()),
            (STOPPED_BY, self.stopped_by.as_str()),
            (STOP_REASON, self.reason.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), tag_value(v)))
        .chain([(PREVIOUS_CONCURRENCY.to_string(), self.previous.to_string())])
        .collect()
    }
}

/// What the last resume restored, if it left its note.
pub fn last_restored(tags: &BTreeMap<String, String>) -> Option<Concurrency> {
    tags.get(LAST_RESTORED).and_then(|v| Concurrency::parse(v))
}

/// `text` as a Lambda tag value. Lambda's `TagValue` pattern (API model) is
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`: Unicode letters, separators and numbers and those six
/// signs, nothing else. A combining mark (Hindi's vowel signs, Arabic's harakat) or a symbol
/// is not a letter there, so it becomes a space; whitespace is collapsed; at most 256
/// characters. A value Lambda refuses would fail `TagResource` after concurrency is already
/// 0, leaving no record to resume from.
pub fn tag_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_TAG_VALUE_CHARS));
    let mut last_space = true;
    for c in text.chars() {
        let mut buf = [0u8; 4];
        let allowed = !c.is_whitespace() && tag_char().is_match(c.encode_utf8(&mut buf));
        if allowed {
            out.push(c);
            last_space = false;
        } else if !last_space {
            out.push(' ');
            last_space = true;
        }
    }
    let trimmed: String = out.trim_end().chars().take(MAX_TAG_VALUE_CHARS).collect();
    let mut value = trimmed.trim_end().to_string();
    // The `aws:` prefix is reserved for AWS's own tags, values included (Lambda guide,
    // tagging); whether Lambda refuses such a value is not documented, so never write one.
    if value
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
    {
        let space_follows = value[4..].starts_with(' ');
        value.replace_range(3..4, if space_follows { "" } else { " " });
    }
    value
}

/// One character Lambda's tag pattern accepts (whitespace is handled by the caller: it is
/// collapsed to single spaces, which the pattern accepts as `\p{Z}`). Only characters
/// assigned by Unicode 13.0: which Unicode version AWS's validator knows is not documented,
/// and a letter it does not know yet would fail the stop record after concurrency is 0.
fn tag_char() -> &'static regex::Regex {
    static TAG_CHAR: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    TAG_CHAR.get_or_init(|| {
        regex::Regex::new(r"^[\p{L}\p{N}_.:/=+\-@&&\p{Age:13.0}]$")
            .unwrap_or_else(|_| unreachable!())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(previous: Concurrency) -> StopRecord {
        StopRecord {
            stopped_at: "2026-03-01T03:04:05Z".into(),
            stopped_by: "alice@example.com".into(),
            reason: "bad fills, see #incident-42 (\"urgent\")".into(),
            previous,
        }
    }

    #[test]
    fn record_round_trips_through_tags() {
        for previous in [
            Concurrency::Unreserved,
            Concurrency::Reserved(1),
            Concurrency::Reserved(5),
        ] {
            let tags = record(previous).to_tags();
            let back = StopRecord::from_tags(&tags).unwrap().unwrap();
            assert_eq!(back.previous, previous);
            assert_eq!(back.stopped_by, "alice@example.com");
            assert_eq!(back.reason, "bad fills see incident-42 urgent");
        }
        assert_eq!(
            record(Concurrency::Unreserved).to_tags()[PREVIOUS_CONCURRENCY],
            "none"
        );
    }

    #[test]
    fn no_record_tags_means_not_stopped() {
        let tags = BTreeMap::from([
            ("team".to_string(), "trading".to_string()),
            (LAST_RESTORED.to_string(), "5".to_string()),
        ]);
        assert_eq!(StopRecord::from_tags(&tags), Ok(None));
        assert_eq!(last_restored(&tags), Some(Concurrency::Reserved(5)));
    }

    #[test]
    fn a_damaged_previous_value_is_an_error_not_a_guess() {
        let mut tags = record(Concurrency::Reserved(3)).to_tags();
        tags.insert(PREVIOUS_CONCURRENCY.into(), "three".into());
        let err = StopRecord::from_tags(&tags).unwrap_err();
        assert_eq!(err.tag, PREVIOUS_CONCURRENCY);
        assert!(err.to_string().contains("\"three\""));
        tags.remove(PREVIOUS_CONCURRENCY);
        assert!(StopRecord::from_tags(&tags).is_err());
        assert_eq!(Concurrency::parse("-1"), None);
    }

    #[test]
    fn tag_values_are_sanitised_and_capped() {
        assert_eq!(
            tag_value("alarm \"Errors\" > 1\n(5 datapoints) é"),
            "alarm Errors 1 5 datapoints é"
        );
        assert_eq!(tag_value(&"x".repeat(400)).chars().count(), 256);
        assert_eq!(tag_value("2026-03-01T03:04:05Z"), "2026-03-01T03:04:05Z");
    }

    #[test]
    fn combining_marks_and_symbols_are_not_letters_to_lambda() {
        // "नमस्ते" has vowel signs and a virama (marks, \p{M}); Arabic harakat likewise.
        assert_eq!(tag_value("नमस्ते"), "नमस त");
        assert_eq!(tag_value("مَرْحَبًا"), "م ر ح ب ا");
        assert_eq!(tag_value("fills ↓ 5% €"), "fills 5");
        // U+13460, an Egyptian hieroglyph of Unicode 16.0: a letter, but too new to trust.
        assert_eq!(tag_value("a\u{13460}b"), "a b");
        assert_eq!(tag_value("AWS: region outage"), "AWS region outage");
        assert_eq!(tag_value("aws:x"), "aws x");
    }
}
