//! Issue #3: the pre-traffic smoke-test hook, through its real handler, against the emulator.
//! Every case checks what CodeDeploy recorded and the verdict that reached SNS. Issue #17: a
//! target whose only concurrency slot a real run holds (no fault injection) is waited out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_codedeploy::types::{
    AppSpecContent, ComputePlatform, RevisionLocation, RevisionLocationType,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, Runtime};
use e2e::{
    TestAccount, build_functions, guarded_function, lambda_context, lambda_role, notifications,
    topic_with_queue, workspace_root,
};
use guardian::config::Env;
use guardian::hook::event::HookEvent;
use guardian_aws::deadline::Deadline;
use lambda_runtime::{Diagnostic, LambdaEvent};
use pre_traffic_hook::{App, Config, conclude, handler};
use serde_json::{Value, json};

const FUNCTION: &str = "trading-bot";
const EXECUTION: &str = "hook-execution-1";

const APPSPEC_JSON: &str = r#"{"version": 0.0, "Resources": [{"tradingBot": {"Type": "AWS::Lambda::Function",
  "Properties": {"Name": "trading-bot", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}]}"#;
const APPSPEC_YAML: &str = "version: 0.0\nResources:\n  - tradingBot:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: trading-bot\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: 2\n";

/// How the deployment's AppSpec is registered.
enum Revision {
    Content(&'static str),
    LegacyString(&'static str),
}

struct Hook {
    account: TestAccount,
    cfg: SdkConfig,
    topic: String,
    inbox: String,
    deployment_id: String,
}

impl Hook {
    /// A guarded function with versions 1 and 2 (alias live -> 1), an alert topic with a
    /// subscribed queue, and a CodeDeploy deployment shifting the function to version 2.
    async fn new(revision: Revision) -> Hook {
        let account = TestAccount::new();
        let cfg = account.sdk_config().await;
        guarded_function(&cfg, FUNCTION, 2).await;
        let (topic, inbox) = topic_with_queue(&cfg, "hook-alerts").await;
        let deployment_id = deployment(&account, &cfg, revision).await;
        Hook {
            account,
            cfg,
            topic,
            inbox,
            deployment_id,
        }
    }

    fn app(&self, extra: &[(&str, &str)]) -> App {
        let topic = self.topic.clone();
        let mut pairs: Vec<(&str, &str)> = vec![
            ("GUARDED_FUNCTIONS", FUNCTION),
            ("ALERT_TOPIC_ARN", topic.as_str()),
            ("REPORT_MARGIN_MS", "1000"),
        ];
        pairs.extend_from_slice(extra);
        let config = Config::from_env(&Env::from_pairs(pairs)).unwrap();
        App::new(&self.cfg, config)
    }

    fn event(&self, budget: Duration) -> LambdaEvent<Value> {
        LambdaEvent::new(
            json!({"DeploymentId": self.deployment_id, "LifecycleEventHookExecutionId": EXECUTION}),
            lambda_context(budget),
        )
    }

    async fn run(&self, app: &App) -> Result<Value, pre_traffic_hook::HookError> {
        handler(app, self.event(Duration::from_secs(30))).await
    }

    /// The statuses CodeDeploy recorded for this deployment's hook execution.
    async fn recorded(&self) -> Vec<String> {
        self.account
            .control
            .hook_statuses()
            .await
            .into_iter()
            .filter(|h| h["deploymentId"] == self.deployment_id.as_str())
            .map(|h| {
                assert_eq!(h["lifecycleEventHookExecutionId"], EXECUTION);
                h["status"].as_str().unwrap().to_string()
            })
            .collect()
    }

    /// The one verdict that reached the alert topic: (subject, message, attributes).
    async fn alert(&self) -> (String, String, BTreeMap<String, String>) {
        let mut got = notifications(&self.cfg, &self.inbox).await;
        assert_eq!(got.len(), 1, "exactly one verdict published: {got:?}");
        let n = got.remove(0);
        let attrs = n["MessageAttributes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v["Value"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        (
            n["Subject"].as_str().unwrap_or_default().to_string(),
            n["Message"].as_str().unwrap_or_default().to_string(),
            attrs,
        )
    }

    async fn invocations(&self) -> Vec<Value> {
        self.account.control.invocations(FUNCTION).await
    }

    async fn queue(&self, results: Vec<Value>) {
        self.account
            .control
            .queue_invoke_results(FUNCTION, Some("2"), results)
            .await;
    }

    async fn fault(&self, operation: &str, count: u32, status: u16, code: &str) {
        self.account
            .control
            .inject_fault(operation, count, status, code)
            .await;
    }
}

async fn deployment(account: &TestAccount, cfg: &SdkConfig, revision: Revision) -> String {
    let cd = aws_sdk_codedeploy::Client::new(cfg);
    cd.create_application()
        .application_name("trading-bot-app")
        .compute_platform(ComputePlatform::Lambda)
        .send()
        .await
        .expect("CreateApplication");
    cd.create_deployment_group()
        .application_name("trading-bot-app")
        .deployment_group_name("trading-bot-group")
        .service_role_arn(account.arn("iam", "role/codedeploy"))
        .send()
        .await
        .expect("CreateDeploymentGroup");
    #[allow(deprecated)]
    let location = match revision {
        Revision::Content(text) => RevisionLocation::builder()
            .revision_type(RevisionLocationType::AppSpecContent)
            .app_spec_content(AppSpecContent::builder().content(text).build()),
        Revision::LegacyString(text) => RevisionLocation::builder()
            .revision_type(RevisionLocationType::String)
            .string(
                aws_sdk_codedeploy::types::RawString::builder()
                    .content(text)
                    .build(),
            ),
    };
    cd.create_deployment()
        .application_name("trading-bot-app")
        .deployment_group_name("trading-bot-group")
        .revision(location.build())
        .send()
        .await
        .expect("CreateDeployment")
        .deployment_id
        .expect("deployment id")
}

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
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
    hook.queue(vec![ok_result()]).await;
    let app = hook.app(&[("SMOKE_PLAN", STATUS_PLAN)]);
    let before = hook.account.control.call_counts().await;

    let out = hook.run(&app).await.unwrap();
    let after = hook.account.control.call_counts().await;

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
    for revision in [
        Revision::Content(APPSPEC_YAML),
        Revision::LegacyString(APPSPEC_JSON),
        Revision::LegacyString(APPSPEC_YAML),
    ] {
        let hook = Hook::new(revision).await;
        hook.run(&hook.app(&[])).await.unwrap();
        assert_eq!(hook.recorded().await, ["Succeeded"]);
        assert_eq!(hook.alert().await.0, "PASS pre-traffic trading-bot v2");
        assert_eq!(hook.invocations().await[0]["qualifier"], "2");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn function_errors_handled_and_unhandled_fail() {
    for kind in ["Handled", "Unhandled"] {
        let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
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
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
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
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
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
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
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
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
    hook.fault("Invoke", 1000, 429, "TooManyRequestsException")
        .await;

    handler(&hook.app(&[]), hook.event(Duration::from_secs(8)))
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    let message = hook.alert().await.1;
    assert!(message.contains("target busy for"), "{message}");
    let calls = hook.account.control.call_counts().await;
    assert!(
        calls.get("Invoke").copied().unwrap_or(0) > 3,
        "the hook waited the throttling out with more than one SDK call: {calls:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_busy_for_a_while_passes_once_it_frees() {
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
    // More throttles than the SDK's own 3 attempts absorb: the hook itself must wait.
    hook.fault("Invoke", 7, 429, "TooManyRequestsException")
        .await;

    hook.run(&hook.app(&[])).await.unwrap();

    assert_eq!(hook.recorded().await, ["Succeeded"]);
    assert_eq!(
        hook.account
            .control
            .call_counts()
            .await
            .get("Invoke")
            .copied(),
        Some(8)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn codedeploy_throttled_or_failing_twice_still_reports_once() {
    for (status, code) in [(400, "ThrottlingException"), (500, "InternalFailure")] {
        let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
        hook.fault("PutLifecycleEventHookExecutionStatus", 2, status, code)
            .await;

        let out = hook.run(&hook.app(&[])).await.unwrap();

        assert_eq!(hook.recorded().await, ["Succeeded"], "{code}");
        assert_eq!(out["report"], "recorded");
        let counts = hook.account.control.call_counts().await;
        assert_eq!(counts["PutLifecycleEventHookExecutionStatus"], 3, "{code}");
        assert!(hook.alert().await.1.contains("Succeeded recorded"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_invocation_finds_the_event_completed_and_is_done() {
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
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
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
    let app = hook.app(&[]);
    let event = LambdaEvent::new(
        json!({"DeploymentId": "d-DOESNOTEXIST", "LifecycleEventHookExecutionId": EXECUTION}),
        lambda_context(Duration::from_secs(30)),
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
    assert!(hook.account.control.hook_statuses().await.is_empty());
    assert!(hook.invocations().await.is_empty(), "nothing probed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_while_deciding_reports_failed() {
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
    let app = hook.app(&[]);
    let ids = HookEvent {
        deployment_id: hook.deployment_id.clone(),
        execution_id: EXECUTION.into(),
    };
    let decision = async { panic!("index out of bounds in the decision") };

    let out = conclude(
        &app,
        &ids,
        Deadline::after(Duration::from_secs(30)),
        decision,
    )
    .await
    .unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    assert!(
        hook.alert()
            .await
            .1
            .contains("the hook panicked (index out of bounds in the decision)")
    );
    assert_eq!(out["status"], "Failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flaky_probe_that_passes_on_retry_succeeds() {
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
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
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;

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
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
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
        let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;

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
    use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
    let cw = aws_sdk_cloudwatch::Client::new(&hook.cfg);
    for name in ["trading-bot-errors", "trading-bot-throttles"] {
        cw.put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/Lambda")
            .metric_name("Errors")
            .statistic(Statistic::Sum)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .send()
            .await
            .unwrap();
    }
    cw.set_alarm_state()
        .alarm_name("trading-bot-errors")
        .state_value(StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .unwrap();
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
async fn post_traffic_with_quiet_alarms_succeeds() {
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
    aws_sdk_cloudwatch::Client::new(&hook.cfg)
        .put_metric_alarm()
        .alarm_name("trading-bot-errors")
        .namespace("AWS/Lambda")
        .metric_name("Errors")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
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
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
    hook.fault("Publish", 100, 500, "InternalError").await;

    let out = hook.run(&hook.app(&[])).await.unwrap();

    assert_eq!(hook.recorded().await, ["Succeeded"]);
    assert_eq!(out["published"], false);
    assert!(notifications(&hook.cfg, &hook.inbox).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fallback_target_is_used_when_the_appspec_has_no_lambda_resource() {
    let hook = Hook::new(Revision::Content(r#"{"version": 0.0, "Resources": []}"#)).await;

    hook.run(&hook.app(&[("TARGET_FUNCTION", FUNCTION), ("TARGET_VERSION", "2")]))
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Succeeded"]);
    assert_eq!(hook.invocations().await[0]["qualifier"], "2");
    let _ = hook.alert().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn checks_that_never_finish_are_cut_off_and_reported_failed() {
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
    let app = hook.app(&[]);
    let ids = HookEvent {
        deployment_id: hook.deployment_id.clone(),
        execution_id: EXECUTION.into(),
    };
    let stuck = futures::future::pending();

    let out = conclude(&app, &ids, Deadline::after(Duration::from_secs(3)), stuck)
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Failed"]);
    assert!(hook.alert().await.1.contains("out of time"));
    assert_eq!(out["report"], "recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misconfigured_hook_still_reports_failed() {
    let hook = Hook::new(Revision::Content(APPSPEC_JSON)).await;
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

/// A zip archive (stored) with one executable `bootstrap` (mode 0755) that execs the built
/// sample target, as `sam build` packages a custom runtime.
fn sample_target_package() -> Vec<u8> {
    let binary = workspace_root().join("target/debug/sample-target");
    let script = format!("#!/bin/sh\nexec {} \"$@\"\n", binary.display());
    let (name, data) = (b"bootstrap", script.as_bytes());
    let (crc, size) = (crc32(data), data.len() as u32);
    let mut local = vec![0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for v in [crc, size, size] {
        local.extend_from_slice(&v.to_le_bytes());
    }
    local.extend_from_slice(&(name.len() as u16).to_le_bytes());
    local.extend_from_slice(&[0, 0]);
    local.extend_from_slice(name);
    local.extend_from_slice(data);
    let mut central = vec![0x50, 0x4b, 0x01, 0x02, 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for v in [crc, size, size] {
        central.extend_from_slice(&v.to_le_bytes());
    }
    central.extend_from_slice(&(name.len() as u16).to_le_bytes());
    central.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attrs
    central.extend_from_slice(&(0o100755u32 << 16).to_le_bytes()); // unix mode rwxr-xr-x
    central.extend_from_slice(&[0; 4]); // local header offset
    central.extend_from_slice(name);
    let mut end = vec![0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0];
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&(local.len() as u32).to_le_bytes());
    end.extend_from_slice(&[0, 0]);
    [local, central, end].concat()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

impl Hook {
    /// `trading-bot` running the real sample target with reserved concurrency 1 (one slot for
    /// all its versions): version 1 hangs (`FAILURE_MODE=hang`) until Lambda's timeout of
    /// `hold_seconds` ends its run, version 2 is healthy. Plus the alert topic and the
    /// deployment shifting `live` from 1 to 2, as [`Hook::new`] makes them.
    async fn busy_target(hold_seconds: i32) -> Hook {
        tokio::task::spawn_blocking(|| build_functions(false))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}"));
        let account = TestAccount::new();
        let cfg = account.sdk_config().await;
        let lambda = aws_sdk_lambda::Client::new(&cfg);
        let env = |mode: &str| {
            Environment::builder()
                .variables("FAILURE_MODE", mode)
                .build()
        };
        lambda
            .create_function()
            .function_name(FUNCTION)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(lambda_role(&cfg).await)
            .timeout(hold_seconds)
            .environment(env("hang"))
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(sample_target_package()))
                    .build(),
            )
            .send()
            .await
            .expect("CreateFunction");
        let publish = || async {
            lambda
                .publish_version()
                .function_name(FUNCTION)
                .send()
                .await
                .expect("PublishVersion")
                .version
                .expect("version")
        };
        assert_eq!(publish().await, "1");
        lambda
            .update_function_configuration()
            .function_name(FUNCTION)
            .environment(env("none"))
            .timeout(10)
            .send()
            .await
            .expect("UpdateFunctionConfiguration");
        assert_eq!(publish().await, "2");
        lambda
            .create_alias()
            .function_name(FUNCTION)
            .name("live")
            .function_version("1")
            .send()
            .await
            .expect("CreateAlias");
        lambda
            .put_function_concurrency()
            .function_name(FUNCTION)
            .reserved_concurrent_executions(1)
            .send()
            .await
            .expect("PutFunctionConcurrency");
        // Version 1's run fails by timing out; Lambda would retry it a minute later.
        lambda
            .put_function_event_invoke_config()
            .function_name(FUNCTION)
            .qualifier("1")
            .maximum_retry_attempts(0)
            .send()
            .await
            .expect("PutFunctionEventInvokeConfig");
        let (topic, inbox) = topic_with_queue(&cfg, "hook-alerts").await;
        let deployment_id = deployment(&account, &cfg, Revision::Content(APPSPEC_JSON)).await;
        Hook {
            account,
            cfg,
            topic,
            inbox,
            deployment_id,
        }
    }

    /// A run of version 1 takes the function's only slot, as a scheduled tick would (an
    /// asynchronous invoke); returns once its execution environment is busy with it.
    async fn hold_the_slot(&self) {
        aws_sdk_lambda::Client::new(&self.cfg)
            .invoke()
            .function_name(FUNCTION)
            .qualifier("1")
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(r#"{"source": "tick"}"#))
            .send()
            .await
            .expect("Invoke (Event)");
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            let envs = self.account.control.get("/_ext/lambda/environments").await;
            let busy = envs.as_array().is_some_and(|e| {
                e.iter()
                    .any(|e| e["version"] == "1" && e["state"] == "busy")
            });
            if busy {
                return;
            }
            assert!(Instant::now() < end, "version 1 never ran: {envs}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Synchronous invokes of `version` that ran (throttled ones are not recorded).
    async fn ran(&self, version: &str) -> usize {
        self.invocations()
            .await
            .iter()
            .filter(|i| i["invocation_type"] == "RequestResponse" && i["qualifier"] == version)
            .count()
    }

    async fn invoke_calls(&self) -> u64 {
        let calls = self.account.control.call_counts().await;
        calls.get("Invoke").copied().unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_probe_throttled_while_a_run_holds_the_slot_passes_once_it_frees() {
    let hook = Hook::busy_target(4).await;
    hook.hold_the_slot().await;
    let (before, started) = (hook.invoke_calls().await, Instant::now());

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
    let invokes = hook.invoke_calls().await - before;
    assert_eq!(hook.ran("2").await, 1);
    assert!(invokes >= 2, "{invokes} Invoke call(s): none throttled?");
    assert!(
        took >= Duration::from_secs(2),
        "the hook answered in {took:?}, before version 1's run could have ended"
    );
    // The slot was freed by Lambda's timeout ending version 1's run (its record is written
    // just after the slot is released).
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let records = hook
            .account
            .control
            .get(&format!("/_ext/lambda/async?function={FUNCTION}"))
            .await;
        if records[0]["attempts"][0]["result"] == "function_error" {
            break;
        }
        assert!(Instant::now() < end, "version 1's run: {records}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
    let hook = Hook::busy_target(60).await;
    hook.hold_the_slot().await;
    let before = hook.invoke_calls().await;

    let out = handler(&hook.app(&[]), hook.event(Duration::from_secs(8)))
        .await
        .unwrap();

    assert_eq!(hook.recorded().await, ["Failed"], "{out:#}");
    let failure = out["probes"][0]["failures"][0].as_str().unwrap_or_default();
    assert!(failure.starts_with("target busy for"), "{out:#}");
    let message = hook.alert().await.1;
    assert!(message.contains("target busy for"), "{message}");
    assert_eq!(hook.ran("2").await, 0, "version 2 never got the slot");
    let invokes = hook.invoke_calls().await - before;
    assert!(
        invokes > 3,
        "the hook waited, invoking again, beyond the SDK's own attempts: {invokes}"
    );
}
