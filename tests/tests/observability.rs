//! Issue #11: what each function prints, captured while its real handler runs against the
//! emulator. The capture uses the production subscriber (`guardian_aws::telemetry::subscriber`,
//! JSON format) writing to a buffer, so these are the lines CloudWatch Logs would receive:
//! the decision line's fields, the EMF documents' shape, and no message body in full.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use e2e::handlers::{BOT, DlqWorld, EXECUTION, FanoutWorld, HookWorld, KillSwitchWorld};
use e2e::{notifications, sample_event, visible_messages};
use guardian_aws::telemetry::{LogFormat, subscriber};
use lambda_runtime::tracing::instrument::WithSubscriber;
use lambda_runtime::tracing::subscriber::filter::LevelFilter;
use serde_json::{Value, json};

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

/// A failing probe whose answer (a body) is long: the verdict line carries a reason, the
/// answer never appears in full, CodeDeploy records Failed, and HookFailed = 1.
#[tokio::test(flavor = "multi_thread")]
async fn hook_logs_its_verdict_and_emits_hook_metrics() {
    let hook = HookWorld::new().await;
    let answer = secret_body("HOOK-ANSWER");
    hook.queue(vec![
        json!({"payload": {"status": answer}, "function_error": null, "delay_ms": 0,
                "executed_version": null, "log": "START\nsmoke\nEND\n"}),
    ])
    .await;
    let plan = r#"{"probes": [{"name": "smoke", "payload": {"smoke_test": true},
      "expect": {"json": [{"pointer": "/status", "equals": "ok"}]}}]}"#;
    let app = hook.app(&[("SMOKE_PLAN", plan)]);

    let (out, printed) = captured(hook.run(&app)).await;

    assert_eq!(out.unwrap()["status"], "Failed");
    assert_eq!(hook.recorded().await, ["Failed"]);
    assert_eq!(
        notifications(&hook.cfg, &hook.inbox).await.len(),
        1,
        "verdict published"
    );

    let d = printed.decision();
    assert_eq!(d["level"], "WARN");
    assert_eq!(d["function"], "pre-traffic-hook");
    assert_eq!(d["request_id"], format!("req-{}", std::process::id()));
    assert_eq!(d["deployment_id"], hook.deployment_id.as_str());
    assert_eq!(d["hook_execution_id"], EXECUTION);
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
    let world = FanoutWorld::with_topics(&["critical", "warning"]).await;
    let app = world.app(&[(
        "SEVERITY_RULES",
        r#"[{"pattern":"trading-bot-*","severity":"critical"}]"#,
    )]);
    let sample = sample_event("fanout-sns-classic-metric.json");
    let garbage = secret_body("FANOUT-PAYLOAD");
    let mut event = sample.clone();
    let mut unknown = sample["Records"][0].clone();
    unknown["Sns"]["Message"] = json!(garbage);
    event["Records"].as_array_mut().unwrap().push(unknown);

    let (out, printed) = captured(world.run(&app, event)).await;

    out.unwrap();
    let delivered = world.delivered().await;
    assert_eq!(delivered["critical"].len(), 1);
    assert_eq!(delivered["warning"].len(), 1);

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
    let world = FanoutWorld::with_topics(&["critical"]).await;
    let mut config = world.config(&[(
        "SEVERITY_RULES",
        r#"[{"pattern":"trading-bot-*","severity":"critical"}]"#,
    )]);
    config.retry.rounds = 2;
    config.retry.initial_backoff = Duration::from_millis(10);
    let app = alarm_fanout::App::new(&world.cfg, config);
    world
        .acct
        .control
        .inject_fault("PublishBatch", 100, 500, "InternalError")
        .await;
    let event = sample_event("fanout-sns-classic-metric.json");

    let (out, printed) = captured(world.run(&app, event)).await;

    assert!(out.is_err(), "the invocation fails so Lambda retries it");
    assert!(world.delivered().await["critical"].is_empty());
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

/// Inspect: nothing consumed, depth reported as `DlqDepth`, no body (nor the configured
/// sensitive key's value) in the logs.
#[tokio::test]
async fn dlq_inspect_logs_the_run_and_emits_depth() {
    let world = DlqWorld::new(&[]).await;
    world
        .fill(3, |i| {
            let body = json!({"order": i, "password": "hunter2-SENSITIVE", "note": secret_body("DLQ-BODY")});
            (body, Some("200"), "Task timed out")
        })
        .await;

    let (out, printed) =
        captured(world.call(json!({"action": "inspect"}), Duration::from_secs(30))).await;

    assert_eq!(out.unwrap()["examined"], 3);
    assert_eq!(
        visible_messages(&world.cfg, &world.dlq).await,
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
    let world = DlqWorld::new(&[]).await;
    let order = |n: u64| move |_| (json!({ "order": n }), Some("200"), "Task timed out");
    world.fill(1, order(1)).await;
    // A message older than max_age_seconds: sent, then aged by waiting past a 1 s limit.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    world.fill(1, order(2)).await;

    let (out, printed) = captured(world.call(
        json!({"action": "redrive", "max_age_seconds": 1}),
        Duration::from_secs(30),
    ))
    .await;

    let out = out.unwrap();
    assert_eq!(out["outcome"]["redriven"], 1, "{out:#}");
    assert_eq!(out["outcome"]["stale"], 1, "{out:#}");
    let invoked = world.acct.control.invocations(BOT).await;
    assert_eq!(invoked.len(), 1);
    assert_eq!(invoked[0]["payload"]["order"], 2);
    assert_eq!(
        visible_messages(&world.cfg, &world.dlq).await,
        1,
        "the stale one stays"
    );

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

async fn kill(world: &KillSwitchWorld, payload: Value) -> (Value, Printed) {
    let (out, printed) = captured(world.invoke(payload)).await;
    (out.unwrap(), printed)
}

/// Stop then resume: the decision names action, target and state; `KillSwitchStopped` is
/// 1 after the stop and 0 after the resume, matching the function's concurrency.
#[tokio::test]
async fn kill_switch_logs_actions_and_emits_its_state() {
    let world = KillSwitchWorld::new(None, &[]).await;
    let concurrency = || async { world.held().await.0 };

    let (_, printed) = kill(
        &world,
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

    let (_, printed) = kill(&world, json!({"action": "status"})).await;
    assert_eq!(printed.decision()["verdict"], "stopped");
    assert_eq!(printed.decision()["level"], "INFO");
    assert_eq!(
        printed.metric("KillSwitchStopped")["KillSwitchStopped"],
        1.0
    );

    let (_, printed) = kill(
        &world,
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
    let world = KillSwitchWorld::new(None, &[]).await;
    let (out, printed) = captured(
        world.invoke(json!({"action": "explode", "reason": "x", "requested_by": "mallory"})),
    )
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
