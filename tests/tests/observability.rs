//! Issue #11: what each function prints, captured while its real handler runs against the
//! emulator. The capture uses the production subscriber (`guardian_aws::telemetry::subscriber`,
//! JSON format) writing to a buffer, so these are the lines CloudWatch Logs would receive:
//! the decision line's fields, the EMF documents' shape, and no message body in full.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_codedeploy::types::{
    AppSpecContent, ComputePlatform, RevisionLocation, RevisionLocationType,
};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use e2e::{
    TestAccount, guarded_function, lambda_context, notifications, queue, topic_with_queue,
    visible_messages,
};
use guardian::config::Env;
use guardian_aws::telemetry::{LogFormat, subscriber};
use lambda_runtime::LambdaEvent;
use lambda_runtime::tracing::instrument::WithSubscriber;
use lambda_runtime::tracing::subscriber::filter::LevelFilter;
use serde_json::{Value, json};

const BOT: &str = "trading-bot";

/// Everything written while a future ran, as the deployed function would print it.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The output of one handler run.
struct Printed {
    text: String,
    lines: Vec<Value>,
}

impl Printed {
    fn decisions(&self) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|l| l["message"] == "decision")
            .collect()
    }

    fn decision(&self) -> &Value {
        let d = self.decisions();
        assert_eq!(d.len(), 1, "one decision line: {}", self.text);
        d[0]
    }

    /// EMF documents, which CloudWatch reads only as whole lines that are the document.
    fn emf(&self) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|l| l.get("_aws").is_some())
            .collect()
    }

    /// The EMF document holding metric `name`.
    fn metric(&self, name: &str) -> &Value {
        let docs: Vec<&Value> = self
            .emf()
            .into_iter()
            .filter(|d| d.get(name).is_some())
            .collect();
        assert_eq!(docs.len(), 1, "one document with {name}: {}", self.text);
        docs[0]
    }
}

async fn captured<F: Future>(work: F) -> (F::Output, Printed) {
    let capture = Capture::default();
    let writer = capture.clone();
    let sub = subscriber(LogFormat::Json, LevelFilter::INFO, "", move || {
        writer.clone()
    });
    let out = work.with_subscriber(sub).await;
    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (out, Printed { text, lines })
}

/// The EMF specification's required shape, and our conventions: namespace
/// `RolloutGuardian`, one dimension set of `Function` plus at most one more.
fn assert_emf(doc: &Value, function: &str, dimensions: &[&str], metrics: &[(&str, &str)]) {
    let aws = &doc["_aws"];
    assert!(aws["Timestamp"].is_i64(), "Timestamp: {doc}");
    let directives = aws["CloudWatchMetrics"].as_array().unwrap();
    assert_eq!(directives.len(), 1, "{doc}");
    let d = &directives[0];
    assert_eq!(d["Namespace"], "RolloutGuardian");
    assert_eq!(d["Dimensions"], json!([dimensions]), "{doc}");
    assert_eq!(doc["Function"], function);
    for name in dimensions {
        assert!(
            doc[*name].is_string(),
            "dimension {name} at the root: {doc}"
        );
    }
    let declared: Vec<(String, String)> = d["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap().to_string(),
                m["Unit"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (name, unit) in metrics {
        assert!(
            declared.contains(&(name.to_string(), unit.to_string())),
            "{name} in {unit} declared: {doc}"
        );
    }
    for (name, _) in &declared {
        let v = &doc[name.as_str()];
        let numeric = v.is_number() || v.as_array().is_some_and(|a| a.iter().all(Value::is_number));
        assert!(numeric, "{name} has a numeric value at the root: {doc}");
    }
}

fn no_ids_as_dimensions(printed: &Printed) {
    for doc in printed.emf() {
        for set in doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
            .as_array()
            .unwrap()
        {
            let set = set.as_array().unwrap();
            assert!(set.len() <= 2 && set[0] == "Function", "{doc}");
        }
    }
}

/// A long body whose tail must never reach the logs.
fn secret_body(marker: &str) -> String {
    format!("{marker}-{}-END-OF-SECRET", "s".repeat(3_000))
}

// ---------------------------------------------------------------- pre-traffic hook

async fn deployment(account: &TestAccount, cfg: &SdkConfig) -> String {
    let cd = aws_sdk_codedeploy::Client::new(cfg);
    cd.create_application()
        .application_name("bot-app")
        .compute_platform(ComputePlatform::Lambda)
        .send()
        .await
        .unwrap();
    cd.create_deployment_group()
        .application_name("bot-app")
        .deployment_group_name("bot-group")
        .service_role_arn(account.arn("iam", "role/codedeploy"))
        .send()
        .await
        .unwrap();
    let appspec = r#"{"version": 0.0, "Resources": [{"bot": {"Type": "AWS::Lambda::Function",
      "Properties": {"Name": "trading-bot", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}]}"#;
    cd.create_deployment()
        .application_name("bot-app")
        .deployment_group_name("bot-group")
        .revision(
            RevisionLocation::builder()
                .revision_type(RevisionLocationType::AppSpecContent)
                .app_spec_content(AppSpecContent::builder().content(appspec).build())
                .build(),
        )
        .send()
        .await
        .unwrap()
        .deployment_id
        .unwrap()
}

/// A failing probe whose answer (a body) is long: the verdict line carries a reason, the
/// answer never appears in full, CodeDeploy records Failed, and HookFailed = 1.
#[tokio::test(flavor = "multi_thread")]
async fn hook_logs_its_verdict_and_emits_hook_metrics() {
    let account = TestAccount::new();
    let cfg = account.sdk_config().await;
    guarded_function(&cfg, BOT, 2).await;
    let (topic, inbox) = topic_with_queue(&cfg, "hook-alerts").await;
    let deployment_id = deployment(&account, &cfg).await;
    let answer = secret_body("HOOK-ANSWER");
    account
        .control
        .queue_invoke_results(
            BOT,
            Some("2"),
            vec![
                json!({"payload": {"status": answer}, "function_error": null, "delay_ms": 0,
                        "executed_version": null, "log": "START\nsmoke\nEND\n"}),
            ],
        )
        .await;
    let plan = r#"{"probes": [{"name": "smoke", "payload": {"smoke_test": true},
      "expect": {"json": [{"pointer": "/status", "equals": "ok"}]}}]}"#;
    let config = pre_traffic_hook::Config::from_env(&Env::from_pairs([
        ("GUARDED_FUNCTIONS", BOT),
        ("ALERT_TOPIC_ARN", topic.as_str()),
        ("SMOKE_PLAN", plan),
        ("REPORT_MARGIN_MS", "1000"),
    ]))
    .unwrap();
    let app = pre_traffic_hook::App::new(&cfg, config);
    let event = LambdaEvent::new(
        json!({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": "exec-1"}),
        lambda_context(Duration::from_secs(30)),
    );

    let (out, printed) = captured(pre_traffic_hook::handler(&app, event)).await;

    assert_eq!(out.unwrap()["status"], "Failed");
    let recorded: Vec<Value> = account.control.hook_statuses().await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["status"], "Failed");
    assert_eq!(
        notifications(&cfg, &inbox).await.len(),
        1,
        "verdict published"
    );

    let d = printed.decision();
    assert_eq!(d["level"], "WARN");
    assert_eq!(d["function"], "pre-traffic-hook");
    assert_eq!(d["request_id"], format!("req-{}", std::process::id()));
    assert_eq!(d["deployment_id"], deployment_id.as_str());
    assert_eq!(d["hook_execution_id"], "exec-1");
    assert_eq!(d["target_function"], BOT);
    assert_eq!(d["target_version"], "2");
    assert_eq!(d["verdict"], "Failed");
    assert!(d["reason"].as_str().unwrap().contains("smoke"), "{d}");
    assert!(d["duration_ms"].is_u64());
    for absent in ["alarm", "severity", "dlq_action", "kill_switch_action"] {
        assert!(d.get(absent).is_none(), "{absent}: {d}");
    }

    let doc = printed.metric("HookFailed");
    assert_emf(
        doc,
        "pre-traffic-hook",
        &["Function", "Phase"],
        &[
            ("HookSucceeded", "Count"),
            ("HookFailed", "Count"),
            ("ProbeLatency", "Milliseconds"),
            ("ColdStart", "Count"),
        ],
    );
    assert_eq!(doc["Phase"], "pre-traffic");
    assert_eq!(doc["HookFailed"], 1.0);
    assert_eq!(doc["HookSucceeded"], 0.0);
    assert_eq!(doc["ProbeLatency"].as_array().unwrap().len(), 1);
    no_ids_as_dimensions(&printed);
    assert!(!printed.text.contains("END-OF-SECRET"), "{}", printed.text);
}

// ---------------------------------------------------------------- alarm fan-out

/// A critical alarm and an unrecognised payload: one decision line per alert, the
/// per-severity documents, and the unparsed payload (a body) never in the logs.
#[tokio::test]
async fn fanout_logs_each_alert_and_counts_by_severity() {
    let account = TestAccount::new();
    let cfg = account.sdk_config().await;
    let (critical, critical_inbox) = topic_with_queue(&cfg, "critical").await;
    let (warning, warning_inbox) = topic_with_queue(&cfg, "warning").await;
    let config = alarm_fanout::Config::from_env(&Env::from_pairs([
        ("CRITICAL_TOPIC_ARN", critical.as_str()),
        ("WARNING_TOPIC_ARN", warning.as_str()),
        (
            "SEVERITY_RULES",
            r#"[{"pattern":"trading-bot-*","severity":"critical"}]"#,
        ),
        ("AWS_REGION", "us-east-1"),
    ]))
    .unwrap();
    let app = alarm_fanout::App::new(&cfg, config);
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(
            e2e::workspace_root().join("events/fanout-sns-classic-metric.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let garbage = secret_body("FANOUT-PAYLOAD");
    let mut event = sample.clone();
    let mut unknown = sample["Records"][0].clone();
    unknown["Sns"]["Message"] = json!(garbage);
    event["Records"].as_array_mut().unwrap().push(unknown);

    let (out, printed) = captured(alarm_fanout::handler(
        &app,
        LambdaEvent::new(event, lambda_context(Duration::from_secs(30))),
    ))
    .await;

    out.unwrap();
    assert_eq!(notifications(&cfg, &critical_inbox).await.len(), 1);
    assert_eq!(notifications(&cfg, &warning_inbox).await.len(), 1);

    let decisions = printed.decisions();
    assert_eq!(decisions.len(), 2, "{}", printed.text);
    let by_alarm = |name: &str| {
        *decisions
            .iter()
            .find(|d| d["alarm"] == name)
            .unwrap_or_else(|| panic!("decision for {name}: {}", printed.text))
    };
    let alarm = by_alarm("trading-bot-errors");
    assert_eq!(alarm["function"], "alarm-fanout");
    assert_eq!(alarm["severity"], "critical");
    assert_eq!(alarm["verdict"], "published");
    assert_eq!(alarm["request_id"], format!("req-{}", std::process::id()));
    assert!(alarm["duration_ms"].is_u64());
    let unparsed = by_alarm("unparsed");
    assert_eq!(unparsed["severity"], "warning");
    assert_eq!(unparsed["verdict"], "published");

    let base = printed.metric("AlertsReceived");
    assert_emf(
        base,
        "alarm-fanout",
        &["Function"],
        &[("AlertsReceived", "Count"), ("ColdStart", "Count")],
    );
    assert_eq!(base["AlertsReceived"], 2.0);
    let per_severity: Vec<&Value> = printed
        .emf()
        .into_iter()
        .filter(|d| d.get("Severity").is_some())
        .collect();
    assert_eq!(per_severity.len(), 2, "{}", printed.text);
    for doc in &per_severity {
        assert_emf(
            doc,
            "alarm-fanout",
            &["Function", "Severity"],
            &[
                ("AlertsPublished", "Count"),
                ("AlertsFailed", "Count"),
                ("AlertsUnparsed", "Count"),
            ],
        );
        assert_eq!(doc["AlertsPublished"], 1.0);
        assert_eq!(doc["AlertsFailed"], 0.0);
        let unparsed = if doc["Severity"] == "warning" {
            1.0
        } else {
            0.0
        };
        assert_eq!(doc["AlertsUnparsed"], unparsed, "{doc}");
    }
    no_ids_as_dimensions(&printed);
    assert!(!printed.text.contains("FANOUT-PAYLOAD"), "{}", printed.text);
}

/// A publish that keeps failing: the alert's decision line says `failed` at WARN and the
/// severity document counts it.
#[tokio::test]
async fn fanout_counts_failed_publications() {
    let account = TestAccount::new();
    let cfg = account.sdk_config().await;
    let (critical, critical_inbox) = topic_with_queue(&cfg, "critical").await;
    let mut config = alarm_fanout::Config::from_env(&Env::from_pairs([
        ("CRITICAL_TOPIC_ARN", critical.as_str()),
        (
            "SEVERITY_RULES",
            r#"[{"pattern":"trading-bot-*","severity":"critical"}]"#,
        ),
    ]))
    .unwrap();
    config.retry.rounds = 2;
    config.retry.initial_backoff = Duration::from_millis(10);
    let app = alarm_fanout::App::new(&cfg, config);
    account
        .control
        .inject_fault("PublishBatch", 100, 500, "InternalError")
        .await;
    let event: Value = serde_json::from_str(
        &std::fs::read_to_string(
            e2e::workspace_root().join("events/fanout-sns-classic-metric.json"),
        )
        .unwrap(),
    )
    .unwrap();

    let (out, printed) = captured(alarm_fanout::handler(
        &app,
        LambdaEvent::new(event, lambda_context(Duration::from_secs(30))),
    ))
    .await;

    assert!(out.is_err(), "the invocation fails so Lambda retries it");
    assert!(notifications(&cfg, &critical_inbox).await.is_empty());
    let d = printed.decision();
    assert_eq!(d["level"], "WARN");
    assert_eq!(d["alarm"], "trading-bot-errors");
    assert_eq!(d["verdict"], "failed");
    assert!(
        d["reason"].as_str().unwrap().contains("InternalError"),
        "{d}"
    );
    let doc = printed.metric("AlertsFailed");
    assert_eq!(doc["Severity"], "critical");
    assert_eq!(doc["AlertsFailed"], 1.0);
    assert_eq!(doc["AlertsPublished"], 0.0);
}

// ---------------------------------------------------------------- DLQ inspector

async fn dlq_world(extra: &[(&str, &str)]) -> (TestAccount, SdkConfig, String, dlq_inspector::App) {
    let account = TestAccount::new();
    let cfg = account.sdk_config().await;
    guarded_function(&cfg, BOT, 1).await;
    let dlq = queue(&cfg, "bot-dlq").await;
    let (topic, _inbox) = topic_with_queue(&cfg, "dlq-alerts").await;
    let mut vars = vec![
        ("DLQ_URL", dlq.as_str()),
        ("GUARDED_FUNCTIONS", BOT),
        ("ALERT_TOPIC_ARN", topic.as_str()),
    ];
    vars.extend_from_slice(extra);
    let config = dlq_inspector::Config::from_env(&Env::from_pairs(vars)).unwrap();
    let app = dlq_inspector::App::new(&cfg, config);
    (account, cfg, dlq, app)
}

async fn fill(cfg: &SdkConfig, dlq: &str, bodies: &[String]) {
    let mut batch = aws_sdk_sqs::Client::new(cfg)
        .send_message_batch()
        .queue_url(dlq);
    for (i, body) in bodies.iter().enumerate() {
        batch = batch.entries(
            SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(body)
                .build()
                .unwrap(),
        );
    }
    batch.send().await.unwrap();
}

/// Inspect: nothing consumed, depth reported as `DlqDepth`, no body (nor the configured
/// sensitive key's value) in the logs.
#[tokio::test]
async fn dlq_inspect_logs_the_run_and_emits_depth() {
    let (_account, cfg, dlq, app) = dlq_world(&[]).await;
    let bodies: Vec<String> = (0..3)
        .map(|i| {
            json!({"order": i, "password": "hunter2-SENSITIVE", "note": secret_body("DLQ-BODY")})
                .to_string()
        })
        .collect();
    fill(&cfg, &dlq, &bodies).await;

    let (out, printed) = captured(dlq_inspector::handler(
        &app,
        LambdaEvent::new(
            json!({"action": "inspect"}),
            lambda_context(Duration::from_secs(30)),
        ),
    ))
    .await;

    assert_eq!(out.unwrap()["examined"], 3);
    assert_eq!(
        visible_messages(&cfg, &dlq).await,
        3,
        "inspect consumes nothing"
    );
    let d = printed.decision();
    assert_eq!(d["function"], "dlq-inspector");
    assert_eq!(d["dlq_action"], "inspect");
    assert_eq!(d["verdict"], "complete");
    assert_eq!(d["level"], "INFO");
    assert!(d["duration_ms"].is_u64());
    let doc = printed.metric("DlqDepth");
    assert_emf(
        doc,
        "dlq-inspector",
        &["Function"],
        &[
            ("DlqDepth", "Count"),
            ("DlqOldestMessageAge", "Seconds"),
            ("ColdStart", "Count"),
        ],
    );
    assert_eq!(doc["DlqDepth"], 3.0);
    assert!(
        printed.emf().iter().all(|d| d.get("Action").is_none()),
        "inspect acts on nothing: {}",
        printed.text
    );
    assert!(!printed.text.contains("END-OF-SECRET"), "{}", printed.text);
    assert!(!printed.text.contains("hunter2"), "{}", printed.text);
}

/// Redrive with a stale message: `DlqRedriven` and `DlqSkippedStale` under `Action=redrive`.
#[tokio::test]
async fn dlq_redrive_counts_redriven_and_stale() {
    let (account, cfg, dlq, app) = dlq_world(&[]).await;
    fill(&cfg, &dlq, &[json!({"order": 1}).to_string()]).await;
    // A message older than max_age_seconds: sent, then aged by waiting past a 1 s limit.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    fill(&cfg, &dlq, &[json!({"order": 2}).to_string()]).await;

    let (out, printed) = captured(dlq_inspector::handler(
        &app,
        LambdaEvent::new(
            json!({"action": "redrive", "max_age_seconds": 1}),
            lambda_context(Duration::from_secs(30)),
        ),
    ))
    .await;

    let out = out.unwrap();
    assert_eq!(out["outcome"]["redriven"], 1, "{out:#}");
    assert_eq!(out["outcome"]["stale"], 1, "{out:#}");
    let invoked = account.control.invocations(BOT).await;
    assert_eq!(invoked.len(), 1);
    assert_eq!(invoked[0]["payload"]["order"], 2);
    assert_eq!(visible_messages(&cfg, &dlq).await, 1, "the stale one stays");

    let d = printed.decision();
    assert_eq!(d["dlq_action"], "redrive");
    assert_eq!(d["verdict"], "complete");
    let doc = printed.metric("DlqRedriven");
    assert_emf(
        doc,
        "dlq-inspector",
        &["Function", "Action"],
        &[
            ("DlqRedriven", "Count"),
            ("DlqSkippedStale", "Count"),
            ("DlqDuplicates", "Count"),
        ],
    );
    assert_eq!(doc["Action"], "redrive");
    assert_eq!(doc["DlqRedriven"], 1.0);
    assert_eq!(doc["DlqSkippedStale"], 1.0);
    assert_eq!(doc["DlqDuplicates"], 0.0);
    assert_eq!(printed.metric("DlqDepth")["DlqDepth"], 2.0);
}

// ---------------------------------------------------------------- kill switch

async fn kill_switch_app(cfg: &SdkConfig) -> kill_switch::App {
    guarded_function(cfg, BOT, 1).await;
    let (topic, _alerts) = topic_with_queue(cfg, "critical").await;
    let config = kill_switch::Config::from_env(&Env::from_pairs([
        ("GUARDED_FUNCTIONS", BOT),
        ("ALERT_TOPIC_ARN", topic.as_str()),
    ]))
    .unwrap();
    kill_switch::App::new(cfg, config)
}

async fn kill(app: &kill_switch::App, payload: Value) -> (Value, Printed) {
    let (out, printed) = captured(kill_switch::handler(
        app,
        LambdaEvent::new(payload, lambda_context(Duration::from_secs(30))),
    ))
    .await;
    (out.unwrap(), printed)
}

/// Stop then resume: the decision names action, target and state; `KillSwitchStopped` is
/// 1 after the stop and 0 after the resume, matching the function's concurrency.
#[tokio::test]
async fn kill_switch_logs_actions_and_emits_its_state() {
    let account = TestAccount::new();
    let cfg = account.sdk_config().await;
    let app = kill_switch_app(&cfg).await;
    let concurrency = || async {
        aws_sdk_lambda::Client::new(&cfg)
            .get_function_concurrency()
            .function_name(BOT)
            .send()
            .await
            .unwrap()
            .reserved_concurrent_executions
    };

    let (_, printed) = kill(
        &app,
        json!({"action": "stop", "reason": "bad fills", "requested_by": "alice"}),
    )
    .await;
    assert_eq!(concurrency().await, Some(0));
    let d = printed.decision();
    assert_eq!(d["function"], "kill-switch");
    assert_eq!(d["kill_switch_action"], "stop");
    assert_eq!(d["target_function"], BOT);
    assert_eq!(d["verdict"], "stopped");
    assert_eq!(d["reason"], "bad fills");
    assert_eq!(d["level"], "WARN");
    assert!(d["duration_ms"].is_u64());
    let doc = printed.metric("KillSwitchStopped");
    assert_emf(
        doc,
        "kill-switch",
        &["Function"],
        &[("KillSwitchStopped", "Count"), ("ColdStart", "Count")],
    );
    assert_eq!(doc["KillSwitchStopped"], 1.0);

    let (_, printed) = kill(&app, json!({"action": "status"})).await;
    assert_eq!(printed.decision()["verdict"], "stopped");
    assert_eq!(printed.decision()["level"], "INFO");
    assert_eq!(
        printed.metric("KillSwitchStopped")["KillSwitchStopped"],
        1.0
    );

    let (_, printed) = kill(
        &app,
        json!({"action": "resume", "reason": "fixed", "requested_by": "bob"}),
    )
    .await;
    assert_eq!(concurrency().await, None, "restored to unreserved");
    assert_eq!(printed.decision()["verdict"], "running");
    assert_eq!(printed.decision()["kill_switch_action"], "resume");
    assert_eq!(
        printed.metric("KillSwitchStopped")["KillSwitchStopped"],
        0.0
    );
}

/// A rejected request: a decision line saying so, no state metric (nothing was read).
#[tokio::test]
async fn kill_switch_logs_a_rejected_request() {
    let account = TestAccount::new();
    let cfg = account.sdk_config().await;
    let app = kill_switch_app(&cfg).await;
    let (out, printed) = captured(kill_switch::handler(
        &app,
        LambdaEvent::new(
            json!({"action": "explode", "reason": "x", "requested_by": "mallory"}),
            lambda_context(Duration::from_secs(30)),
        ),
    ))
    .await;
    assert!(out.is_err());
    let d = printed.decision();
    assert_eq!(d["verdict"], "rejected");
    assert!(d["reason"].as_str().unwrap().contains("explode"), "{d}");
    assert!(
        printed
            .emf()
            .iter()
            .all(|d| d.get("KillSwitchStopped").is_none())
    );
    assert_emf(
        printed.metric("ColdStart"),
        "kill-switch",
        &["Function"],
        &[("ColdStart", "Count")],
    );
}
