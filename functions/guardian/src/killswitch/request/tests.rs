use super::*;
use serde_json::json;

fn one() -> GuardedFunctions {
    GuardedFunctions::new(["trading-bot"])
}

fn act(event: Value) -> Request {
    match parse(&event, &one()).unwrap() {
        Parsed::Act(r) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

#[test]
fn operator_stop_names_who_and_why() {
    let r = act(json!({"action": "stop", "reason": " bad fills ", "requested_by": "alice"}));
    assert_eq!(r.action, Action::Stop);
    assert_eq!(r.function, "trading-bot");
    assert_eq!(r.reason.as_deref(), Some("bad fills"));
    assert_eq!(r.requested_by, "alice");
}

#[test]
fn status_needs_no_reason_and_by_defaults() {
    let r = act(json!({"action": "status"}));
    assert_eq!((r.action, r.reason), (Action::Status, None));
    assert_eq!(r.requested_by, DEFAULT_REQUESTED_BY);
}

#[test]
fn bad_inputs_are_named_errors() {
    let g = one();
    let cases = [
        (
            json!({"action": "halt", "reason": "x"}),
            "KillSwitch.UnknownAction",
        ),
        (json!({"action": "stop"}), "KillSwitch.MissingReason"),
        (
            json!({"action": "resume", "reason": "  "}),
            "KillSwitch.MissingReason",
        ),
        (
            json!({"action": "stop", "reason": "x", "force": true}),
            "KillSwitch.MalformedRequest",
        ),
        (
            json!({"action": "stop", "reason": "x", "function": "other"}),
            "KillSwitch.UnknownFunction",
        ),
        (json!("stop"), "KillSwitch.MalformedRequest"),
        (json!({"source": "aws.s3"}), "KillSwitch.UnrecognisedEvent"),
    ];
    for (event, kind) in cases {
        let err = parse(&event, &g).unwrap_err();
        assert_eq!(err.kind(), kind, "{event}: {err}");
    }
    let unknown_field = parse(&json!({"action": "stop", "reason": "x", "force": true}), &g)
        .unwrap_err()
        .to_string();
    assert!(
        unknown_field.contains("unknown field `force`"),
        "{unknown_field}"
    );
}

#[test]
fn several_guarded_functions_need_a_function() {
    let g = GuardedFunctions::new(["a", "b"]);
    let err = parse(&json!({"action": "status"}), &g).unwrap_err();
    assert_eq!(err.kind(), "KillSwitch.FunctionRequired");
    let ok = parse(&json!({"action": "status", "function": "b"}), &g).unwrap();
    assert!(matches!(ok, Parsed::Act(Request { ref function, .. }) if function == "b"));
}

fn eventbridge_alarm(state: &str) -> Value {
    serde_json::from_str(include_str!("../../../../../events/kill-switch-alarm.json"))
        .map(|mut v: Value| {
            v["detail"]["state"]["value"] = json!(state);
            v
        })
        .unwrap()
}

#[test]
fn an_alarm_entering_alarm_is_a_stop() {
    let r = act(eventbridge_alarm("ALARM"));
    assert_eq!(r.action, Action::Stop);
    assert_eq!(r.requested_by, "alarm:trading-bot-errors");
    assert!(
        r.reason
            .unwrap()
            .starts_with("auto-halt: alarm trading-bot-errors entered ALARM: Threshold Crossed")
    );
}

#[test]
fn an_alarm_going_ok_is_ignored() {
    assert!(matches!(
        parse(&eventbridge_alarm("OK"), &one()),
        Ok(Parsed::Ignore(_))
    ));
}

#[test]
fn the_lambda_alarm_action_shape_is_a_stop_too() {
    let r = act(json!({
        "source": "aws.cloudwatch",
        "alarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:halt",
        "alarmData": {"alarmName": "halt", "state": {"value": "ALARM", "reason": "r"}}
    }));
    assert_eq!(
        r.reason.as_deref(),
        Some("auto-halt: alarm halt entered ALARM: r")
    );
}

#[test]
fn the_fanout_payload_is_an_operator_request() {
    let fanout: Value = serde_json::from_str(include_str!(
        "../../../../../events/kill-switch-fanout-stop.json"
    ))
    .unwrap();
    let r = act(fanout);
    assert_eq!(
        (r.action, r.requested_by.as_str()),
        (Action::Stop, "alarm-fanout")
    );
}

#[test]
fn wrong_types_name_the_field() {
    // Shrunk from the property tests: serde's "invalid type" errors named no field.
    for (event, field) in [
        (json!({"action": null, "reason": "x"}), "action"),
        (json!({"action": 1, "reason": "x"}), "action"),
        (json!({"action": "stop", "reason": ["x"]}), "reason"),
        (
            json!({"action": "stop", "reason": "x", "requested_by": 0}),
            "requested_by",
        ),
        (json!({"action": "status", "function": {}}), "function"),
    ] {
        let err = parse(&event, &one()).unwrap_err();
        assert_eq!(err.kind(), "KillSwitch.MalformedRequest", "{event}");
        assert!(err.to_string().contains(&format!("\"{field}\"")), "{err}");
    }
}

#[test]
fn oversized_input_is_refused_with_the_limit() {
    let g = one();
    for (field, limit) in [
        ("reason", MAX_REASON_CHARS),
        ("requested_by", MAX_REQUESTED_BY_CHARS),
        ("function", MAX_FUNCTION_CHARS),
    ] {
        let mut event = json!({"action": "stop", "reason": "x"});
        event[field] = json!("é".repeat(limit));
        assert!(
            !matches!(parse(&event, &g), Err(RequestError::TooLong { .. })),
            "{field} at the limit is accepted"
        );
        event[field] = json!("é".repeat(limit + 1));
        let err = parse(&event, &g).unwrap_err();
        assert_eq!(err.kind(), "KillSwitch.FieldTooLong");
        assert_eq!(
            err.to_string(),
            format!(
                "field \"{field}\" is {} characters long; use at most {limit}",
                limit + 1
            )
        );
    }
    let padded = json!({"action": "stop", "reason": "x", "pad": "x".repeat(MAX_REQUEST_BYTES)});
    let err = parse(&padded, &g).unwrap_err();
    assert_eq!(err.kind(), "KillSwitch.RequestTooLarge");
    assert!(err.to_string().contains("at most 65536"), "{err}");
}

#[test]
fn a_long_alarm_reason_still_halts() {
    // Auto-halt must not be refused for size: the alarm's text is trimmed into tags later.
    let mut alarm = eventbridge_alarm("ALARM");
    alarm["detail"]["state"]["reason"] = json!("x".repeat(100_000));
    assert_eq!(act(alarm).action, Action::Stop);
}
