//! Kill switch request parsing over adversarial input (issue #12): any JSON and mutations of
//! every `events/kill-switch-*.json`. It never panics, accepts exactly the valid operator
//! requests (an independent oracle below), names the field it rejects, and never hands the
//! handler a request it should have refused.

mod common;

use common::{CASES, Mutated, any_json, check, mutated_samples};
use guardian::guarded::GuardedFunctions;
use guardian::killswitch::request::{
    Action, MAX_REASON_CHARS, MAX_REQUEST_BYTES, MAX_REQUESTED_BY_CHARS, Parsed, RequestError,
    parse,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

fn guarded() -> GuardedFunctions {
    GuardedFunctions::new(["trading-bot"])
}

/// Whether an operator request (an object without `source`, or with `action`) is valid,
/// written from DESIGN §5 and the limits, independently of the parser.
fn valid_operator_request(event: &Value) -> bool {
    let Some(o) = event.as_object() else {
        return false;
    };
    let known = ["action", "reason", "requested_by", "function"];
    let opt_str = |k: &str, max: usize| match o.get(k) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.chars().count() <= max,
        _ => false,
    };
    let action = o
        .get("action")
        .and_then(Value::as_str)
        .map(|a| a.trim().to_ascii_lowercase());
    let reason_given = o
        .get("reason")
        .and_then(Value::as_str)
        .is_some_and(|r| !r.trim().is_empty());
    let function_ok = match o.get("function").and_then(Value::as_str).map(str::trim) {
        None | Some("") => true,
        Some(f) => f == "trading-bot" || f.ends_with(":function:trading-bot"),
    };
    event.to_string().len() <= MAX_REQUEST_BYTES
        && o.keys().all(|k| known.contains(&k.as_str()))
        && opt_str("action", MAX_REASON_CHARS)
        && opt_str("reason", MAX_REASON_CHARS)
        && opt_str("requested_by", MAX_REQUESTED_BY_CHARS)
        && opt_str("function", 256)
        && match action.as_deref() {
            Some("status") => true,
            Some("stop" | "resume") => reason_given,
            _ => false,
        }
        && function_ok
}

fn is_operator_request(event: &Value) -> bool {
    event
        .as_object()
        .is_none_or(|o| !o.contains_key("source") || o.contains_key("action"))
}

/// The properties every input must satisfy; `field` is the field a single mutation hit.
fn holds(event: &Value, field: Option<&str>) -> Result<(), TestCaseError> {
    let parsed = parse(event, &guarded());
    match &parsed {
        Ok(Parsed::Act(r)) => {
            prop_assert_eq!(&r.function, "trading-bot");
            if r.action != Action::Status {
                prop_assert!(r.reason.as_deref().is_some_and(|s| !s.trim().is_empty()));
            }
            prop_assert!(!r.requested_by.trim().is_empty());
        }
        Ok(Parsed::Ignore(_)) => prop_assert!(!is_operator_request(event)),
        Err(e) => {
            prop_assert!(e.kind().starts_with("KillSwitch."));
            // A rejected operator request names what was wrong: the field a mutation hit,
            // or the whole request when it is too large.
            if let Some(f) = field.filter(|_| is_operator_request(event))
                && !matches!(e, RequestError::TooLarge { .. })
            {
                let text = e.to_string();
                prop_assert!(
                    text.contains(f),
                    "error for a mutated {f:?} does not name it: {text}"
                );
            }
        }
    }
    if is_operator_request(event) {
        prop_assert_eq!(
            parsed.is_ok(),
            valid_operator_request(event),
            "parser and oracle disagree on {}",
            common::preview(event)
        );
    }
    Ok(())
}

#[test]
fn any_json_is_parsed_or_refused_by_name() {
    check("kill-switch/any-json", CASES, any_json(), |event| {
        holds(&event, None)
    });
}

#[test]
fn mutated_samples_are_parsed_or_refused_by_name() {
    check(
        "kill-switch/mutated-samples",
        CASES,
        mutated_samples("kill-switch-"),
        |m: Mutated| holds(&m.value, m.single_top_field()),
    );
}

#[test]
fn operator_shaped_json_is_parsed_or_refused_by_name() {
    // Objects with the real field names and arbitrary values: the oracle's main ground.
    let field = prop_oneof![
        Just("action"),
        Just("reason"),
        Just("requested_by"),
        Just("function")
    ];
    let value = prop_oneof![
        3 => prop_oneof![Just("stop"), Just(" Resume "), Just("status"), Just("trading-bot"),
                         Just(""), Just("  ")].prop_map(|s| Value::String(s.into())),
        1 => common::any_json(),
    ];
    let strategy = proptest::collection::btree_map(field, value, 0..5)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    check("kill-switch/operator-shaped", CASES, strategy, |event| {
        holds(&event, None)
    });
}
