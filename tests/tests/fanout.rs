//! Alarm fan-out against the emulator: the real handler and SDK over real HTTP. Every test
//! reads what reached the SQS queues subscribed to the severity and chat topics (the SNS
//! envelope: subject, attributes, the `sqs` rendering) or what the kill switch received.

use std::collections::{BTreeMap, HashSet};

use alarm_fanout::Config;
use e2e::handlers::FanoutWorld;
use e2e::{guarded_function, sample_event as sample};
use guardian::config::Env;
use guardian_aws::error::ErrorType;
use serde_json::{Value, json};

const KILL_SWITCH: &str = "kill-switch";

fn attribute(envelope: &Value, name: &str) -> String {
    envelope["MessageAttributes"][name]["Value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The normalised alert an SQS subscriber received (the `sqs` rendering).
fn alert_of(envelope: &Value) -> Value {
    serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap()
}

/// An SNS event with one classic alarm record per `(name, new state, old state)`.
fn sns_event(alarms: &[(String, &str, &str)]) -> Value {
    let records: Vec<Value> = alarms
        .iter()
        .enumerate()
        .map(|(i, (name, state, old))| {
            let message = json!({
                "AlarmName": name, "AlarmDescription": null, "AWSAccountId": "123456789012",
                "NewStateValue": state, "OldStateValue": old,
                "NewStateReason": format!("Threshold Crossed: datapoint {i} was greater than the threshold (1.0)."),
                "StateChangeTime": format!("2026-03-01T03:04:{:02}.{:03}+0000", i / 1000 % 60, i % 1000),
                "Region": "US East (N. Virginia)",
                "AlarmArn": format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"),
                "Trigger": {"MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "SUM",
                            "Period": 60, "EvaluationPeriods": 1,
                            "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1.0}
            });
            json!({"EventSource": "aws:sns", "EventVersion": "1.0",
                   "Sns": {"Type": "Notification", "MessageId": format!("m-{i}"),
                           "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
                           "Subject": "ALARM", "Message": message.to_string(),
                           "Timestamp": "2026-03-01T03:04:05.000Z"}})
        })
        .collect();
    json!({ "Records": records })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_reaches_the_expected_topic_with_attributes_and_bodies() {
    let world = FanoutWorld::new().await;
    let app = world.app(&[]);
    // (sample, topic, alarm attribute, state, source, subject)
    let expected = [
        (
            "fanout-sns-classic-metric.json",
            "critical",
            "trading-bot-errors",
            "ALARM",
            "cloudwatch",
            "[CRITICAL] ALARM: trading-bot-errors",
        ),
        (
            "fanout-sns-classic-metric-math.json",
            "info",
            "api-latency-p99",
            "ALARM",
            "cloudwatch",
            "[INFO] ALARM: api-latency-p99",
        ),
        (
            "fanout-action-metric.json",
            "warning",
            "lambda-demo-metric-alarm",
            "ALARM",
            "cloudwatch",
            "[WARNING] ALARM: lambda-demo-metric-alarm",
        ),
        (
            "fanout-action-metric-bad-reasondata.json",
            "warning",
            "dlq-arrivals",
            "ALARM",
            "cloudwatch",
            "[WARNING] ALARM: dlq-arrivals",
        ),
        (
            "fanout-action-composite.json",
            "critical",
            "trading-bot-health",
            "ALARM",
            "cloudwatch",
            "[CRITICAL] ALARM: trading-bot-health",
        ),
        (
            "fanout-action-composite-suppressor.json",
            "warning",
            "CompositeDemo.Main",
            "ALARM",
            "cloudwatch",
            "[WARNING] ALARM: CompositeDemo.Main",
        ),
        (
            "fanout-eventbridge-alarm.json",
            "warning",
            "ServerCpuTooHigh",
            "ALARM",
            "cloudwatch",
            "[WARNING] ALARM: ServerCpuTooHigh",
        ),
        (
            "fanout-eventbridge-codedeploy-failure.json",
            "critical",
            "codedeploy:trading-bot/trading-bot-live",
            "FAILURE",
            "codedeploy",
            "[CRITICAL] Deployment d-ABCDEF123 FAILURE: trading-bot-live",
        ),
        (
            "fanout-eventbridge-codedeploy-success.json",
            "info",
            "codedeploy:trading-bot/trading-bot-live",
            "SUCCESS",
            "codedeploy",
            "[INFO] Deployment d-ABCDEF124 SUCCESS: trading-bot-live",
        ),
        (
            "fanout-sns-codedeploy-trigger.json",
            "critical",
            "codedeploy:trading-bot/trading-bot-live",
            "FAILURE",
            "codedeploy",
            "[CRITICAL] Deployment d-75I7MBT7C FAILURE: trading-bot-live",
        ),
        (
            "fanout-sns-plain-text.json",
            "warning",
            "unparsed",
            "UNKNOWN",
            "unparsed",
            "[WARNING] Exchange API degraded: order latency above 2 s",
        ),
        (
            "fanout-garbage.json",
            "warning",
            "unparsed",
            "UNKNOWN",
            "unparsed",
            "[WARNING] Unrecognised alert payload",
        ),
    ];
    for (file, topic, alarm, state, source, subject) in expected {
        let out = world.run(&app, sample(file)).await.unwrap();
        assert_eq!(out["published"], 2, "{file}: severity topic and chat");
        let delivered = world.delivered().await;
        for (name, got) in &delivered {
            let want = usize::from(*name == topic || *name == "chat");
            assert_eq!(got.len(), want, "{file}: messages on {name}");
        }
        let n = &delivered[topic][0];
        assert_eq!(n["Subject"], subject, "{file}");
        let severity = topic;
        assert_eq!(attribute(n, "severity"), severity, "{file}");
        assert_eq!(attribute(n, "alarm"), alarm, "{file}");
        assert_eq!(attribute(n, "state"), state, "{file}");
        assert_eq!(attribute(n, "source"), source, "{file}");
        let alert = alert_of(n);
        assert_eq!(alert["name"], alarm, "{file}");
        assert_eq!(alert["severity"], severity, "{file}");
        assert_eq!(alert["source"], source, "{file}");
        if source != "unparsed" {
            assert!(
                alert["console_link"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://"),
                "{file}: {alert}"
            );
        }
        let chat: Value =
            serde_json::from_str(delivered["chat"][0]["Message"].as_str().unwrap()).unwrap();
        assert_eq!(chat["source"], "custom", "{file}");
        assert_eq!(chat["content"]["title"], subject, "{file}");
        assert_eq!(
            attribute(&delivered["chat"][0], "severity"),
            severity,
            "{file}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_details_survive_to_the_subscriber() {
    let world = FanoutWorld::new().await;
    let app = world.app(&[]);
    world
        .run(&app, sample("fanout-sns-classic-metric-math.json"))
        .await
        .unwrap();
    world
        .run(&app, sample("fanout-action-composite.json"))
        .await
        .unwrap();
    world
        .run(&app, sample("fanout-action-composite-suppressor.json"))
        .await
        .unwrap();
    let delivered = world.delivered().await;
    let math = alert_of(&delivered["info"][0]);
    assert!(
        math.get("description").is_none(),
        "AlarmDescription null is left out"
    );
    assert!(
        math["trigger"]
            .as_str()
            .unwrap()
            .starts_with("metric math: e1 = m1*1")
    );
    let composite = alert_of(&delivered["critical"][0]);
    assert_eq!(
        composite["triggering_alarms"],
        json!(["trading-bot-errors", "trading-bot-throttles"])
    );
    let suppressed = alert_of(&delivered["warning"][0]);
    assert_eq!(suppressed["actions_suppressed_by"], "WaitPeriod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subjects_aws_would_reject_never_reach_sns() {
    let world = FanoutWorld::new().await;
    let app = world.app(&[]);
    let nasty = format!("trading-bot-Zürich\nlatency\t\u{7}{}", "x".repeat(150));
    world
        .run(&app, sns_event(&[(nasty.clone(), "ALARM", "OK")]))
        .await
        .unwrap();
    let delivered = world.delivered().await;
    let n = &delivered["critical"][0];
    let subject = n["Subject"].as_str().unwrap();
    assert!(subject.is_ascii() && subject.len() < 100, "{subject}");
    assert!(!subject.chars().any(|c| c.is_control()), "{subject}");
    assert!(
        subject.starts_with("[CRITICAL] ALARM: trading-bot-Z?rich latency"),
        "{subject}"
    );
    // The alarm itself keeps its real name for the reader and for filter policies.
    assert_eq!(alert_of(n)["name"], nasty);
    assert_eq!(delivered["chat"].len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_delivered_unparsed_with_the_raw_body() {
    let world = FanoutWorld::new().await;
    let app = world.app(&[]);
    let garbage = sample("fanout-garbage.json");
    world.run(&app, garbage.clone()).await.unwrap();
    let huge = format!("{}<end>", "binary-ish \u{1} \"junk\" é ".repeat(40_000)); // ~1 MB
    world.run(&app, Value::String(huge.clone())).await.unwrap();
    let warning = world.delivered().await.remove("warning").unwrap();
    assert_eq!(warning.len(), 2);
    let small = alert_of(&warning[0]);
    assert_eq!(small["source"], "unparsed");
    let raw: Value = serde_json::from_str(small["raw"].as_str().unwrap()).unwrap();
    assert_eq!(raw, garbage, "small payloads arrive intact");
    let big = alert_of(&warning[1]);
    let kept = big["raw"].as_str().unwrap();
    let marker = kept
        .find("\n[truncated by rollout-guardian: kept ")
        .expect("an explicit truncation marker");
    assert!(
        huge.starts_with(&kept[..marker]),
        "the head of the payload is kept as is"
    );
    assert!(marker > 10_000 && !kept.contains("<end>"));
    assert!(warning[1]["Message"].as_str().unwrap().len() < 256 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ok_is_forwarded_only_after_alarm_unless_configured() {
    let world = FanoutWorld::new().await;
    let flaps = sns_event(&[
        ("misc-flappy".into(), "OK", "INSUFFICIENT_DATA"),
        ("misc-recovered".into(), "OK", "ALARM"),
        ("misc-no-data".into(), "INSUFFICIENT_DATA", "OK"),
    ]);
    let out = world.run(&world.app(&[]), flaps.clone()).await.unwrap();
    assert_eq!(out["held_back"], 1);
    let names: Vec<String> = world.delivered().await["warning"]
        .iter()
        .map(|n| attribute(n, "alarm"))
        .collect();
    assert_eq!(names, vec!["misc-recovered", "misc-no-data"]);

    world
        .run(&world.app(&[("FORWARD_OK", "always")]), flaps.clone())
        .await
        .unwrap();
    assert_eq!(world.delivered().await["warning"].len(), 3);
    world
        .run(&world.app(&[("FORWARD_OK", "never")]), flaps)
        .await
        .unwrap();
    let names: Vec<String> = world.delivered().await["warning"]
        .iter()
        .map(|n| attribute(n, "alarm"))
        .collect();
    assert_eq!(names, vec!["misc-no-data"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_halt_invokes_the_kill_switch_once_per_alarm_transition() {
    let world = FanoutWorld::new().await;
    guarded_function(&world.cfg, KILL_SWITCH, 0).await;
    let app = world.app(&[
        ("HALT_ON_ALARMS", "trading-bot-errors, dlq-*"),
        ("KILL_SWITCH_FUNCTION", KILL_SWITCH),
    ]);
    let errors = |state: &'static str, old: &'static str| {
        sns_event(&[("trading-bot-errors".into(), state, old)])
    };

    world.run(&app, errors("ALARM", "OK")).await.unwrap();
    let calls = world.acct.control.invocations(KILL_SWITCH).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["invocation_type"], "Event");
    assert_eq!(calls[0]["payload"]["action"], "stop");
    assert_eq!(calls[0]["payload"]["requested_by"], "alarm-fanout");
    let reason = calls[0]["payload"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("auto-halt: alarm trading-bot-errors entered ALARM: Threshold Crossed"),
        "{reason}"
    );
    let alert = alert_of(&world.delivered().await["critical"][0]);
    assert!(
        alert["actions_taken"][0]
            .as_str()
            .unwrap()
            .starts_with("auto-halt: kill switch")
    );

    // Still in ALARM, an unlisted alarm, and the recovery: no new stop.
    world.run(&app, errors("ALARM", "ALARM")).await.unwrap();
    world
        .run(
            &app,
            sns_event(&[("trading-bot-latency".into(), "ALARM", "OK")]),
        )
        .await
        .unwrap();
    world.run(&app, errors("OK", "ALARM")).await.unwrap();
    assert_eq!(world.acct.control.invocations(KILL_SWITCH).await.len(), 1);

    // A new transition into ALARM stops again; so does a listed alarm matched by glob.
    world.run(&app, errors("ALARM", "OK")).await.unwrap();
    world
        .run(&app, sample("fanout-action-metric-bad-reasondata.json"))
        .await
        .unwrap();
    let calls = world.acct.control.invocations(KILL_SWITCH).await;
    assert_eq!(calls.len(), 3);
    assert!(
        calls[2]["payload"]["reason"]
            .as_str()
            .unwrap()
            .contains("alarm dlq-arrivals entered ALARM")
    );
    assert_eq!(
        world.delivered().await["critical"].len(),
        4,
        "every alert still went out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_halt_fails_the_invocation_after_publishing() {
    let world = FanoutWorld::new().await;
    // No kill-switch function exists: Invoke answers 404.
    let app = world.app(&[
        ("HALT_ON_ALARMS", "trading-bot-*"),
        ("KILL_SWITCH_FUNCTION", KILL_SWITCH),
    ]);
    let err = world
        .run(
            &app,
            sns_event(&[("trading-bot-errors".into(), "ALARM", "OK")]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "AlarmFanout.HaltFailed");
    let delivered = world.delivered().await;
    let alert = alert_of(&delivered["critical"][0]);
    assert!(
        alert["actions_taken"][0]
            .as_str()
            .unwrap()
            .starts_with("auto-halt FAILED"),
        "{alert}"
    );
}

fn storm(n: usize) -> (Value, BTreeMap<&'static str, usize>) {
    let mut per_topic = BTreeMap::new();
    let alarms: Vec<(String, &str, &str)> = (0..n)
        .map(|i| {
            let (topic, name) = match i % 3 {
                0 => ("critical", format!("trading-bot-{i}")),
                1 => ("info", format!("api-latency-{i}")),
                _ => ("warning", format!("misc-{i}")),
            };
            *per_topic.entry(topic).or_insert(0) += 1;
            (name, "ALARM", "OK")
        })
        .collect();
    (sns_event(&alarms), per_topic)
}

async fn delivered_names(world: &FanoutWorld) -> (BTreeMap<&'static str, usize>, HashSet<String>) {
    let mut counts = BTreeMap::new();
    let mut names = HashSet::new();
    for (topic, got) in world.delivered().await {
        counts.insert(topic, got.len());
        names.extend(got.iter().map(|n| attribute(n, "alarm")));
    }
    (counts, names)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_without_failures_uses_the_fewest_batches() {
    let world = FanoutWorld::new().await;
    let app = world.app(&[("CHAT_TOPIC_ARN", "")]);
    let (event, per_topic) = storm(1000);
    let out = world.run(&app, event).await.unwrap();
    assert_eq!(out["published"], 1000);
    let calls = world.acct.control.call_counts().await;
    let ceiling: usize = per_topic.values().map(|n| n.div_ceil(10)).sum();
    assert!(
        calls["PublishBatch"] as usize <= ceiling,
        "{} PublishBatch calls for {per_topic:?}",
        calls["PublishBatch"]
    );
    assert_eq!(calls.get("Publish"), None);
    let (counts, names) = delivered_names(&world).await;
    for (topic, n) in &per_topic {
        assert_eq!(counts[topic], *n, "{topic}");
    }
    assert_eq!(names.len(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_with_injected_failures_still_delivers_every_alert() {
    let world = FanoutWorld::new().await;
    let app = world.app(&[("CHAT_TOPIC_ARN", "")]);
    let (event, per_topic) = storm(1000);
    let nominal: usize = per_topic.values().map(|n| n.div_ceil(10)).sum();
    // 20% of the calls a clean run needs fail; in a row, so they outlast the SDK's own
    // retries and the handler's retry rounds have to pick the batches up again.
    let faults = (nominal / 5) as u32;
    world
        .acct
        .control
        .inject_fault("PublishBatch", faults, 500, "InternalFailure")
        .await;
    world
        .acct
        .control
        .inject_fault("Publish", faults, 500, "InternalFailure")
        .await;
    let out = world.run(&app, event).await.unwrap();
    assert_eq!(out["published"], 1000);
    let calls = world.acct.control.call_counts().await;
    assert!(
        calls["PublishBatch"] as usize >= nominal + faults as usize,
        "{calls:?}"
    );
    let (counts, names) = delivered_names(&world).await;
    assert_eq!(names.len(), 1000, "every alert arrived at least once");
    for (topic, n) in &per_topic {
        assert!(counts[topic] >= *n, "{topic}: {} of {n}", counts[topic]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_that_keeps_failing_fails_the_invocation_without_duplicating_the_rest() {
    let world = FanoutWorld::new().await;
    let missing = world.acct.arn("sns", "deleted-warning-topic");
    let app = world.app(&[("WARNING_TOPIC_ARN", missing.as_str())]);
    let mut alarms: Vec<(String, &str, &str)> = (0..25)
        .map(|i| (format!("trading-bot-{i}"), "ALARM", "OK"))
        .collect();
    alarms.push(("misc-disk".into(), "ALARM", "OK"));
    let err = world.run(&app, sns_event(&alarms)).await.unwrap_err();
    assert_eq!(err.error_type(), "AlarmFanout.PublishFailed");
    assert!(err.to_string().contains("1 of 52"), "{err}");
    let delivered = world.delivered().await;
    assert_eq!(
        delivered["critical"].len(),
        25,
        "published once each, not once per retry round"
    );
    assert_eq!(delivered["chat"].len(), 26);
    assert_eq!(delivered["warning"].len(), 0);
}

#[test]
fn config_errors_name_the_variable_and_the_fix() {
    let err = Config::from_env(&Env::from_pairs([("WARNING_TOPIC_ARN", "x")])).unwrap_err();
    assert!(err.to_string().contains("CRITICAL_TOPIC_ARN"), "{err}");
    let err = Config::from_env(&Env::from_pairs([
        ("CRITICAL_TOPIC_ARN", "arn:c"),
        ("HALT_ON_ALARMS", "trading-*"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("KILL_SWITCH_FUNCTION"), "{err}");
    let err = Config::from_env(&Env::from_pairs([
        ("CRITICAL_TOPIC_ARN", "arn:c"),
        ("SEVERITY_RULES", r#"[{"pattern":"x","severity":"urgent"}]"#),
    ]))
    .unwrap_err();
    assert!(
        err.to_string().contains("SEVERITY_RULES") && err.to_string().contains("urgent"),
        "{err}"
    );
    let err = Config::from_env(&Env::from_pairs([
        ("CRITICAL_TOPIC_ARN", "arn:c"),
        ("FORWARD_OK", "sometimes"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("FORWARD_OK"), "{err}");
    let ok = Config::from_env(&Env::from_pairs([
        ("CRITICAL_TOPIC_ARN", "arn:c"),
        ("WARNING_TOPIC_ARN", "arn:w"),
    ]))
    .unwrap();
    assert_eq!(ok.topics.info, "arn:w");
    assert_eq!(ok.topics.warning, "arn:w");
}
