//! Which messages an action applies to: filters on Lambda's `ErrorCode` and on a JSON
//! pointer into the body, and the age beyond which a message is stale (never replayed).

use std::time::Duration;

use serde_json::Value;

use super::message::DlqMessage;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selection {
    /// Only messages whose `ErrorCode` attribute equals this.
    pub error_code: Option<String>,
    /// Only messages whose JSON body has a value here (and, with `body_equals`, this value).
    pub body_pointer: Option<String>,
    pub body_equals: Option<Value>,
    /// Selected messages older than this are stale: skipped and left in the DLQ.
    pub max_age: Option<Duration>,
}

/// What an action does with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Matches the filters and is fresh enough: act on it.
    Selected,
    /// Does not match the filters: left alone.
    NotSelected,
    /// Matches but is older than `max_age`: left in the DLQ and reported.
    Stale,
}

impl Selection {
    pub fn verdict(&self, message: &DlqMessage, now_ms: u64) -> Verdict {
        if !self.matches(message) {
            return Verdict::NotSelected;
        }
        match (self.max_age, message.age(now_ms)) {
            (Some(max), Some(age)) if age > max => Verdict::Stale,
            // Without a timestamp the age is unknown: a stale trade signal must not be
            // replayed, so unknown counts as stale whenever a max age is set.
            (Some(_), None) => Verdict::Stale,
            _ => Verdict::Selected,
        }
    }

    fn matches(&self, message: &DlqMessage) -> bool {
        if let Some(code) = &self.error_code
            && message.error_code.as_deref() != Some(code.as_str())
        {
            return false;
        }
        let Some(pointer) = &self.body_pointer else {
            return true;
        };
        let Some(body) = message.body_json() else {
            return false;
        };
        match (body.pointer(pointer), &self.body_equals) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(found), Some(wanted)) => found == wanted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(code: Option<&str>, body: &str, sent_at_ms: Option<u64>) -> DlqMessage {
        DlqMessage {
            body: body.into(),
            error_code: code.map(str::to_string),
            sent_at_ms,
            ..Default::default()
        }
    }

    #[test]
    fn no_filters_select_everything() {
        let m = msg(None, "not json", None);
        assert_eq!(Selection::default().verdict(&m, 0), Verdict::Selected);
    }

    #[test]
    fn error_code_must_match_exactly() {
        let s = Selection {
            error_code: Some("200".into()),
            ..Default::default()
        };
        assert_eq!(
            s.verdict(&msg(Some("200"), "{}", None), 0),
            Verdict::Selected
        );
        assert_eq!(
            s.verdict(&msg(Some("429"), "{}", None), 0),
            Verdict::NotSelected
        );
        assert_eq!(s.verdict(&msg(None, "{}", None), 0), Verdict::NotSelected);
    }

    #[test]
    fn body_pointer_checks_presence_or_value() {
        let exists = Selection {
            body_pointer: Some("/order/symbol".into()),
            ..Default::default()
        };
        let equals = Selection {
            body_equals: Some(json!("EURUSD")),
            ..exists.clone()
        };
        let eur = msg(None, r#"{"order":{"symbol":"EURUSD"}}"#, None);
        let gbp = msg(None, r#"{"order":{"symbol":"GBPUSD"}}"#, None);
        let none = msg(None, r#"{"order":{}}"#, None);
        let text = msg(None, "symbol=EURUSD", None);
        assert_eq!(exists.verdict(&gbp, 0), Verdict::Selected);
        assert_eq!(exists.verdict(&none, 0), Verdict::NotSelected);
        assert_eq!(equals.verdict(&eur, 0), Verdict::Selected);
        assert_eq!(equals.verdict(&gbp, 0), Verdict::NotSelected);
        assert_eq!(equals.verdict(&text, 0), Verdict::NotSelected);
    }

    #[test]
    fn selected_messages_past_max_age_are_stale() {
        let s = Selection {
            max_age: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        let now = 1_000_000;
        assert_eq!(
            s.verdict(&msg(None, "", Some(now - 60_000)), now),
            Verdict::Selected
        );
        assert_eq!(
            s.verdict(&msg(None, "", Some(now - 60_001)), now),
            Verdict::Stale
        );
        assert_eq!(s.verdict(&msg(None, "", None), now), Verdict::Stale);
        // Filters come first: a message that does not match is not counted as stale.
        let filtered = Selection {
            error_code: Some("200".into()),
            ..s
        };
        assert_eq!(
            filtered.verdict(&msg(Some("500"), "", Some(0)), now),
            Verdict::NotSelected
        );
    }
}
