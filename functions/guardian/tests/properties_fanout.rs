//! Alarm fan-out over adversarial input (issue #12): any JSON, and mutations of every
//! `events/fanout-*.json`, always yields at least one alert per SNS record (or one for the
//! event), and every rendering is one SNS accepts.

mod common;

use common::{CASES, Mutated, any_json, check, mutated_samples};
use guardian::fanout::render::{ENVELOPE_RESERVE_BYTES, LinkRegion, chat, per_protocol};
use guardian::fanout::{Alert, Severity, Source, normalise};
use guardian::sns_text::MAX_MESSAGE_BYTES;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

fn links() -> LinkRegion {
    LinkRegion {
        override_region: None,
        fallback: "eu-central-1".into(),
    }
}

fn subject_is_sns_safe(subject: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !subject.is_empty()
            && subject.is_ascii()
            && !subject.chars().any(|c| c.is_control())
            && subject.chars().count() < 100,
        "subject SNS would reject: {subject:?}"
    );
    Ok(())
}

/// What the function publishes for `alert` fits SNS: subject, body, attributes.
fn renders_for_sns(alert: &Alert) -> Result<(), TestCaseError> {
    {
        for publication in [
            per_protocol(alert, Severity::Critical, &links()),
            chat(alert, Severity::Info, &links()),
        ] {
            subject_is_sns_safe(publication.subject.as_deref().unwrap_or_default())?;
            let envelope: usize = publication.subject.as_ref().map_or(0, String::len)
                + publication
                    .attributes
                    .iter()
                    .map(|(k, v)| k.len() + v.len() + "String".len())
                    .sum::<usize>();
            prop_assert!(
                publication.message.len() + envelope <= MAX_MESSAGE_BYTES,
                "{} bytes of message + {envelope} of subject and attributes > 256 KB",
                publication.message.len()
            );
            prop_assert!(
                envelope <= ENVELOPE_RESERVE_BYTES,
                "subject and attributes take {envelope} bytes, more than the {ENVELOPE_RESERVE_BYTES} reserved"
            );
            prop_assert!(
                publication
                    .attributes
                    .values()
                    .all(|v| !v.trim().is_empty())
            );
            let doc: Value = serde_json::from_str(&publication.message)
                .map_err(|e| TestCaseError::fail(format!("message is not JSON: {e}")))?;
            if publication.per_protocol {
                prop_assert!(doc["default"].is_string(), "no default rendering");
                prop_assert!(doc["sms"].as_str().is_some_and(|s| s.len() <= 140));
            }
        }
    }
    Ok(())
}

/// At least one alert; one per SNS record when the event has records; unparsed ones carry
/// the raw payload.
fn never_drops(event: &Value) -> Result<Vec<Alert>, TestCaseError> {
    let alerts = normalise(event);
    match event.get("Records").and_then(Value::as_array) {
        Some(records) if !records.is_empty() => prop_assert_eq!(alerts.len(), records.len()),
        _ => prop_assert_eq!(alerts.len(), 1),
    }
    for a in &alerts {
        if a.source == Source::Unparsed {
            prop_assert!(a.raw.is_some(), "an unparsed alert without its payload");
        }
        prop_assert!(!a.name.trim().is_empty(), "an alert without a name");
    }
    Ok(alerts)
}

#[test]
fn any_json_yields_a_publishable_alert() {
    check("fanout/any-json", CASES, any_json(), |event| {
        for alert in never_drops(&event)? {
            renders_for_sns(&alert)?;
        }
        Ok(())
    });
}

#[test]
fn any_json_as_an_sns_message_yields_a_publishable_alert() {
    let strategy = (any_json(), any::<bool>()).prop_map(|(inner, as_text)| {
        // A string inner value is also sent as the bare text (not JSON-quoted).
        let message = match inner {
            Value::String(s) if !as_text => s,
            other => other.to_string(),
        };
        json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": message}}]})
    });
    check("fanout/any-sns-message", CASES, strategy, |event| {
        for alert in never_drops(&event)? {
            renders_for_sns(&alert)?;
        }
        Ok(())
    });
}

#[test]
fn mutated_samples_yield_publishable_alerts() {
    check(
        "fanout/mutated-samples",
        CASES,
        mutated_samples("fanout-"),
        |m: Mutated| {
            for alert in never_drops(&m.value)? {
                renders_for_sns(&alert)?;
            }
            Ok(())
        },
    );
}
