//! AWS deliveries the emulator makes on its own (tests/moto_ext/events_ext.py): CloudWatch
//! alarm evaluation and actions, EventBridge rule targets, Scheduler firings and SNS to Lambda,
//! each with the permission checks AWS makes. Everything is set up and read through the Rust
//! SDK, except EventBridge rules (no aws-sdk-eventbridge crate in the workspace: its JSON API is
//! called over raw HTTP) and the records the emulator keeps of its own deliveries (`/_ext`).
//! Functions here have no runnable code: what reached them is read from the emulator's record.

use std::future::Future;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::{AlarmType, Dimension, HistoryItemType, StateValue};
use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Target};
use aws_sdk_sns::types::MessageAttributeValue;
use e2e::{
    TestAccount, alarm_history, allow_sends, drain, errors_alarm, eventbridge, guarded_function,
    letters, notifications, permit, put_errors, queue, queue_arn, role, rule, set_alarm_state,
    topic_with_queue,
};
use serde_json::{Value, json};

/// Alarm periods and schedules run 100x faster: a 300 s period is 3 s, CloudWatch's one-minute
/// evaluation cycle 0.6 s.
async fn account() -> (TestAccount, SdkConfig) {
    let acct = TestAccount::new();
    acct.control.scale_time(0.01).await;
    let cfg = acct.sdk_config().await;
    (acct, cfg)
}

/// Poll `probe` until it returns `Some`, for at most 15 s.
async fn eventually<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    e2e::eventually(what, Duration::from_secs(15), probe).await
}

/// A dead-letter queue whose policy lets `service` send from `source_arn` (as the template's
/// GuardianFailureQueuePolicy does). Returns (URL, ARN).
async fn dead_letter_queue(
    cfg: &SdkConfig,
    name: &str,
    service: &str,
    source_arn: &str,
) -> (String, String) {
    let url = queue(cfg, name).await;
    let arn = queue_arn(cfg, &url).await;
    allow_sends(cfg, &url, &arn, service, source_arn).await;
    (url, arn)
}

/// Messages in a queue (JSON bodies) with their message attributes (string values).
async fn dead_letters(cfg: &SdkConfig, url: &str) -> Vec<(Value, Value)> {
    letters(cfg, url, None)
        .await
        .into_iter()
        .map(|letter| {
            let attrs: serde_json::Map<String, Value> = letter
                .attributes
                .iter()
                .map(|(k, (_, v))| (k.clone(), json!(v)))
                .collect();
            let body = serde_json::from_str(&letter.body).expect("JSON body");
            (body, Value::Object(attrs))
        })
        .collect()
}

/// CloudWatch, the principal its alarm actions publish as.
fn cloudwatch() -> Value {
    json!({"Service": "cloudwatch.amazonaws.com"})
}

/// A topic (with a subscribed inbox queue) whose policy lets CloudWatch alarms of this account
/// publish, as the template's AlarmTopicPolicy does.
async fn alarm_topic(
    acct: &TestAccount,
    cfg: &SdkConfig,
    name: &str,
    principal: Value,
) -> (String, String) {
    let (topic, inbox) = topic_with_queue(cfg, name).await;
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "Publishers", "Effect": "Allow", "Principal": principal, "Action": "sns:Publish",
        "Resource": topic, "Condition": {"StringEquals": {"aws:SourceAccount": acct.id}}}]});
    aws_sdk_sns::Client::new(cfg)
        .set_topic_attributes()
        .topic_arn(&topic)
        .attribute_name("Policy")
        .attribute_value(policy.to_string())
        .send()
        .await
        .expect("SetTopicAttributes");
    (topic, inbox)
}

/// The template's rollback alarm on the new version's errors, with `actions` on ALARM and OK.
async fn guarded_errors_alarm(
    cfg: &SdkConfig,
    name: &str,
    alarm_actions: &[&str],
    ok_actions: &[&str],
) {
    let mut put = errors_alarm(cfg, name)
        .set_dimensions(Some(errors_dimensions()))
        .period(300)
        .treat_missing_data("notBreaching");
    for a in alarm_actions {
        put = put.alarm_actions(*a);
    }
    for a in ok_actions {
        put = put.ok_actions(*a);
    }
    put.send().await.expect("PutMetricAlarm");
}

fn errors_dimensions() -> Vec<Dimension> {
    [
        ("FunctionName", "trading-bot"),
        ("Resource", "trading-bot:live"),
        ("ExecutedVersion", "2"),
    ]
    .into_iter()
    .map(|(n, v)| Dimension::builder().name(n).value(v).build())
    .collect()
}

async fn alarm_state(cfg: &SdkConfig, name: &str) -> (StateValue, String, Option<String>) {
    let out = aws_sdk_cloudwatch::Client::new(cfg)
        .describe_alarms()
        .alarm_names(name)
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .expect("DescribeAlarms");
    let metric = out.metric_alarms.unwrap_or_default().into_iter().next();
    let (state, reason, data) = match metric {
        Some(a) => (a.state_value, a.state_reason, a.state_reason_data),
        None => {
            let c = out
                .composite_alarms
                .unwrap_or_default()
                .into_iter()
                .next()
                .expect("the alarm");
            (c.state_value, c.state_reason, c.state_reason_data)
        }
    };
    (state.expect("StateValue"), reason.unwrap_or_default(), data)
}

async fn wait_state(cfg: &SdkConfig, name: &str, want: StateValue) -> (String, Option<String>) {
    let want = &want;
    eventually(&format!("{name} in {want:?}"), || async move {
        let (state, reason, data) = alarm_state(cfg, name).await;
        (state == *want).then_some((reason, data))
    })
    .await
}

/// The alarm's `Action` history once it holds `count` items (the history is written right
/// after each action runs).
async fn actions_recorded(cfg: &SdkConfig, name: &str, count: usize) -> Vec<String> {
    eventually(&format!("{count} actions of {name}"), || async move {
        let h = alarm_history(cfg, name, HistoryItemType::Action)
            .await
            .expect("DescribeAlarmHistory");
        (h.len() >= count).then_some(h)
    })
    .await
}

#[tokio::test]
async fn alarm_breaching_from_metric_data_publishes_and_emits_the_state_change_event() {
    let (acct, cfg) = account().await;
    let (acct, cfg) = (&acct, &cfg);
    let (topic, inbox) = alarm_topic(acct, cfg, "alarms", cloudwatch()).await;
    let inbox = &inbox;
    let fanout = guarded_function(cfg, "fanout", 0).await;
    let rule_arn = rule(
        acct,
        "alarm-state-change",
        json!({"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
               "detail": {"alarmName": [{"prefix": "stack-guarded-"}]}}),
        json!([{"Id": "fanout", "Arn": fanout}]),
    )
    .await;
    permit(cfg, "fanout", "events.amazonaws.com", &rule_arn).await;
    let alarm = "stack-guarded-errors";
    guarded_errors_alarm(cfg, alarm, &[&topic], &[]).await;

    // A new alarm starts in INSUFFICIENT_DATA; with no data, notBreaching makes it OK.
    let (reason, _) = wait_state(cfg, alarm, StateValue::Ok).await;
    assert!(reason.contains("treated as [NonBreaching]"), "{reason}");
    assert_eq!(
        alarm_history(cfg, alarm, HistoryItemType::StateUpdate)
            .await
            .expect("DescribeAlarmHistory"),
        vec!["Alarm updated from INSUFFICIENT_DATA to OK"]
    );

    // Two errors in the period (Sum 2 > 1) on the alarm's exact dimensions breach (one alone
    // would not); 50 on the alias-wide dimensions do not count.
    put_errors(cfg, errors_dimensions()[..2].to_vec(), 50.0).await;
    put_errors(cfg, errors_dimensions(), 1.0).await;
    put_errors(cfg, errors_dimensions(), 1.0).await;
    let (reason, data) = wait_state(cfg, alarm, StateValue::Alarm).await;
    assert!(
        reason.starts_with("Threshold Crossed: 1 out of the last 1 datapoints [2.0 (")
            && reason.ends_with(
                "was greater than the threshold (1.0) \
                 (minimum 1 datapoint for OK -> ALARM transition)."
            ),
        "{reason}"
    );
    let data: Value = serde_json::from_str(&data.expect("StateReasonData")).unwrap();
    assert_eq!(
        (data["statistic"].clone(), data["recentDatapoints"].clone()),
        (json!("Sum"), json!([2.0]))
    );

    // The alarm action: CloudWatch's classic JSON, published as cloudwatch.amazonaws.com.
    let notes = eventually("the SNS alarm notification", || async move {
        let n = notifications(cfg, inbox).await;
        (!n.is_empty()).then_some(n)
    })
    .await;
    assert_eq!(
        notes[0]["Subject"],
        format!("ALARM: \"{alarm}\" in US East (N. Virginia)")
    );
    let message: Value = serde_json::from_str(notes[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        message["AlarmArn"],
        acct.arn("cloudwatch", &format!("alarm:{alarm}"))
    );
    assert_eq!(
        (
            message["NewStateValue"].clone(),
            message["OldStateValue"].clone()
        ),
        (json!("ALARM"), json!("OK"))
    );
    assert_eq!(message["Trigger"]["Statistic"], "SUM");
    assert_eq!(
        message["Trigger"]["Dimensions"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(
        actions_recorded(cfg, alarm, 1).await,
        vec![format!("Successfully executed action {topic}")]
    );

    // The EventBridge event reached the rule's target; the fan-out reads both shapes.
    let event = eventually("the ALARM state-change event", || async move {
        acct.control
            .events("fanout")
            .await
            .into_iter()
            .find(|e| e["detail"]["state"]["value"] == "ALARM")
    })
    .await;
    assert_eq!(event["detail-type"], "CloudWatch Alarm State Change");
    assert_eq!(
        (event["source"].clone(), event["account"].clone()),
        (json!("aws.cloudwatch"), json!(acct.id))
    );
    assert_eq!(event["resources"], json!([message["AlarmArn"]]));
    assert_eq!(event["detail"]["previousState"]["value"], "OK");
    assert_eq!(
        event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["name"],
        "Errors"
    );
    for payload in [
        event,
        json!({"Records": [{"EventSource": "aws:sns", "Sns": notes[0].clone()}]}),
    ] {
        let alerts = guardian::fanout::normalise(&payload);
        assert_eq!(
            (alerts[0].name.as_str(), alerts[0].state.as_str()),
            (alarm, "ALARM"),
            "{payload}"
        );
    }
}

#[tokio::test]
async fn set_alarm_state_runs_the_actions_and_the_next_evaluation_restores_the_state() {
    let (acct, cfg) = account().await;
    let (acct, cfg) = (&acct, &cfg);
    let (topic, inbox) = alarm_topic(acct, cfg, "alarms", cloudwatch()).await;
    let inbox = &inbox;
    let responder = guarded_function(cfg, "responder", 0).await;
    let alarm = "stack-guarded-errors";
    permit(
        cfg,
        "responder",
        "lambda.alarms.cloudwatch.amazonaws.com",
        &acct.arn("cloudwatch", &format!("alarm:{alarm}")),
    )
    .await;
    guarded_errors_alarm(cfg, alarm, &[&topic], &[&responder]).await;
    wait_state(cfg, alarm, StateValue::Ok).await;
    let before = acct.control.events("responder").await.len();

    set_alarm_state(cfg, alarm, StateValue::Alarm, "drill: forced").await;
    let notes = eventually("the ALARM notification", || async move {
        let n = notifications(cfg, inbox).await;
        (!n.is_empty()).then_some(n)
    })
    .await;
    let message: Value = serde_json::from_str(notes[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            message["NewStateValue"].clone(),
            message["NewStateReason"].clone()
        ),
        (json!("ALARM"), json!("drill: forced"))
    );

    // No data: the next evaluation returns the alarm to OK, which runs the Lambda OK action.
    let event = eventually("the OK alarm action", || async move {
        acct.control
            .events("responder")
            .await
            .into_iter()
            .nth(before)
    })
    .await;
    assert_eq!(event["source"], "aws.cloudwatch");
    assert_eq!(event["alarmArn"], message["AlarmArn"]);
    assert_eq!(event["alarmData"]["state"]["value"], "OK");
    assert_eq!(event["alarmData"]["previousState"]["value"], "ALARM");
    assert_eq!(
        event["alarmData"]["previousState"]["reason"],
        "drill: forced"
    );
    let alerts = guardian::fanout::normalise(&event);
    assert_eq!(
        (alerts[0].name.as_str(), alerts[0].state.as_str()),
        (alarm, "OK")
    );
    // Newest first: OK (restored), ALARM (forced), OK (the first evaluation after creation).
    let ok = format!("Successfully executed action {responder}");
    assert_eq!(
        actions_recorded(cfg, alarm, 3).await,
        vec![
            ok.clone(),
            format!("Successfully executed action {topic}"),
            ok
        ]
    );
}

#[tokio::test]
async fn a_topic_that_does_not_allow_cloudwatch_gets_nothing_and_the_history_says_why() {
    let (acct, cfg) = account().await;
    let (acct, cfg) = (&acct, &cfg);
    let root = json!({ "AWS": acct.root() });
    let (topic, inbox) = alarm_topic(acct, cfg, "closed", root).await;
    let alarm = "stack-guarded-errors";
    guarded_errors_alarm(cfg, alarm, &[&topic], &[]).await;
    set_alarm_state(cfg, alarm, StateValue::Alarm, "drill").await;

    let actions = actions_recorded(cfg, alarm, 1).await;
    let alarm_arn = acct.arn("cloudwatch", &format!("alarm:{alarm}"));
    assert_eq!(
        actions,
        vec![format!(
            "Failed to execute action {topic}. Received error: \"Resource: {alarm_arn} \
             is not authorized to perform: SNS:Publish on resource: {topic}\""
        )]
    );
    assert!(drain(cfg, &inbox).await.is_empty(), "nothing was published");
}

#[tokio::test]
async fn a_prefix_rule_invokes_a_permitted_function_and_dead_letters_an_unpermitted_one() {
    let (acct, cfg) = account().await;
    let (acct, cfg) = (&acct, &cfg);
    let permitted = guarded_function(cfg, "permitted", 0).await;
    let forbidden = guarded_function(cfg, "forbidden", 0).await;
    let rule_arn = acct.arn("events", "rule/guarded-alarms");
    let (dlq, dlq_arn) =
        dead_letter_queue(cfg, "failures", "events.amazonaws.com", &rule_arn).await;
    let dlq = &dlq;
    rule(
        acct,
        "guarded-alarms",
        json!({"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
               "detail": {"alarmName": [{"prefix": "stack-guarded-"}]}}),
        json!([{"Id": "permitted", "Arn": permitted, "DeadLetterConfig": {"Arn": dlq_arn}},
               {"Id": "forbidden", "Arn": forbidden, "DeadLetterConfig": {"Arn": dlq_arn}}]),
    )
    .await;
    permit(cfg, "permitted", "events.amazonaws.com", &rule_arn).await;
    for name in ["stack-guarded-errors", "stack-guardian-errors"] {
        guarded_errors_alarm(cfg, name, &[], &[]).await;
    }

    // Both alarms leave INSUFFICIENT_DATA; only the guarded one matches the prefix.
    wait_state(cfg, "stack-guardian-errors", StateValue::Ok).await;
    let event = eventually("the matching event", || async move {
        acct.control.events("permitted").await.into_iter().next()
    })
    .await;
    assert_eq!(event["detail"]["alarmName"], "stack-guarded-errors");
    let dead = eventually("the dead letter", || async move {
        let d = dead_letters(cfg, dlq).await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    let (body, attrs) = &dead[0];
    assert_eq!(body["id"], event["id"], "the event itself is dead-lettered");
    assert_eq!(attrs["RULE_ARN"], rule_arn);
    assert_eq!(attrs["TARGET_ARN"], forbidden);
    assert_eq!(attrs["ERROR_CODE"], "NO_PERMISSIONS");
    assert!(acct.control.events("forbidden").await.is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        acct.control
            .events("permitted")
            .await
            .iter()
            .all(|e| e["detail"]["alarmName"] == "stack-guarded-errors"),
        "the other alarm does not match the prefix"
    );

    let deliveries = acct.control.get("/_ext/events/deliveries").await;
    let outcome = |target: &str| {
        deliveries
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["target"] == target)
            .map(|d| d["outcome"].clone())
    };
    assert_eq!(
        (outcome("permitted"), outcome("forbidden")),
        (Some(json!("delivered")), Some(json!("dead-lettered")))
    );

    // PutEvents from the API reaches Lambda targets too (with the same permission check).
    let custom = rule(
        acct,
        "custom",
        json!({"source": ["rollout.test"]}),
        json!([{"Id": "p", "Arn": permitted}]),
    )
    .await;
    permit(cfg, "permitted", "events.amazonaws.com", &custom).await;
    let entries =
        json!([{"Source": "rollout.test", "DetailType": "probe", "Detail": "{\"n\": 1}"}]);
    eventbridge(acct, "PutEvents", json!({"Entries": entries})).await;
    let custom_event = eventually("the PutEvents event", || async move {
        acct.control
            .events("permitted")
            .await
            .into_iter()
            .find(|e| e["source"] == "rollout.test")
    })
    .await;
    assert_eq!(custom_event["detail"], json!({"n": 1}));
}

/// A role Scheduler can assume (aws:SourceAccount as in the template) that may invoke `resource`.
async fn schedule_role(acct: &TestAccount, cfg: &SdkConfig, resource: &str) -> String {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": acct.id}}}]});
    let invoke =
        json!([{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": resource}]);
    role(cfg, "schedule-role", &trust, Some(invoke), &[]).await
}

#[tokio::test]
async fn a_schedule_fires_its_target_with_the_scheduled_time_and_a_disabled_one_does_not() {
    let (acct, cfg) = account().await;
    let (acct, cfg) = (&acct, &cfg);
    let alias = format!("{}:live", guarded_function(cfg, "trading-bot", 1).await);
    let role = schedule_role(acct, cfg, &alias).await;
    let scheduler = aws_sdk_scheduler::Client::new(cfg);
    scheduler
        .create_schedule_group()
        .name("stack")
        .send()
        .await
        .expect("CreateScheduleGroup");
    let input = json!({"tick": "<aws.scheduler.scheduled-time>",
        "schedule": "<aws.scheduler.schedule-arn>", "attempt": "<aws.scheduler.attempt-number>"})
    .to_string();
    for (name, state) in [
        ("bot", ScheduleState::Enabled),
        ("paused", ScheduleState::Disabled),
    ] {
        scheduler
            .create_schedule()
            .group_name("stack")
            .name(name)
            .state(state)
            .schedule_expression("rate(1 minute)")
            .flexible_time_window(
                FlexibleTimeWindow::builder()
                    .mode(FlexibleTimeWindowMode::Off)
                    .build()
                    .unwrap(),
            )
            .target(
                Target::builder()
                    .arn(&alias)
                    .role_arn(&role)
                    .input(&input)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("CreateSchedule");
    }

    let fired = acct
        .control
        .post(
            "/_ext/scheduler/fire",
            json!({"group": "stack", "name": "bot"}),
        )
        .await;
    assert_eq!(fired["outcome"], "invoked", "{fired}");
    let invocations = acct.control.invocations("trading-bot").await;
    assert_eq!(invocations.len(), 1, "{invocations:?}");
    assert_eq!(
        (
            invocations[0]["qualifier"].clone(),
            invocations[0]["invocation_type"].clone()
        ),
        (json!("live"), json!("Event"))
    );
    let schedule_arn = acct.arn("scheduler", "schedule/stack/bot");
    assert_eq!(
        invocations[0]["payload"],
        json!({"tick": fired["scheduled_time"], "schedule": schedule_arn, "attempt": "1"})
    );

    let paused = acct
        .control
        .post(
            "/_ext/scheduler/fire",
            json!({"group": "stack", "name": "paused"}),
        )
        .await;
    assert!(
        paused["outcome"].as_str().unwrap().starts_with("not fired"),
        "{paused}"
    );
    assert_eq!(acct.control.invocations("trading-bot").await.len(), 1);

    // On the running clock a rate(1 minute) schedule fires every scaled minute; paused never.
    acct.control
        .post("/_ext/scheduler/clock", json!({"running": true}))
        .await;
    let firings = eventually("two clock firings", || async move {
        let f = acct.control.get("/_ext/scheduler/firings").await;
        (f.as_array().unwrap().len() >= 3).then_some(f)
    })
    .await;
    acct.control
        .post("/_ext/scheduler/clock", json!({"running": false}))
        .await;
    let firings = firings.as_array().unwrap();
    assert!(
        firings
            .iter()
            .all(|f| f["name"] == "bot" && f["outcome"] == "invoked"),
        "{firings:?}"
    );
    let times: Vec<&str> = firings[1..]
        .iter()
        .map(|f| f["scheduled_time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
}

#[tokio::test]
async fn sns_invokes_a_permitted_lambda_subscriber_and_dead_letters_for_an_unpermitted_one() {
    let (acct, cfg) = account().await;
    let (acct, cfg) = (&acct, &cfg);
    let sns = aws_sdk_sns::Client::new(cfg);
    let topic = sns
        .create_topic()
        .name("alarm-input")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let permitted = guarded_function(cfg, "fanout", 0).await;
    let forbidden = guarded_function(cfg, "stale", 0).await;
    permit(cfg, "fanout", "sns.amazonaws.com", &topic).await;
    let (dlq, dlq_arn) = dead_letter_queue(cfg, "sns-failures", "sns.amazonaws.com", &topic).await;
    let dlq = &dlq;
    let mut subscriptions = Vec::new();
    for endpoint in [&permitted, &forbidden] {
        let out = sns
            .subscribe()
            .topic_arn(&topic)
            .protocol("lambda")
            .endpoint(endpoint.as_str())
            .attributes(
                "RedrivePolicy",
                json!({"deadLetterTargetArn": dlq_arn}).to_string(),
            )
            .send()
            .await
            .expect("Subscribe");
        subscriptions.push(out.subscription_arn.unwrap());
    }
    let attribute = MessageAttributeValue::builder()
        .data_type("String")
        .string_value("critical")
        .build()
        .unwrap();
    sns.publish()
        .topic_arn(&topic)
        .subject("hello")
        .message(r#"{"AlarmName": "x"}"#)
        .message_attributes("severity", attribute)
        .send()
        .await
        .expect("Publish");

    let event = eventually("the SNS event", || async move {
        acct.control.events("fanout").await.into_iter().next()
    })
    .await;
    let record = &event["Records"][0];
    assert_eq!(
        (
            record["EventSource"].clone(),
            record["EventSubscriptionArn"].clone()
        ),
        (json!("aws:sns"), json!(subscriptions[0]))
    );
    let message = &record["Sns"];
    assert_eq!(
        (message["Type"].clone(), message["TopicArn"].clone()),
        (json!("Notification"), json!(topic))
    );
    assert_eq!(
        (message["Subject"].clone(), message["Message"].clone()),
        (json!("hello"), json!(r#"{"AlarmName": "x"}"#))
    );
    assert_eq!(
        message["MessageAttributes"],
        json!({"severity": {"Type": "String", "Value": "critical"}})
    );
    for key in [
        "MessageId",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertUrl",
        "UnsubscribeUrl",
    ] {
        assert!(message[key].is_string(), "{key} in {message}");
    }

    let dead = eventually("the dead letter", || async move {
        let d = dead_letters(cfg, dlq).await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(dead[0].0["Message"], r#"{"AlarmName": "x"}"#);
    assert_eq!(dead[0].0["MessageId"], message["MessageId"]);
    assert!(acct.control.events("stale").await.is_empty());
    let deliveries = acct.control.get("/_ext/sns/lambda-deliveries").await;
    let outcomes: Vec<(Value, Value)> = deliveries
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["subscription"].clone(), d["outcome"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (json!(subscriptions[0]), json!("invoked")),
            (json!(subscriptions[1]), json!("dead-lettered"))
        ]
    );
}
