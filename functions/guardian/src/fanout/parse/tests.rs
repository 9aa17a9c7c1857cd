use super::*;

fn sample(name: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn one(name: &str) -> Alert {
    let mut alerts = normalise(&sample(name));
    assert_eq!(alerts.len(), 1, "{name}");
    alerts.remove(0)
}

#[test]
fn sns_classic_single_metric_with_null_description() {
    let a = one("fanout-sns-classic-metric.json");
    assert_eq!(a.source, Source::Cloudwatch);
    assert_eq!(a.name, "trading-bot-errors");
    assert_eq!(
        (a.state.as_str(), a.previous_state.as_deref()),
        ("ALARM", Some("OK"))
    );
    assert_eq!(a.description, None);
    assert!(a.reason.starts_with("Threshold Crossed"));
    assert_eq!(
        a.trigger.as_deref(),
        Some(
            "AWS/Lambda Errors [Resource=trading-bot:live, FunctionName=trading-bot] SUM GreaterThanThreshold 1.0"
        )
    );
    assert_eq!(
        a.arn.as_deref(),
        Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:trading-bot-errors")
    );
}

#[test]
fn sns_classic_metric_math() {
    let a = one("fanout-sns-classic-metric-math.json");
    assert_eq!(a.name, "api-latency-p99");
    assert_eq!(a.previous_state.as_deref(), Some("INSUFFICIENT_DATA"));
    let trigger = a.trigger.unwrap();
    assert!(
        trigger.starts_with(
            "metric math: e1 = m1*1; m1 = AWS/EC2 NetworkOut [InstanceId=TestInstance] Average"
        ),
        "{trigger}"
    );
}

#[test]
fn a_batch_of_sns_records_yields_one_alert_each() {
    let mut event = sample("fanout-sns-classic-metric.json");
    let record = event["Records"][0].clone();
    let mut garbage = record.clone();
    garbage["Sns"]["Message"] = Value::String("Hello\r\nworld!".into());
    event["Records"] = Value::Array(vec![record.clone(), garbage, record]);
    let alerts = normalise(&event);
    assert_eq!(alerts.len(), 3);
    assert_eq!(alerts[1].source, Source::Unparsed);
    assert_eq!(alerts[1].raw.as_deref(), Some("Hello\r\nworld!"));
    assert_eq!(alerts[2].name, "trading-bot-errors");
}

#[test]
fn alarm_action_metric() {
    let a = one("fanout-action-metric.json");
    assert_eq!(a.name, "lambda-demo-metric-alarm");
    assert_eq!(a.previous_state.as_deref(), Some("INSUFFICIENT_DATA"));
    assert_eq!(
        a.description.as_deref(),
        Some("Metric Alarm to test Lambda actions")
    );
    assert_eq!(
        a.trigger.as_deref(),
        Some("AWS/Logs CallCount [InstanceId=i-12345678] Average")
    );
    assert_eq!(a.account.as_deref(), Some("444455556666"));
}

#[test]
fn alarm_action_with_reason_data_that_is_not_json() {
    let a = one("fanout-action-metric-bad-reasondata.json");
    assert_eq!(a.name, "dlq-arrivals");
    assert_eq!(a.state, "ALARM");
    assert!(a.reason.starts_with("Threshold Crossed"));
    assert!(a.triggering_alarms.is_empty());
}

#[test]
fn composite_alarm_with_and_without_suppressor() {
    let s = one("fanout-action-composite-suppressor.json");
    assert_eq!(s.name, "CompositeDemo.Main");
    assert_eq!(s.triggering_alarms, vec!["CompositeDemo.FirstChild"]);
    assert_eq!(s.actions_suppressed_by.as_deref(), Some("WaitPeriod"));
    assert_eq!(
        s.trigger.as_deref(),
        Some("rule: ALARM(CompositeDemo.FirstChild) OR ALARM(CompositeDemo.SecondChild)")
    );
    let c = one("fanout-action-composite.json");
    assert_eq!(c.name, "trading-bot-health");
    assert_eq!(
        c.triggering_alarms,
        vec!["trading-bot-errors", "trading-bot-throttles"]
    );
    assert_eq!(c.actions_suppressed_by, None);
    assert_eq!(c.description.as_deref(), Some("Trading bot unhealthy"));
}

#[test]
fn eventbridge_alarm_state_change() {
    let a = one("fanout-eventbridge-alarm.json");
    assert_eq!(a.name, "ServerCpuTooHigh");
    assert_eq!(
        (a.state.as_str(), a.previous_state.as_deref()),
        ("ALARM", Some("OK"))
    );
    assert_eq!(a.time.as_deref(), Some("2019-10-02T17:04:40.989+0000"));
    assert_eq!(
        a.arn.as_deref(),
        Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh")
    );
    assert_eq!(
        a.trigger.as_deref(),
        Some("AWS/EC2 CPUUtilization [InstanceId=i-12345678901234567] Average")
    );
}

#[test]
fn eventbridge_deployment_failure_and_success() {
    let f = one("fanout-eventbridge-codedeploy-failure.json");
    assert_eq!(f.source, Source::Codedeploy);
    assert_eq!(f.name, "codedeploy:trading-bot/trading-bot-live");
    assert_eq!(f.state, "FAILURE");
    assert!(f.is_deployment_failure());
    assert_eq!(f.deployment_id.as_deref(), Some("d-ABCDEF123"));
    assert!(f.reason.contains("d-ABCDEF123") && f.reason.contains("failed"));
    let s = one("fanout-eventbridge-codedeploy-success.json");
    assert!(!s.is_deployment_failure());
    assert_eq!(
        s.arn.as_deref(),
        Some(
            "arn:aws:codedeploy:us-west-2:123456789012:deploymentgroup:trading-bot/trading-bot-live"
        )
    );
}

#[test]
fn garbage_is_kept_raw() {
    let event = sample("fanout-garbage.json");
    let a = one("fanout-garbage.json");
    assert_eq!(a.source, Source::Unparsed);
    assert_eq!(a.name, "unparsed");
    let raw: Value = serde_json::from_str(a.raw.as_deref().unwrap()).unwrap();
    assert_eq!(raw, event);
    assert_eq!(
        normalise(&Value::String("plain text".into()))[0]
            .raw
            .as_deref(),
        Some("plain text")
    );
    assert_eq!(normalise(&Value::Null)[0].source, Source::Unparsed);
    assert_eq!(
        normalise(&serde_json::json!({"Records": []}))[0].source,
        Source::Unparsed
    );
}

#[test]
fn huge_identifying_fields_are_cut_so_the_alert_can_be_published() {
    // Shrunk from the property tests: a 300 KB AlarmName (or state, ARN, child list)
    // passed through untouched, and no rendering fit SNS's 256 KB.
    let mut event = sample("fanout-eventbridge-alarm.json");
    event["detail"]["alarmName"] = Value::String("x".repeat(300 * 1024));
    event["detail"]["state"]["value"] = Value::String("é".repeat(5_000));
    let a = one_of(&event);
    assert_eq!(a.name.chars().count(), MAX_IDENTITY_CHARS);
    assert!(a.name.ends_with("..."));
    assert_eq!(a.state.chars().count(), MAX_IDENTITY_CHARS);
    let children: Vec<Value> = (0..500)
        .map(|i| serde_json::json!({"arn": format!("arn:aws:cloudwatch:r:1:alarm:child-{i}")}))
        .collect();
    let mut composite = sample("fanout-action-composite.json");
    composite["alarmData"]["state"]["reasonData"] =
        Value::String(serde_json::json!({"triggeringAlarms": children}).to_string());
    let c = one_of(&composite);
    assert_eq!(c.triggering_alarms.len(), MAX_TRIGGERING_ALARMS);
    assert_eq!(c.triggering_alarms[48], "child-48");
    assert_eq!(c.triggering_alarms[49], "... and 451 more");
}

fn one_of(event: &Value) -> Alert {
    let mut alerts = normalise(event);
    assert_eq!(alerts.len(), 1);
    alerts.remove(0)
}

#[test]
fn a_codedeploy_trigger_through_sns_is_a_deployment_alert() {
    let t = one("fanout-sns-codedeploy-trigger.json");
    assert_eq!(t.source, Source::Codedeploy);
    assert_eq!(t.name, "codedeploy:trading-bot/trading-bot-live");
    assert_eq!(t.state, "FAILURE");
    assert!(t.is_deployment_failure());
    assert_eq!(t.deployment_id.as_deref(), Some("d-75I7MBT7C"));
    assert!(
        t.reason
            .contains("The BeforeAllowTraffic hook reported Failed."),
        "{}",
        t.reason
    );
    assert_eq!(
        t.description.as_deref(),
        Some("CodeDeploy trigger trading-bot-deploy-failed")
    );
    // The guide's own sample spells the status `Failed` and sends objects, not strings.
    let doc = serde_json::json!({"region": "us-west-1", "accountId": "111222333444",
        "eventTriggerName": "t", "applicationName": "a", "deploymentId": "d-1", "deploymentGroupName": "g",
        "status": "Succeeded", "errorInformation": {"ErrorCode": "X", "ErrorMessage": "m"}});
    let s = from_document(&doc).expect("a trigger");
    assert_eq!(
        (s.state.as_str(), s.is_deployment_failure()),
        ("SUCCESS", false)
    );
}

#[test]
fn a_plain_text_sns_message_keeps_its_subject() {
    let p = one("fanout-sns-plain-text.json");
    assert_eq!(p.source, Source::Unparsed);
    assert_eq!(
        p.original_subject.as_deref(),
        Some("Exchange API degraded: order latency above 2 s")
    );
    assert!(
        p.raw
            .as_deref()
            .is_some_and(|r| r.starts_with("Our market-data vendor"))
    );
}

#[test]
fn the_function_an_alarm_watches_is_read_from_its_metric() {
    assert_eq!(
        one("fanout-sns-classic-metric.json").function.as_deref(),
        Some("trading-bot")
    );
    for modern in ["fanout-eventbridge-alarm.json", "fanout-action-metric.json"] {
        assert_eq!(one(modern).function, None, "{modern}: an EC2 metric");
        let mut event = sample(modern);
        let data = if event.get("detail").is_some() {
            "detail"
        } else {
            "alarmData"
        };
        event[data]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] =
            serde_json::json!({"FunctionName": "pricing-bot", "Resource": "pricing-bot:live"});
        let alerts = normalise(&event);
        assert_eq!(
            alerts[0].function.as_deref(),
            Some("pricing-bot"),
            "{modern}"
        );
    }
    assert_eq!(one("fanout-action-composite.json").function, None);
}
