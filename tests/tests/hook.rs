//! Issue #3: the pre-traffic smoke-test hook, through its real handler, against the emulator.
//! Every case checks what CodeDeploy recorded and the verdict that reached SNS. Issue #17: a
//! target whose only concurrency slot a real run holds (no fault injection) is waited out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::{Dimension, StateValue};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use e2e::handlers::{BOT as FUNCTION, EXECUTION, HookWorld, event};
use e2e::{
    AppSpec, TestAccount, errors_alarm, eventually, function_role, notifications, publish,
    reserve_concurrency, runnable_function, set_alarm_state,
};
use guardian::config::Env;
use lambda_runtime::Diagnostic;
use pre_traffic_hook::{Config, handler};
use serde_json::{Value, json};

const APPSPEC_JSON: &str = r#"{"version": 0.0, "Resources": [{"tradingBot": {"Type": "AWS::Lambda::Function",
  "Properties": {"Name": "trading-bot", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}]}"#;
const APPSPEC_YAML: &str = "version: 0.0\nResources:\n  - tradingBot:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: trading-bot\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: 2\n";

fn ok_result() -> Value {
    json!({"payload": {"status": "ok", "version": "2"}, "function_error": null, "delay_ms": 0, "executed_version": null, "log": "START v2\nsmoke ok\nEND\n"})
}

fn result_with(overrides: Value) -> Value {
    let mut r = ok_result();
    for (k, v) in overrides.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

const STATUS_PLAN: &str = r#"{"probes": [{"name": "smoke", "payload": {"smoke_test": true},
  "expect": {"json": [{"pointer": "/status", "equals": "ok"}, {"pointer": "/version", "matches": "^[0-9]+$"}]}}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn healthy_target_succeeds_and_probes_the_numbered_version() {
    let hook = HookWorld::new().await;
    hook.queue(vec![ok_result()]).await;
    let app = hook.app(&[("SMOKE_PLAN", STATUS_PLAN)]);
    let before = hook.acct.control.call_counts().await;

    let out = hook.run(&app).await.unwrap();
    let after = hook.acct.control.call_counts().await;

    assert_eq!(hook.recorded().await, ["Succeeded"]);
    let (subject, message, attrs) = hook.alert().await;
    assert_eq!(subject, "PASS pre-traffic trading-bot v2");
    assert!(message.contains("smoke ok"), "log tail quoted: {message}");
    assert_eq!(attrs.get("severity").map(String::as_str), Some("info"));
    assert_eq!(
        attrs.get("source").map(String::as_str),
        Some("pre-traffic-hook")
    );
    let calls = hook.invocations().await;
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0]["qualifier"], "2",
        "the numbered version, never the alias"
    );
    assert_eq!(calls[0]["payload"], json!({"smoke_test": true}));
    assert_eq!(
        (
            out["status"].as_str(),
            out["report"].as_str(),
            out["published"].as_bool()
        ),
        (Some("Succeeded"), Some("recorded"), Some(true))
    );

    // The hook makes only the calls it needs, each once. As on AWS, GetDeployment names the
    // AppSpec by its sha256 only: the text comes from GetApplicationRevision.
    let made: BTreeMap<&str, u64> = after
        .iter()
        .map(|(op, n)| (op.as_str(), n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(
        made,
        BTreeMap::from([
            ("GetApplicationRevision", 1),
            ("GetDeployment", 1),
            ("GetFunctionConcurrency", 1),
            ("Invoke", 1),
            ("Publish", 1),
            ("PutLifecycleEventHookExecutionStatus", 1),
        ])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn yaml_and_legacy_string_appspecs_resolve_the_target_version() {
    for appspec in [
        AppSpec::Content(APPSPEC_YAML),
        AppSpec::LegacyString(APPSPEC_JSON),
        AppSpec::LegacyString(APPSPEC_YAML),
    ] {
        let hook = HookWorld::with_appspec(appspec).await;
        hook.run(&hook.app(&[])).await.unwrap();
        assert_eq!(hook.recorded().await, ["Succeeded"]);
        assert_eq!(hook.alert().await.0, "PASS pre-traffic trading-bot v2");
        assert_eq!(hook.invocations().await[0]["qualifier"], "2");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn function_errors_handled_and_unhandled_fail() {
    for kind in ["Handled", "Unhandled"] {
        let hook = HookWorld::new().await;
        hook.queue(vec![result_with(json!({"function_error": kind, "payload": {"errorType": "SampleTarget.BadBuild", "errorMessage": "bad build"}}))]).await;

        let out = hook.run(&hook.app(&[])).await.unwrap();

        assert_eq!(hook.recorded().await, ["Failed"], "{kind}");
        let (subject, message, attrs) = hook.alert().await;
        assert_eq!(subject, "FAIL pre-traffic trading-bot v2");
        assert!(
            message.contains(&format!("FunctionError {kind}")) && message.contains("bad build"),
            "{message}"
        );
        assert_eq!(attrs.get("severity").map(String::as_str), Some("warning"));
        assert_eq!(out["status"], "Failed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_json_fails_naming_the_expectation() {
    let hook = HookWorld::new().await;
    hook.queue(vec![result_with(
        json!({"payload": {"status": "degraded", "version": "2"}}),
    )])
    .await;

    hook.run(&hook.app(&[("SMOKE_PLAN", STATUS_PLAN)]))
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    let (_, message, _) = hook.alert().await;
    assert!(
        message.contains(r#"expected /status equals "ok", got "degraded""#),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hanging_target_fails_before_the_hooks_deadline() {
    let hook = HookWorld::new().await;
    hook.queue(vec![result_with(json!({"delay_ms": 15_000}))])
        .await;
    let app = hook.app(&[]);

    let out = handler(&app, hook.event(Duration::from_secs(4)))
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    let (_, message, _) = hook.alert().await;
    assert!(
        message.contains("no answer after") && message.contains("before the hook's deadline"),
        "{message}"
    );
    assert_eq!(out["report"], "recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_executed_version_fails() {
    let hook = HookWorld::new().await;
    hook.queue(vec![result_with(json!({"executed_version": "1"}))])
        .await;

    hook.run(&hook.app(&[])).await.unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    assert!(
        hook.alert()
            .await
            .1
            .contains("version 1 answered, expected 2")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_throttled_until_the_deadline_fails_as_busy() {
    let hook = HookWorld::new().await;
    hook.fault("Invoke", 1000, 429, "TooManyRequestsException")
        .await;

    handler(&hook.app(&[]), hook.event(Duration::from_secs(8)))
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    let message = hook.alert().await.1;
    assert!(message.contains("target busy for"), "{message}");
    let calls = hook.acct.control.call_counts().await;
    assert!(
        calls.get("Invoke").copied().unwrap_or(0) > 3,
        "the hook waited the throttling out with more than one SDK call: {calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_busy_for_a_while_passes_once_it_frees() {
    let hook = HookWorld::new().await;
    // More throttles than the SDK's own 3 attempts absorb: the hook itself must wait.
    hook.fault("Invoke", 7, 429, "TooManyRequestsException")
        .await;

    hook.run(&hook.app(&[])).await.unwrap();

    assert_eq!(hook.recorded().await, ["Succeeded"]);
    assert_eq!(
        hook.acct.control.call_counts().await.get("Invoke").copied(),
        Some(8)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn codedeploy_throttled_or_failing_twice_still_reports_once() {
    for (status, code) in [(400, "ThrottlingException"), (500, "InternalFailure")] {
        let hook = HookWorld::new().await;
        hook.fault("PutLifecycleEventHookExecutionStatus", 2, status, code)
            .await;

        let out = hook.run(&hook.app(&[])).await.unwrap();

        assert_eq!(hook.recorded().await, ["Succeeded"], "{code}");
        assert_eq!(out["report"], "recorded");
        let counts = hook.acct.control.call_counts().await;
        assert_eq!(counts["PutLifecycleEventHookExecutionStatus"], 3, "{code}");
        assert!(hook.alert().await.1.contains("Succeeded recorded"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_invocation_finds_the_event_completed_and_is_done() {
    let hook = HookWorld::new().await;
    let app = hook.app(&[]);
    hook.run(&app).await.unwrap();
    let _first = hook.alert().await;

    let again = hook.run(&app).await.unwrap();

    assert_eq!(again["report"], "already_completed");
    assert_eq!(hook.recorded().await, ["Succeeded"], "still one verdict");
    assert!(
        hook.alert()
            .await
            .1
            .contains("an earlier attempt of this hook had already reported")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_deployment_is_a_clear_error() {
    let hook = HookWorld::new().await;
    let app = hook.app(&[]);
    let event = event(
        json!({"DeploymentId": "d-DOESNOTEXIST", "LifecycleEventHookExecutionId": EXECUTION}),
        Duration::from_secs(30),
    );

    let err = Diagnostic::from(handler(&app, event).await.unwrap_err());

    assert_eq!(err.error_type, "PreTrafficHook.UnknownDeployment");
    assert!(
        err.error_message.contains("d-DOESNOTEXIST")
            && err
                .error_message
                .contains("DeploymentDoesNotExistException"),
        "{}",
        err.error_message
    );
    assert!(hook.acct.control.hook_statuses().await.is_empty());
    assert!(hook.invocations().await.is_empty(), "nothing probed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flaky_probe_that_passes_on_retry_succeeds() {
    let hook = HookWorld::new().await;
    hook.queue(vec![
        result_with(
            json!({"function_error": "Unhandled", "payload": {"errorMessage": "cold dependency"}}),
        ),
        ok_result(),
    ])
    .await;
    let plan = r#"{"probes": [{"name": "smoke", "retries": 2, "backoff_ms": 10}]}"#;

    let out = hook.run(&hook.app(&[("SMOKE_PLAN", plan)])).await.unwrap();

    assert_eq!(hook.recorded().await, ["Succeeded"]);
    assert_eq!(hook.invocations().await.len(), 2);
    assert_eq!(out["probes"][0]["attempts"], 2);
    assert_eq!(hook.alert().await.0, "PASS pre-traffic trading-bot v2");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_outside_the_allow_list_fails_without_being_invoked() {
    let hook = HookWorld::new().await;

    hook.run(&hook.app(&[("GUARDED_FUNCTIONS", "other-bot")]))
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    assert!(
        hook.alert()
            .await
            .1
            .contains("trading-bot is not in GUARDED_FUNCTIONS")
    );
    assert!(hook.invocations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_stopped_by_the_kill_switch_fails() {
    let hook = HookWorld::new().await;
    aws_sdk_lambda::Client::new(&hook.cfg)
        .put_function_concurrency()
        .function_name(FUNCTION)
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();

    hook.run(&hook.app(&[])).await.unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    assert!(hook.alert().await.1.contains("trading is stopped"));
    assert!(hook.invocations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_plan_fails_every_invocation_naming_probe_and_field() {
    let plan = r#"{"probes": [{"name": "smoke", "expect": {"json": [{"pointer": "/status", "equal": "ok"}]}}]}"#;
    for _ in 0..2 {
        let hook = HookWorld::new().await;

        hook.run(&hook.app(&[("SMOKE_PLAN", plan)])).await.unwrap();

        assert_eq!(hook.recorded().await, ["Failed"]);
        let message = hook.alert().await.1;
        assert!(
            message.contains(r#"probe #1 "smoke", field expect.json[0]"#)
                && message.contains("unknown field `equal`"),
            "{message}"
        );
        assert!(hook.invocations().await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn post_traffic_fails_while_a_rollback_alarm_is_in_alarm() {
    let hook = HookWorld::new().await;
    for name in ["trading-bot-errors", "trading-bot-throttles"] {
        errors_alarm(&hook.cfg, name).send().await.unwrap();
    }
    set_alarm_state(&hook.cfg, "trading-bot-errors", StateValue::Alarm, "test").await;
    let alarms = [
        ("HOOK_PHASE", "post"),
        (
            "ROLLBACK_ALARMS",
            "trading-bot-errors,trading-bot-throttles",
        ),
    ];

    hook.run(&hook.app(&alarms)).await.unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    let (subject, message, _) = hook.alert().await;
    assert_eq!(subject, "FAIL post-traffic trading-bot v2");
    assert!(
        message.contains("rollback alarm in ALARM: trading-bot-errors"),
        "{message}"
    );
    assert!(
        !message.contains("trading-bot-throttles"),
        "an OK alarm is not blamed: {message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_guarded_functions_alarm_does_not_fail_this_deployment() {
    // A guardian-only stack guards two bots and checks both bots' rollback alarms: the
    // pricing bot's errors in ALARM must not roll back the trading bot's deployment.
    let hook = HookWorld::new().await;
    let on = |function: &str| {
        Dimension::builder()
            .name("FunctionName")
            .value(function)
            .build()
    };
    for (alarm, function) in [
        ("trading-bot-errors", FUNCTION),
        ("pricing-bot-errors", "pricing-bot"),
    ] {
        errors_alarm(&hook.cfg, alarm)
            .dimensions(on(function))
            .send()
            .await
            .unwrap();
    }
    set_alarm_state(&hook.cfg, "pricing-bot-errors", StateValue::Alarm, "test").await;
    let alarms = [
        ("HOOK_PHASE", "post"),
        ("GUARDED_FUNCTIONS", "trading-bot,pricing-bot"),
        ("ROLLBACK_ALARMS", "trading-bot-errors,pricing-bot-errors"),
    ];

    hook.run(&hook.app(&alarms)).await.unwrap();

    assert_eq!(hook.recorded().await, ["Succeeded"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn post_traffic_with_quiet_alarms_succeeds() {
    let hook = HookWorld::new().await;
    errors_alarm(&hook.cfg, "trading-bot-errors")
        .send()
        .await
        .unwrap();

    hook.run(&hook.app(&[
        ("HOOK_PHASE", "post"),
        ("ROLLBACK_ALARMS", "trading-bot-errors"),
    ]))
    .await
    .unwrap();

    assert_eq!(hook.recorded().await, ["Succeeded"]);
    assert_eq!(hook.alert().await.0, "PASS post-traffic trading-bot v2");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_publish_neither_changes_nor_blocks_the_report() {
    let hook = HookWorld::new().await;
    hook.fault("Publish", 100, 500, "InternalError").await;

    let out = hook.run(&hook.app(&[])).await.unwrap();

    assert_eq!(hook.recorded().await, ["Succeeded"]);
    assert_eq!(out["published"], false);
    assert!(notifications(&hook.cfg, &hook.inbox).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fallback_target_is_used_when_the_appspec_has_no_lambda_resource() {
    let hook =
        HookWorld::with_appspec(AppSpec::Content(r#"{"version": 0.0, "Resources": []}"#)).await;

    hook.run(&hook.app(&[("TARGET_FUNCTION", FUNCTION), ("TARGET_VERSION", "2")]))
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Succeeded"]);
    assert_eq!(hook.invocations().await[0]["qualifier"], "2");
    let _ = hook.alert().await;
}

/// Checks cut off by the deadline, however far they got, end in a Failed report: here the
/// report margin leaves them no time at all. (Checks that never finish, and a panicking
/// decision, are the hook crate's unit tests: `verdict_flow/tests.rs`.)
#[tokio::test(flavor = "multi_thread")]
async fn checks_cut_off_by_the_deadline_are_reported_failed() {
    let hook = HookWorld::new().await;
    let app = hook.app(&[("REPORT_MARGIN_MS", "10000")]);

    let out = handler(&app, hook.event(Duration::from_secs(10)))
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    assert!(hook.alert().await.1.contains("out of time"));
    assert_eq!(out["report"], "recorded");
    assert!(hook.invocations().await.is_empty(), "nothing probed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misconfigured_hook_still_reports_failed() {
    let hook = HookWorld::new().await;
    // What main does when Config::from_env fails (here: no ALERT_TOPIC_ARN).
    let problem = Config::from_env(&Env::from_pairs([("GUARDED_FUNCTIONS", FUNCTION)]))
        .unwrap_err()
        .to_string();
    let codedeploy = guardian_aws::codedeploy::CodeDeploy::from_sdk(&hook.cfg);

    let err =
        pre_traffic_hook::misconfigured(&codedeploy, &problem, hook.event(Duration::from_secs(30)))
            .await
            .unwrap_err();

    let d = Diagnostic::from(err);
    assert_eq!(d.error_type, "PreTrafficHook.Misconfigured");
    assert!(
        d.error_message.contains("ALERT_TOPIC_ARN") && d.error_message.contains("reported Failed"),
        "{}",
        d.error_message
    );
    assert_eq!(
        hook.recorded().await,
        ["Failed"],
        "the deployment rolls back now"
    );
    assert!(hook.invocations().await.is_empty(), "nothing probed");
}

// ------------------------------------------------------------ a target busy for real (#17)

/// `trading-bot` running the real sample target with reserved concurrency 1 (one slot for
/// all its versions): version 1 hangs (`FAILURE_MODE=hang`) until Lambda's timeout of
/// `hold_seconds` ends its run, version 2 is healthy. Plus the alert topic and the
/// deployment shifting `live` from 1 to 2, as [`HookWorld::new`] makes them.
async fn busy_target(hold_seconds: i32) -> HookWorld {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    let role = function_role(&cfg).await;
    let hang = [("FAILURE_MODE", "hang")];
    runnable_function(&cfg, FUNCTION, &role, &hang, hold_seconds).await;
    assert_eq!(publish(&cfg, FUNCTION, "hang").await, "1");
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    lambda
        .update_function_configuration()
        .function_name(FUNCTION)
        .timeout(10)
        .send()
        .await
        .expect("UpdateFunctionConfiguration");
    assert_eq!(publish(&cfg, FUNCTION, "none").await, "2");
    lambda
        .create_alias()
        .function_name(FUNCTION)
        .name("live")
        .function_version("1")
        .send()
        .await
        .expect("CreateAlias");
    reserve_concurrency(&cfg, FUNCTION, 1).await;
    // Version 1's run fails by timing out; Lambda would retry it a minute later.
    lambda
        .put_function_event_invoke_config()
        .function_name(FUNCTION)
        .qualifier("1")
        .maximum_retry_attempts(0)
        .send()
        .await
        .expect("PutFunctionEventInvokeConfig");
    HookWorld::around(acct, AppSpec::Content(APPSPEC_JSON)).await
}

/// A run of version 1 takes the function's only slot, as a scheduled tick would (an
/// asynchronous invoke); returns once its execution environment is busy with it.
async fn hold_the_slot(hook: &HookWorld) {
    aws_sdk_lambda::Client::new(&hook.cfg)
        .invoke()
        .function_name(FUNCTION)
        .qualifier("1")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(r#"{"source": "tick"}"#))
        .send()
        .await
        .expect("Invoke (Event)");
    eventually("version 1 to run", Duration::from_secs(15), || async {
        let envs = hook.acct.control.get("/_ext/lambda/environments").await;
        let busy = envs.as_array().is_some_and(|e| {
            e.iter()
                .any(|e| e["version"] == "1" && e["state"] == "busy")
        });
        busy.then_some(())
    })
    .await;
}

/// Synchronous invokes of `version` that ran (throttled ones are not recorded).
async fn ran(hook: &HookWorld, version: &str) -> usize {
    hook.invocations()
        .await
        .iter()
        .filter(|i| i["invocation_type"] == "RequestResponse" && i["qualifier"] == version)
        .count()
}

async fn invoke_calls(hook: &HookWorld) -> u64 {
    let calls = hook.acct.control.call_counts().await;
    calls.get("Invoke").copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_probe_throttled_while_a_run_holds_the_slot_passes_once_it_frees() {
    let hook = busy_target(4).await;
    hold_the_slot(&hook).await;
    let (before, started) = (invoke_calls(&hook).await, Instant::now());

    let out = handler(&hook.app(&[]), hook.event(Duration::from_secs(40)))
        .await
        .unwrap();
    let took = started.elapsed();

    assert_eq!(hook.recorded().await, ["Succeeded"], "{out:#}");
    let row = &out["probes"][0];
    assert_eq!(
        (&row["passed"], &row["attempts"], &row["executed_version"]),
        (&json!(true), &json!(1), &json!("2")),
        "the throttled invokes spent none of the probe's attempts: {row:#}"
    );
    // It waited: every invoke before the slot freed was throttled (429, not recorded as a
    // run), and only then did version 2 run, once.
    let invokes = invoke_calls(&hook).await - before;
    assert_eq!(ran(&hook, "2").await, 1);
    assert!(invokes >= 2, "{invokes} Invoke call(s): none throttled?");
    assert!(
        took >= Duration::from_secs(2),
        "the hook answered in {took:?}, before version 1's run could have ended"
    );
    // The slot was freed by Lambda's timeout ending version 1's run (its record is written
    // just after the slot is released).
    let path = format!("/_ext/lambda/async?function={FUNCTION}");
    eventually("version 1's run to end", Duration::from_secs(5), || async {
        let records = hook.acct.control.get(&path).await;
        (records[0]["attempts"][0]["result"] == "function_error").then_some(())
    })
    .await;
    let (subject, message, _) = hook.alert().await;
    assert_eq!(subject, "PASS pre-traffic trading-bot v2", "{message}");
    println!(
        "busy for {took:?}: {invokes} Invoke calls, {} throttled; probe row {row}",
        invokes - 1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_probe_throttled_past_the_hooks_budget_fails_as_busy() {
    // Version 1's run outlasts the hook's whole budget.
    let hook = busy_target(60).await;
    hold_the_slot(&hook).await;
    let before = invoke_calls(&hook).await;

    let out = handler(&hook.app(&[]), hook.event(Duration::from_secs(8)))
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Failed"], "{out:#}");
    let failure = out["probes"][0]["failures"][0].as_str().unwrap_or_default();
    assert!(failure.starts_with("target busy for"), "{out:#}");
    let message = hook.alert().await.1;
    assert!(message.contains("target busy for"), "{message}");
    assert_eq!(ran(&hook, "2").await, 0, "version 2 never got the slot");
    let invokes = invoke_calls(&hook).await - before;
    assert!(
        invokes > 3,
        "the hook waited, invoking again, beyond the SDK's own attempts: {invokes}"
    );
}
