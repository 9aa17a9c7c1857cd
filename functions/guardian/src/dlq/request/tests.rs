use super::*;
use serde_json::json;

fn err(payload: Value) -> String {
    parse(&payload, 10_000).unwrap_err().to_string()
}

#[test]
fn empty_object_and_schedule_events_mean_inspect() {
    assert_eq!(parse(&json!({}), 100).unwrap(), Request::inspect());
    let scheduled = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
    assert_eq!(parse(&scheduled, 100).unwrap(), Request::inspect());
    let scheduler = json!({"source": "aws.scheduler", "detail-type": "Scheduled Event"});
    assert_eq!(parse(&scheduler, 100).unwrap().action, Action::Inspect);
}

#[test]
fn full_redrive_request_parses() {
    let r = parse(
        &json!({"action": "redrive", "max_messages": 50, "error_code": "200",
                "body_pointer": "/symbol", "body_equals": "EURUSD", "max_age_seconds": 600,
                "rate_per_second": 2.5, "dry_run": true, "to": "queue"}),
        10_000,
    )
    .unwrap();
    assert_eq!(r.action, Action::Redrive);
    assert_eq!(r.max_messages, Some(50));
    assert_eq!(r.selection.error_code.as_deref(), Some("200"));
    assert_eq!(r.selection.body_equals, Some(json!("EURUSD")));
    assert_eq!(r.selection.max_age, Some(Duration::from_secs(600)));
    assert_eq!(r.rate_per_second, Some(2.5));
    assert!(r.dry_run);
    assert_eq!(r.to, Destination::Queue);
}

#[test]
fn unknown_action_and_option_are_named() {
    assert_eq!(
        err(json!({"action": "replay"})),
        "unknown action \"replay\": use \"inspect\", \"redrive\" or \"purge\""
    );
    let e = err(json!({"action": "redrive", "max_mesages": 5}));
    assert!(
        e.starts_with("field `max_mesages` is not a known option") && e.contains("max_messages"),
        "{e}"
    );
}

#[test]
fn wrong_types_name_the_field() {
    for (payload, field) in [
        (json!({"action": 1}), "action"),
        (
            json!({"action": "redrive", "max_messages": "ten"}),
            "max_messages",
        ),
        (
            json!({"action": "redrive", "max_messages": -1}),
            "max_messages",
        ),
        (json!({"action": "redrive", "dry_run": "yes"}), "dry_run"),
        (
            json!({"action": "redrive", "rate_per_second": 0}),
            "rate_per_second",
        ),
        (json!({"action": "redrive", "to": "s3"}), "to"),
        (
            json!({"action": "redrive", "max_age_seconds": 1.5}),
            "max_age_seconds",
        ),
        (
            json!({"action": "redrive", "body_pointer": "symbol"}),
            "body_pointer",
        ),
        (
            json!({"action": "redrive", "body_equals": 1}),
            "body_equals",
        ),
        (
            json!({"action": "redrive", "max_messages": 10_001}),
            "max_messages",
        ),
    ] {
        let e = err(payload.clone());
        assert!(e.contains(&format!("`{field}`")), "{payload}: {e}");
    }
    assert_eq!(err(json!([1])), RequestError::NotAnObject.to_string());
}

#[test]
fn options_that_do_not_apply_are_refused() {
    let e = err(json!({"action": "inspect", "rate_per_second": 1}));
    assert!(
        e.contains("`rate_per_second` does not apply to inspect"),
        "{e}"
    );
    let e = err(json!({"action": "redrive", "confirm": "dlq"}));
    assert!(e.contains("`confirm`"), "{e}");
    let e = err(json!({"action": "purge", "max_age_seconds": 5}));
    assert!(e.contains("`max_age_seconds`"), "{e}");
}

#[test]
fn sample_events_parse_to_their_actions() {
    let samples = [
        (
            include_str!("../../../../../events/dlq-inspect.json"),
            Action::Inspect,
            false,
        ),
        (
            include_str!("../../../../../events/dlq-scheduled.json"),
            Action::Inspect,
            false,
        ),
        (
            include_str!("../../../../../events/dlq-redrive.json"),
            Action::Redrive,
            false,
        ),
        (
            include_str!("../../../../../events/dlq-redrive-dry-run.json"),
            Action::Redrive,
            true,
        ),
        (
            include_str!("../../../../../events/dlq-purge.json"),
            Action::Purge,
            false,
        ),
    ];
    for (text, action, dry_run) in samples {
        let payload: Value = serde_json::from_str(text).unwrap();
        let r = parse(&payload, 10_000).unwrap();
        assert_eq!((r.action, r.dry_run), (action, dry_run), "{text}");
    }
}

#[test]
fn purge_needs_the_queue_name() {
    let purge =
        |confirm: Value| parse(&json!({"action": "purge", "confirm": confirm}), 100).unwrap();
    assert!(check_purge_confirmed(&purge(json!("trading-dlq")), "trading-dlq").is_ok());
    let e = check_purge_confirmed(&purge(json!("trading")), "trading-dlq").unwrap_err();
    assert!(e.to_string().contains("\"trading-dlq\""), "{e}");
    let none = parse(&json!({"action": "purge"}), 100).unwrap();
    assert!(
        check_purge_confirmed(&none, "trading-dlq")
            .unwrap_err()
            .to_string()
            .contains("got nothing")
    );
    // Other actions need no confirmation.
    assert!(check_purge_confirmed(&Request::inspect(), "trading-dlq").is_ok());
}

#[test]
fn oversized_input_is_refused_naming_the_field_and_limit() {
    for (field, limit) in [
        ("error_code", MAX_ERROR_CODE_CHARS),
        ("body_pointer", MAX_BODY_POINTER_CHARS),
    ] {
        let at_limit = format!("/{}", "é".repeat(limit - 1));
        let ok = json!({"action": "redrive", field: at_limit});
        assert!(parse(&ok, 100).is_ok(), "{field} at the limit is accepted");
        let e = err(json!({"action": "redrive", field: format!("/{}", "é".repeat(limit))}));
        assert_eq!(
            e,
            format!(
                "field `{field}` is {} characters long; use at most {limit}",
                limit + 1
            )
        );
    }
    let e = err(json!({"action": "purge", "confirm": "q".repeat(MAX_CONFIRM_CHARS + 1)}));
    assert!(
        e.starts_with("field `confirm` is 257 characters long"),
        "{e}"
    );
    let e = err(json!({"action": "redrive", "body_pointer": "/s",
                       "body_equals": "x".repeat(MAX_BODY_EQUALS_BYTES)}));
    assert!(
        e.starts_with("field `body_equals` is 4098 bytes as JSON"),
        "{e}"
    );
    let e = err(json!({"action": "inspect", "pad": "x".repeat(MAX_REQUEST_BYTES)}));
    assert!(
        e.starts_with("the request is 65") && e.contains("at most 65536"),
        "{e}"
    );
}

#[test]
fn a_rate_whose_interval_overflows_is_refused() {
    // Shrunk from the property tests: 1e-300 passed the old "> 0 and finite" check and
    // then panicked in Duration::from_secs_f64(1 / rate) when the redrive started.
    for rate in [json!(1e-300), json!(5e-324), json!(0.001), json!(1e9)] {
        let e = err(json!({"action": "redrive", "rate_per_second": rate}));
        assert!(e.contains("`rate_per_second`"), "{rate}: {e}");
    }
    for rate in [MIN_RATE_PER_SECOND, MAX_RATE_PER_SECOND] {
        let r = parse(&json!({"action": "redrive", "rate_per_second": rate}), 100).unwrap();
        let mut pacer = crate::dlq::pacing::Pacer::new(r.rate_per_second);
        let now = std::time::Instant::now();
        pacer.reserve(now);
        assert!(pacer.reserve(now).is_some());
    }
}

#[test]
fn the_function_acted_on_is_named_or_the_only_one() {
    let one = GuardedFunctions::new(["bot"]);
    let two = GuardedFunctions::new([
        "bot",
        "arn:aws:lambda:eu-west-1:123456789012:function:pricer",
    ]);
    let parsed = |v: Value| parse(&v, 100).unwrap();
    let inspect = parsed(json!({}));
    assert_eq!(functions_acted_on(&inspect, &one).unwrap(), ["bot"]);
    assert_eq!(
        functions_acted_on(&inspect, &two).unwrap(),
        ["bot", "pricer"]
    );
    let named = parsed(json!({"action": "redrive", "function": "pricer:live"}));
    assert_eq!(functions_acted_on(&named, &two).unwrap(), ["pricer"]);
    let unnamed = parsed(json!({"action": "redrive"}));
    let e = functions_acted_on(&unnamed, &two).unwrap_err().to_string();
    assert!(
        e.contains("`function`") && e.contains("redrive") && e.contains("bot, pricer"),
        "{e}"
    );
    let other = parsed(json!({"action": "purge", "function": "bot-2", "confirm": "q"}));
    let e = functions_acted_on(&other, &two).unwrap_err().to_string();
    assert!(e.contains("\"bot-2\" is not a guarded function"), "{e}");
    assert!(err(json!({"function": 7})).contains("function"));
}
