use super::*;

const FULL: &str = r#"{"probes": [
    {"name": "smoke", "payload": {"smoke_test": true}, "retries": 2, "backoff_ms": 50,
     "expect": {"max_latency_ms": 3000, "json": [
        {"pointer": "/status", "equals": "ok"},
        {"pointer": "/version", "matches": "^[0-9]+$"},
        {"pointer": "/error", "exists": false},
        {"pointer": "/note", "equals": null}]}},
    {"name": "tick-dry-run"}
]}"#;

#[test]
fn a_full_plan_parses_with_defaults_filled_in() {
    let plan = SmokePlan::parse(FULL).unwrap();
    assert_eq!(plan.probes.len(), 2);
    let smoke = &plan.probes[0];
    assert_eq!(smoke.retries, 2);
    assert_eq!(smoke.backoff, Duration::from_millis(50));
    assert!(smoke.expect.no_function_error);
    assert_eq!(smoke.expect.max_latency, Some(Duration::from_secs(3)));
    let checks: Vec<String> = smoke.expect.json.iter().map(ToString::to_string).collect();
    assert_eq!(
        checks,
        [
            "/status equals \"ok\"",
            "/version matches /^[0-9]+$/",
            "/error is absent",
            "/note equals null"
        ]
    );
    let second = &plan.probes[1];
    assert_eq!(second.payload, json!({"smoke_test": true}));
    assert_eq!((second.retries, second.backoff), (0, DEFAULT_BACKOFF));
}

fn error_of(text: &str) -> String {
    SmokePlan::parse(text).unwrap_err().to_string()
}

#[test]
fn errors_name_the_probe_and_the_field() {
    let typo = error_of(r#"{"probes": [{"name": "a"}, {"name": "b", "expct": {}}]}"#);
    assert!(
        typo.contains(r#"probe #2 "b""#) && typo.contains("unknown field `expct`"),
        "{typo}"
    );

    let regex = error_of(
        r#"{"probes": [{"name": "a", "expect": {"json": [{"pointer": "/x", "exists": true}, {"pointer": "/v", "matches": "("}]}}]}"#,
    );
    assert!(
        regex.contains(r#"probe #1 "a""#) && regex.contains("field expect.json[1].matches"),
        "{regex}"
    );

    let pointer = error_of(
        r#"{"probes": [{"name": "a", "expect": {"json": [{"pointer": "status", "equals": 1}]}}]}"#,
    );
    assert!(
        pointer.contains("expect.json[0].pointer") && pointer.contains("start it with /"),
        "{pointer}"
    );

    let two_tests = error_of(
        r#"{"probes": [{"name": "a", "expect": {"json": [{"pointer": "/s", "equals": 1, "exists": true}]}}]}"#,
    );
    assert!(
        two_tests.contains("exactly one of equals, exists or matches"),
        "{two_tests}"
    );

    let unnamed = error_of(r#"{"probes": [{"payload": {}}]}"#);
    assert!(
        unnamed.contains("probe #1") && unnamed.contains("missing field `name`"),
        "{unnamed}"
    );
}

#[test]
fn whole_document_problems_are_reported_too() {
    assert!(error_of("{not json").contains("field (document): invalid JSON"));
    assert!(error_of(r#"{"probes": []}"#).contains("field probes: is empty"));
    assert!(error_of(r#"{"probe": []}"#).contains("unknown field `probe`"));
    let dup = error_of(r#"{"probes": [{"name": "a"}, {"name": "a"}]}"#);
    assert!(dup.contains(r#"probe #2 "a", field name"#), "{dup}");
}

#[test]
fn limits_are_enforced() {
    assert!(error_of(r#"{"probes": [{"name": "a", "retries": 11}]}"#).contains("field retries"));
    assert!(
        error_of(r#"{"probes": [{"name": "a", "expect": {"max_latency_ms": 0}}]}"#)
            .contains("expect.max_latency_ms")
    );
    assert!(
        error_of(r#"{"probes": [{"name": "a", "backoff_ms": 600000}]}"#).contains("backoff_ms")
    );
}

#[test]
fn the_default_plan_is_one_smoke_probe() {
    let plan = SmokePlan::default();
    assert_eq!(plan.probes.len(), 1);
    assert_eq!(plan.probes[0].payload, json!({"smoke_test": true}));
    assert!(plan.probes[0].expect.no_function_error);
}

#[test]
fn a_value_of_the_wrong_type_names_its_field() {
    // Shrunk from the property tests: serde said only "invalid type: boolean `true`,
    // expected u64" under field "expect".
    for (plan, field) in [
        (
            r#"{"probes": [{"name": "s", "expect": {"max_latency_ms": true}}]}"#,
            "expect.max_latency_ms",
        ),
        (r#"{"probes": [{"name": "s", "retries": "2"}]}"#, "retries"),
        (r#"{"probes": [{"name": 7}]}"#, "name"),
        (
            r#"{"probes": [{"name": "s", "expect": {"json": [{"pointer": 1, "exists": true}]}}]}"#,
            "expect.json[0].pointer",
        ),
    ] {
        let e = SmokePlan::parse(plan).unwrap_err();
        assert_eq!(e.field, field, "{plan}: {e}");
    }
}
