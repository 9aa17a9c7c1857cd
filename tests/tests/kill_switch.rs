//! Kill switch against the emulator: the real handler, the real SDK, real HTTP. Each test
//! checks what the guarded function, CodeDeploy, the scheduler and the alert topic hold
//! afterwards, not only what the handler answered.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use e2e::{TestAccount, guarded_function, lambda_context, notifications, queue, topic_with_queue};
use guardian::config::Env;
use guardian_aws::error::ErrorType;
use kill_switch::{App, Config, KillSwitchError, handler};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

const BOT: &str = "trading-bot";

struct World {
    acct: TestAccount,
    cfg: SdkConfig,
    app: App,
    alerts: String,
}

/// A guarded function at `concurrency` in a fresh account, an alert topic with a queue,
/// and the kill switch configured with `extra` variables.
async fn world(concurrency: Option<i32>, extra: &[(&str, String)]) -> World {
    world_in(TestAccount::new(), concurrency, extra).await
}

fn lambda(cfg: &SdkConfig) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(cfg)
}

async fn invoke(app: &App, payload: Value) -> Result<Value, KillSwitchError> {
    handler(
        app,
        LambdaEvent::new(payload, lambda_context(Duration::from_secs(60))),
    )
    .await
}

fn stop(by: &str) -> Value {
    json!({"action": "stop", "reason": "bad fills since 03:00", "requested_by": by})
}

fn resume(by: &str) -> Value {
    json!({"action": "resume", "reason": "fix verified", "requested_by": by})
}

/// What the guarded function holds: reserved concurrency and the kill switch's tags.
async fn held(cfg: &SdkConfig) -> (Option<i32>, HashMap<String, String>) {
    let c = lambda(cfg)
        .get_function_concurrency()
        .function_name(BOT)
        .send()
        .await
        .unwrap()
        .reserved_concurrent_executions;
    let tags = lambda(cfg)
        .get_function()
        .function_name(BOT)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k.starts_with("guardian:") && k != "guardian:last-restored-concurrency")
        .collect();
    (c, tags)
}

const WRITES: [&str; 6] = [
    "PutFunctionConcurrency",
    "DeleteFunctionConcurrency",
    "TagResource",
    "UntagResource",
    "Publish",
    "StopDeployment",
];

async fn writes(acct: &TestAccount) -> u64 {
    let counts = acct.control.call_counts().await;
    WRITES
        .iter()
        .map(|op| counts.get(*op).copied().unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn stop_and_resume_restore_exactly() {
    for (start, tag) in [(None, "none"), (Some(1), "1"), (Some(5), "5")] {
        let w = world(start, &[]).await;

        let stopped = invoke(&w.app, stop("alice")).await.unwrap();
        println!("stop answer: {stopped:#}");
        assert_eq!(stopped["state"], "stopped");
        assert_eq!(stopped["alert_failed"], false);
        let (c, tags) = held(&w.cfg).await;
        assert_eq!(c, Some(0), "start {start:?}");
        assert_eq!(tags["guardian:previous-concurrency"], tag);
        assert_eq!(tags["guardian:stopped-by"], "alice");
        assert_eq!(tags["guardian:stop-reason"], "bad fills since 03:00");
        assert!(tags["guardian:stopped-at"].ends_with('Z'));

        let status = invoke(&w.app, json!({"action": "status"})).await.unwrap();
        println!("status answer: {status:#}");
        assert_eq!(status["state"], "stopped");
        assert_eq!(status["by"], "alice");
        assert_eq!(status["since"], tags["guardian:stopped-at"].as_str());
        assert_eq!(status["reserved_concurrency"], 0);

        let resumed = invoke(&w.app, resume("bob")).await.unwrap();
        println!("resume answer: {resumed:#}");
        assert_eq!(resumed["state"], "running");
        let (c, tags) = held(&w.cfg).await;
        assert_eq!(c, start, "restored exactly");
        assert!(tags.is_empty(), "record cleared: {tags:?}");

        let alerts = notifications(&w.cfg, &w.alerts).await;
        let subjects: Vec<&str> = alerts
            .iter()
            .filter_map(|a| a["Subject"].as_str())
            .collect();
        assert_eq!(
            subjects,
            [
                "[CRITICAL] STOPPED: trading-bot by alice",
                "[CRITICAL] RESUMED: trading-bot by bob"
            ]
        );
        assert_eq!(
            alerts[0]["MessageAttributes"]["severity"]["Value"],
            "critical"
        );
    }
}

#[tokio::test]
async fn a_stopped_function_is_throttled_and_runs_again_after_resume() {
    let w = world(Some(1), &[]).await;
    invoke(&w.app, stop("alice")).await.unwrap();
    let probe = lambda(&w.cfg)
        .invoke()
        .function_name(BOT)
        .qualifier("1")
        .payload(aws_sdk_lambda::primitives::Blob::new(
            r#"{"smoke_test":true}"#,
        ))
        .send()
        .await;
    let err = probe.expect_err("a stopped function must not run");
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::code(&err),
        Some("TooManyRequestsException")
    );
    assert!(w.acct.control.invocations(BOT).await.is_empty());

    invoke(&w.app, resume("alice")).await.unwrap();
    lambda(&w.cfg)
        .invoke()
        .function_name(BOT)
        .qualifier("1")
        .send()
        .await
        .expect("runs again after resume");
    assert_eq!(w.acct.control.invocations(BOT).await.len(), 1);
}

#[tokio::test]
async fn stop_during_a_deployment_stops_it_with_rollback() {
    let w = world(
        Some(1),
        &[
            ("DEPLOYMENT_APPLICATION", "bot-app".to_string()),
            ("DEPLOYMENT_GROUP", "bot-group".to_string()),
        ],
    )
    .await;
    let cd = aws_sdk_codedeploy::Client::new(&w.cfg);
    cd.create_application()
        .application_name("bot-app")
        .compute_platform(aws_sdk_codedeploy::types::ComputePlatform::Lambda)
        .send()
        .await
        .unwrap();
    cd.create_deployment_group()
        .application_name("bot-app")
        .deployment_group_name("bot-group")
        .service_role_arn(w.acct.arn("iam", "role/codedeploy"))
        .send()
        .await
        .unwrap();
    let appspec = r#"{"version":0.0,"Resources":[{"bot":{"Type":"AWS::Lambda::Function","Properties":{"Name":"trading-bot","Alias":"live","CurrentVersion":"1","TargetVersion":"2"}}}]}"#;
    let id = cd
        .create_deployment()
        .application_name("bot-app")
        .deployment_group_name("bot-group")
        .revision(
            aws_sdk_codedeploy::types::RevisionLocation::builder()
                .revision_type(aws_sdk_codedeploy::types::RevisionLocationType::AppSpecContent)
                .app_spec_content(
                    aws_sdk_codedeploy::types::AppSpecContent::builder()
                        .content(appspec)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .deployment_id
        .unwrap();
    w.acct
        .control
        .set_deployment_status(&id, "InProgress")
        .await;

    let out = invoke(&w.app, stop("alice")).await.unwrap();
    assert_eq!(out["failed"], json!([]), "{out:#}");
    let stopped = w.acct.control.stopped_deployments().await;
    assert_eq!(
        stopped,
        [json!({"deploymentId": id, "autoRollbackEnabled": true})]
    );
    let status = cd
        .get_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap()
        .deployment_info
        .unwrap()
        .status;
    assert_eq!(
        status,
        Some(aws_sdk_codedeploy::types::DeploymentStatus::Stopped)
    );
    assert_eq!(held(&w.cfg).await.0, Some(0));
}

#[tokio::test]
async fn stop_with_sns_failing_still_stops_and_says_the_alert_failed() {
    let w = world(Some(5), &[]).await;
    w.acct
        .control
        .inject_fault("Publish", 10, 500, "InternalError")
        .await;
    let out = invoke(&w.app, stop("alice")).await.unwrap();
    println!("stop answer with SNS down: {out:#}");
    assert_eq!(out["state"], "stopped");
    assert_eq!(out["alert_failed"], true);
    assert_eq!(out["failed"][0]["step"], "alert");
    let (c, tags) = held(&w.cfg).await;
    assert_eq!(c, Some(0));
    assert_eq!(tags["guardian:previous-concurrency"], "5");
    assert!(notifications(&w.cfg, &w.alerts).await.is_empty());
}

#[tokio::test]
async fn a_second_stop_keeps_the_first_record_and_resume_on_running_is_a_no_op() {
    let w = world(Some(5), &[]).await;
    let before = writes(&w.acct).await;
    let noop = invoke(&w.app, resume("bob")).await.unwrap();
    assert_eq!(noop["state"], "running");
    assert_eq!(noop["done"], json!([]));
    assert!(
        noop["notes"][0]
            .as_str()
            .unwrap()
            .contains("nothing to resume")
    );
    assert_eq!(
        writes(&w.acct).await,
        before,
        "a no-op resume writes nothing"
    );

    invoke(&w.app, stop("alice")).await.unwrap();
    let (_, first) = held(&w.cfg).await;
    let again = invoke(
        &w.app,
        json!({"action": "stop", "reason": "second", "requested_by": "bob"}),
    )
    .await
    .unwrap();
    assert!(
        again["notes"][0]
            .as_str()
            .unwrap()
            .contains("kept the first record")
    );
    let (c, tags) = held(&w.cfg).await;
    assert_eq!((c, &tags), (Some(0), &first));
    assert_eq!(tags["guardian:stopped-by"], "alice");

    invoke(&w.app, resume("bob")).await.unwrap();
    assert_eq!(held(&w.cfg).await.0, Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_stops_and_resumes_end_consistent() {
    for start in [Some(5), None] {
        let w = world(start, &[]).await;
        let original = start.map_or("none".to_string(), |n| n.to_string());
        let app = std::sync::Arc::new(w.app.clone());
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let app = app.clone();
                // Interleaved, with runs of the same action so stops meet stops too.
                let payload = if (i * 7) % 3 == 0 {
                    resume("r")
                } else {
                    stop("s")
                };
                tokio::spawn(async move { invoke(&app, payload).await })
            })
            .collect();
        let mut repairs = 0;
        for t in tasks {
            let answer = t.await.unwrap().expect("every invocation succeeds");
            assert_eq!(answer["failed"], json!([]), "{answer:#}");
            repairs += answer["notes"].as_array().map_or(0, |notes| {
                notes
                    .iter()
                    .filter(|n| n.to_string().contains("concurrent"))
                    .count()
            });
        }
        println!("start {start:?}: {repairs} read-back repairs of a race");
        let (c, tags) = held(&w.cfg).await;
        match tags.get("guardian:previous-concurrency") {
            Some(previous) => {
                assert_eq!(c, Some(0), "a record means stopped");
                assert_eq!(previous, &original, "the original value is recorded");
            }
            None => assert_eq!(c, start, "no record means running as before"),
        }
        invoke(&w.app, resume("final")).await.unwrap();
        let (c, tags) = held(&w.cfg).await;
        assert_eq!(c, start, "a final resume restores the original");
        assert!(tags.is_empty());
    }
}

#[tokio::test]
async fn bad_inputs_are_errors_that_change_nothing() {
    let w = world(Some(5), &[]).await;
    let before = writes(&w.acct).await;
    let cases = [
        (
            json!({"action": "halt", "reason": "x"}),
            "KillSwitch.UnknownAction",
        ),
        (
            json!({"action": "stop", "requested_by": "alice"}),
            "KillSwitch.MissingReason",
        ),
        (
            json!({"action": "resume", "reason": " "}),
            "KillSwitch.MissingReason",
        ),
        (
            json!({"action": "stop", "reason": "x", "force": true}),
            "KillSwitch.MalformedRequest",
        ),
        (
            json!({"action": "stop", "reason": "x", "function": "other-bot"}),
            "KillSwitch.UnknownFunction",
        ),
        (json!(["stop"]), "KillSwitch.MalformedRequest"),
        (
            json!({"source": "aws.s3", "detail": {}}),
            "KillSwitch.UnrecognisedEvent",
        ),
    ];
    for (payload, kind) in cases {
        let err = invoke(&w.app, payload.clone()).await.unwrap_err();
        assert_eq!(err.error_type(), kind, "{payload}: {err}");
        println!("{payload} -> {kind}: {err}");
    }
    let (c, tags) = held(&w.cfg).await;
    assert_eq!((c, tags.len()), (Some(5), 0));
    assert_eq!(writes(&w.acct).await, before, "no write reached AWS");
    assert!(notifications(&w.cfg, &w.alerts).await.is_empty());
}

#[tokio::test]
async fn an_alarm_event_halts_trading() {
    let w = world(Some(1), &[]).await;
    let event: Value =
        serde_json::from_str(include_str!("../../events/kill-switch-alarm.json")).unwrap();
    let out = invoke(&w.app, event.clone()).await.unwrap();
    assert_eq!(out["state"], "stopped");
    let (c, tags) = held(&w.cfg).await;
    assert_eq!(c, Some(0));
    assert_eq!(tags["guardian:stopped-by"], "alarm:trading-bot-errors");
    assert!(
        tags["guardian:stop-reason"]
            .starts_with("auto-halt: alarm trading-bot-errors entered ALARM")
    );

    let mut ok = event;
    ok["detail"]["state"]["value"] = json!("OK");
    let ignored = invoke(&w.app, ok).await.unwrap();
    assert!(ignored["ignored"].is_string());
    assert_eq!(held(&w.cfg).await.0, Some(0), "an OK alarm does not resume");
}

#[tokio::test]
async fn schedules_pause_while_stopped_and_the_dlq_backlog_is_reported() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    let dlq = queue(&cfg, "bot-dlq").await;
    let scheduler = aws_sdk_scheduler::Client::new(&cfg);
    scheduler
        .create_schedule()
        .name("bot-tick")
        .schedule_expression("rate(1 minute)")
        .flexible_time_window(
            aws_sdk_scheduler::types::FlexibleTimeWindow::builder()
                .mode(aws_sdk_scheduler::types::FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .target(
            aws_sdk_scheduler::types::Target::builder()
                .arn(acct.function_arn(BOT))
                .role_arn(acct.arn("iam", "role/scheduler"))
                .input(r#"{"tick":true}"#)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let w = world_in(
        acct,
        Some(1),
        &[
            ("SCHEDULE_NAMES", "bot-tick".into()),
            ("DLQ_URL", dlq.clone()),
        ],
    )
    .await;
    let state = |w: &World| {
        let s = aws_sdk_scheduler::Client::new(&w.cfg);
        async move {
            let out = s.get_schedule().name("bot-tick").send().await.unwrap();
            (out.state, out.target.and_then(|t| t.input))
        }
    };

    let out = invoke(&w.app, stop("alice")).await.unwrap();
    assert_eq!(out["failed"], json!([]), "{out:#}");
    let (st, input) = state(&w).await;
    assert_eq!(st, Some(aws_sdk_scheduler::types::ScheduleState::Disabled));
    assert_eq!(
        input.as_deref(),
        Some(r#"{"tick":true}"#),
        "definition kept"
    );

    let sqs = aws_sdk_sqs::Client::new(&w.cfg);
    for i in 0..3 {
        sqs.send_message()
            .queue_url(&dlq)
            .message_body(format!("{{\"tick\":{i}}}"))
            .send()
            .await
            .unwrap();
    }
    let out = invoke(&w.app, resume("alice")).await.unwrap();
    println!("resume answer with backlog: {out:#}");
    assert_eq!(out["dlq_messages"], 3);
    assert_eq!(
        state(&w).await.0,
        Some(aws_sdk_scheduler::types::ScheduleState::Enabled)
    );
    assert_eq!(
        e2e::visible_messages(&w.cfg, &dlq).await,
        3,
        "nothing replayed"
    );
}

/// The world of `world`, in an account the test already prepared.
async fn world_in(acct: TestAccount, concurrency: Option<i32>, extra: &[(&str, String)]) -> World {
    let cfg = acct.sdk_config().await;
    guarded_function(&cfg, BOT, 1).await;
    if let Some(n) = concurrency {
        lambda(&cfg)
            .put_function_concurrency()
            .function_name(BOT)
            .reserved_concurrent_executions(n)
            .send()
            .await
            .unwrap();
    }
    let (topic, alerts) = topic_with_queue(&cfg, "critical").await;
    let mut vars = vec![
        ("GUARDED_FUNCTIONS", BOT.to_string()),
        ("ALERT_TOPIC_ARN", topic),
    ];
    vars.extend(extra.iter().cloned());
    let config = Config::from_env(&Env::from_pairs(vars)).unwrap();
    World {
        app: App::new(&cfg, config),
        acct,
        cfg,
        alerts,
    }
}

// ------------------------------------------------- during CodeDeploy's own rollback (#17)

const APP: &str = "bot-app";
const GROUP: &str = "bot-group";
const HOOK: &str = "CodeDeployHook_pre";

/// A Lambda deployment group the emulator's CodeDeploy engine runs, as SAM makes it: the
/// service role with AWSCodeDeployRoleForLambda, a pre-traffic hook named
/// `CodeDeployHook_*`, an alarm, and automatic rollback on failure, alarm and stop request.
/// The guarded function gets version 2, the deployment's target.
async fn deployment_group(w: &World) {
    let lambda = lambda(&w.cfg);
    lambda
        .update_function_configuration()
        .function_name(BOT)
        .description("build 2")
        .send()
        .await
        .unwrap();
    let v2 = lambda
        .publish_version()
        .function_name(BOT)
        .send()
        .await
        .unwrap()
        .version;
    assert_eq!(v2.as_deref(), Some("2"));
    guarded_function(&w.cfg, HOOK, 0).await;
    aws_sdk_cloudwatch::Client::new(&w.cfg)
        .put_metric_alarm()
        .alarm_name("trading-bot-errors")
        .namespace("AWS/Lambda")
        .metric_name("Errors")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
        )
        .send()
        .await
        .unwrap();
    let iam = aws_sdk_iam::Client::new(&w.cfg);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "codedeploy.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = iam
        .create_role()
        .role_name("CodeDeployServiceRole")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn;
    iam.attach_role_policy()
        .role_name("CodeDeployServiceRole")
        .policy_arn("arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda")
        .send()
        .await
        .unwrap();
    use aws_sdk_codedeploy::types::{
        Alarm, AlarmConfiguration, AutoRollbackConfiguration, AutoRollbackEvent, ComputePlatform,
    };
    let cd = aws_sdk_codedeploy::Client::new(&w.cfg);
    cd.create_application()
        .application_name(APP)
        .compute_platform(ComputePlatform::Lambda)
        .send()
        .await
        .unwrap();
    cd.create_deployment_group()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .service_role_arn(role)
        .deployment_config_name("CodeDeployDefault.LambdaCanary10Percent30Minutes")
        .alarm_configuration(
            AlarmConfiguration::builder()
                .enabled(true)
                .alarms(Alarm::builder().name("trading-bot-errors").build())
                .build(),
        )
        .auto_rollback_configuration(
            AutoRollbackConfiguration::builder()
                .enabled(true)
                .events(AutoRollbackEvent::DeploymentFailure)
                .events(AutoRollbackEvent::DeploymentStopOnAlarm)
                .events(AutoRollbackEvent::DeploymentStopOnRequest)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Polls `probe` every 50 ms for up to 30 s.
async fn eventually<T, Fut: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut probe: impl FnMut() -> Fut,
) -> T {
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn deployment_info(cfg: &SdkConfig, id: &str) -> aws_sdk_codedeploy::types::DeploymentInfo {
    aws_sdk_codedeploy::Client::new(cfg)
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .unwrap()
        .deployment_info
        .unwrap()
}

/// A canary deployment of version 2, its hook passed and 10 % on version 2, then stopped by
/// an operator with rollback: returns (the stopped deployment, CodeDeploy's rollback of it,
/// in flight).
async fn rollback_in_flight(w: &World) -> (String, String) {
    use aws_sdk_codedeploy::types::{
        AppSpecContent, DeploymentCreator, DeploymentStatus, LifecycleEventStatus,
        RevisionLocation, RevisionLocationType,
    };
    let cd = aws_sdk_codedeploy::Client::new(&w.cfg);
    let appspec = json!({"version": 0.0, "Resources": [{BOT: {"Type": "AWS::Lambda::Function",
        "Properties": {"Name": BOT, "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}],
        "Hooks": [{"BeforeAllowTraffic": HOOK}]});
    let id = cd
        .create_deployment()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .revision(
            RevisionLocation::builder()
                .revision_type(RevisionLocationType::AppSpecContent)
                .app_spec_content(
                    AppSpecContent::builder()
                        .content(appspec.to_string())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .deployment_id
        .unwrap();
    // The hook (a scripted function here) passes: answer CodeDeploy as it would.
    let execution = eventually("the hook to be invoked", || async {
        let calls = w.acct.control.invocations(HOOK).await;
        calls
            .last()
            .map(|c| c["payload"]["LifecycleEventHookExecutionId"].clone())
    })
    .await;
    cd.put_lifecycle_event_hook_execution_status()
        .deployment_id(&id)
        .lifecycle_event_hook_execution_id(execution.as_str().unwrap())
        .status(LifecycleEventStatus::Succeeded)
        .send()
        .await
        .unwrap();
    eventually("10 % on version 2", || async {
        let alias = lambda(&w.cfg)
            .get_alias()
            .function_name(BOT)
            .name("live")
            .send()
            .await
            .unwrap();
        let weights = alias
            .routing_config
            .and_then(|r| r.additional_version_weights);
        weights.is_some_and(|w| w.contains_key("2")).then_some(())
    })
    .await;
    cd.stop_deployment()
        .deployment_id(&id)
        .auto_rollback_enabled(true)
        .send()
        .await
        .unwrap();
    let rollback = deployment_info(&w.cfg, &id)
        .await
        .rollback_info
        .and_then(|r| r.rollback_deployment_id)
        .expect("the stop started a rollback");
    let rb = deployment_info(&w.cfg, &rollback).await;
    assert_eq!(rb.creator, Some(DeploymentCreator::CodeDeployRollback));
    assert_eq!(rb.status, Some(DeploymentStatus::InProgress));
    (id, rollback)
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_switch_during_a_codedeploy_rollback_leaves_the_rollback_alone() {
    let acct = TestAccount::new();
    // CodeDeploy's time at 0.3: the rollback stays in flight for 9 s (30 scaled seconds).
    acct.control
        .post("/_ext/clock", json!({"scale": 0.3}))
        .await;
    let w = world_in(
        acct,
        Some(1),
        &[
            ("DEPLOYMENT_APPLICATION", APP.to_string()),
            ("DEPLOYMENT_GROUP", GROUP.to_string()),
        ],
    )
    .await;
    deployment_group(&w).await;
    let (original, rollback) = rollback_in_flight(&w).await;
    let stops = |acct: &TestAccount| {
        let control = acct.control.clone();
        async move { control.call_counts().await.get("StopDeployment").copied() }
    };
    assert_eq!(stops(&w.acct).await, Some(1), "the operator's stop");

    let out = invoke(&w.app, stop("alice")).await.unwrap();
    println!("stop answer during the rollback: {out:#}");
    assert_eq!(out["state"], "stopped");
    assert_eq!(out["failed"], json!([]), "{out:#}");
    let left = format!(
        "left rollback deployment {rollback} running: it returns live to the last good version"
    );
    assert_eq!(out["notes"], json!([left]), "{out:#}");
    assert!(
        !out["done"].to_string().contains("stopped deployment"),
        "{out:#}"
    );
    let (c, first) = held(&w.cfg).await;
    assert_eq!(c, Some(0));
    assert_eq!(first["guardian:previous-concurrency"], "1");

    // A second stop (an alarm firing the kill switch again) is as harmless.
    let again = invoke(
        &w.app,
        json!({"action": "stop", "reason": "second", "requested_by": "bob"}),
    )
    .await
    .unwrap();
    println!("second stop answer: {again:#}");
    assert_eq!(again["failed"], json!([]), "{again:#}");
    let notes = again["notes"].to_string();
    assert!(notes.contains("kept the first record"), "{again:#}");
    assert!(
        !again["done"].to_string().contains("stopped deployment"),
        "{again:#}"
    );
    let (c, tags) = held(&w.cfg).await;
    assert_eq!((c, &tags), (Some(0), &first), "the same record kept");

    // Nothing but the operator's stop reached CodeDeploy; the rollback finishes.
    assert_eq!(
        stops(&w.acct).await,
        Some(1),
        "the kill switch stopped nothing"
    );
    assert_eq!(
        w.acct.control.stopped_deployments().await,
        [json!({"deploymentId": original, "autoRollbackEnabled": true})]
    );
    let done = eventually("the rollback to finish", || async {
        let rb = deployment_info(&w.cfg, &rollback).await;
        let status = rb.status.clone()?;
        (status != aws_sdk_codedeploy::types::DeploymentStatus::InProgress).then_some(status)
    })
    .await;
    assert_eq!(
        done,
        aws_sdk_codedeploy::types::DeploymentStatus::Succeeded,
        "CodeDeploy's rollback ran to the end"
    );
    let alias = lambda(&w.cfg)
        .get_alias()
        .function_name(BOT)
        .name("live")
        .send()
        .await
        .unwrap();
    assert_eq!(alias.function_version.as_deref(), Some("1"));
    assert!(
        alias
            .routing_config
            .and_then(|r| r.additional_version_weights)
            .unwrap_or_default()
            .is_empty(),
        "live is all on the last good version"
    );
}
