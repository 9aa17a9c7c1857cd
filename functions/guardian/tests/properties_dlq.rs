//! DLQ inspector request parsing over adversarial input (issue #12): any JSON and mutations
//! of every `events/dlq-*.json`. It never panics, names the field it rejects, and a request
//! it accepts is one the inspector can carry out without a panic (pacing, purge check).

mod common;

use common::{CASES, Mutated, any_json, check, mutated_samples};
use guardian::dlq::pacing::Pacer;
use guardian::dlq::request::{
    Action, MAX_REQUEST_BYTES, RequestError, check_purge_confirmed, is_schedule_event, parse,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

const LIMIT: u64 = 10_000;
const QUEUE: &str = "trading-bot-dlq";

/// Fields that change how the others are read: a mutation of one of these may be reported
/// through another field (e.g. no `action` makes `rate_per_second` "not apply to inspect").
const CONTEXT_FIELDS: [&str; 3] = ["action", "source", "detail-type"];

fn holds(payload: &Value, field: Option<&str>) -> Result<(), TestCaseError> {
    match parse(payload, LIMIT) {
        Ok(r) => {
            prop_assert!(payload.to_string().len() <= MAX_REQUEST_BYTES);
            if let Some(n) = r.max_messages {
                prop_assert!((1..=LIMIT).contains(&n));
            }
            // What the handler does next with an accepted request must not panic.
            let mut pacer = Pacer::new(r.rate_per_second);
            let now = std::time::Instant::now();
            pacer.reserve(now);
            let next = pacer.reserve(now);
            prop_assert_eq!(next.is_some(), r.rate_per_second.is_some());
            let confirmed = check_purge_confirmed(&r, QUEUE);
            if r.action == Action::Purge {
                prop_assert_eq!(confirmed.is_ok(), r.confirm.as_deref() == Some(QUEUE));
            } else {
                prop_assert!(confirmed.is_ok());
            }
        }
        Err(e) => {
            let too_large = matches!(e, RequestError::TooLarge { .. });
            prop_assert!(
                !is_schedule_event(payload) || too_large,
                "a schedule event was refused: {}",
                e
            );
            let text = e.to_string();
            if let (Some(f), Some(object)) = (field, payload.as_object())
                && !matches!(e, RequestError::TooLarge { .. })
            {
                let named = if CONTEXT_FIELDS.contains(&f) {
                    text.contains(f) || object.keys().any(|k| text.contains(&format!("`{k}`")))
                } else {
                    text.contains(f)
                };
                prop_assert!(named, "error for a mutated {f:?} names no field: {text}");
            }
        }
    }
    Ok(())
}

#[test]
fn any_json_is_parsed_or_refused_by_name() {
    check("dlq/any-json", CASES, any_json(), |payload| {
        holds(&payload, None)
    });
}

#[test]
fn mutated_samples_are_parsed_or_refused_by_name() {
    check(
        "dlq/mutated-samples",
        CASES,
        mutated_samples("dlq-"),
        |m: Mutated| holds(&m.value, m.single_top_field()),
    );
}

#[test]
fn request_shaped_json_is_parsed_or_refused_by_name() {
    // Objects made of the real option names with arbitrary values, each checked by name.
    let field = proptest::sample::select(vec![
        "action",
        "max_messages",
        "error_code",
        "body_pointer",
        "body_equals",
        "max_age_seconds",
        "rate_per_second",
        "dry_run",
        "to",
        "confirm",
    ]);
    let value = prop_oneof![
        2 => common::number(),
        2 => prop_oneof![Just("redrive"), Just("purge"), Just("inspect"), Just("queue"),
                         Just("/symbol"), Just(QUEUE)].prop_map(|s| Value::String(s.into())),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => any_json(),
    ];
    let strategy = proptest::collection::btree_map(field, value, 1..5)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    check("dlq/request-shaped", CASES, strategy, |payload| {
        holds(&payload, None)
    });
}
