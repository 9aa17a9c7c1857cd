//! Kill switch against the emulator: the real handler, the real SDK, real HTTP. Each test
//! checks what the guarded function, CodeDeploy, the scheduler and the alert topic hold
//! afterwards, not only what the handler answered.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::types::ComparisonOperator;
use aws_sdk_codedeploy::types::{DeploymentCreator, DeploymentStatus, LifecycleEventStatus};
use e2e::handlers::{BOT, KillSwitchWorld};
use e2e::{
    AppSpec, Rollout, TestAccount, answer_hook, appspec, deployment, deployment_group,
    deployment_info, errors_alarm, eventually, guarded_function, live_alias, publish_build, queue,
    visible_messages,
};
use guardian_aws::error::ErrorType;
use serde_json::{Value, json};

const APP: &str = "bot-app";
const GROUP: &str = "bot-group";
const HOOK: &str = "CodeDeployHook_pre";
const ALARM: &str = "trading-bot-errors";

fn lambda(cfg: &aws_config::SdkConfig) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(cfg)
}

fn stop(by: &str) -> Value {
    json!({"action": "stop", "reason": "bad fills since 03:00", "requested_by": by})
}

fn resume(by: &str) -> Value {
    json!({"action": "resume", "reason": "fix verified", "requested_by": by})
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
        let w = KillSwitchWorld::new(start, &[]).await;

        let stopped = w.invoke(stop("alice")).await.unwrap();
        println!("stop answer: {stopped:#}");
        assert_eq!(stopped["state"], "stopped");
        assert_eq!(stopped["alert_failed"], false);
        let (c, tags) = w.held().await;
        assert_eq!(c, Some(0), "start {start:?}");
        assert_eq!(tags["guardian:previous-concurrency"], tag);
        assert_eq!(tags["guardian:stopped-by"], "alice");
        assert_eq!(tags["guardian:stop-reason"], "bad fills since 03:00");
        assert!(tags["guardian:stopped-at"].ends_with('Z'));

        let status = w.invoke(json!({"action": "status"})).await.unwrap();
        println!("status answer: {status:#}");
        assert_eq!(status["state"], "stopped");
        assert_eq!(status["by"], "alice");
        assert_eq!(status["since"], tags["guardian:stopped-at"].as_str());
        assert_eq!(status["reserved_concurrency"], 0);

        let resumed = w.invoke(resume("bob")).await.unwrap();
        println!("resume answer: {resumed:#}");
        assert_eq!(resumed["state"], "running");
        let (c, tags) = w.held().await;
        assert_eq!(c, start, "restored exactly");
        assert!(tags.is_empty(), "record cleared: {tags:?}");

        let alerts = e2e::notifications(&w.cfg, &w.alerts).await;
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
    let w = KillSwitchWorld::new(Some(1), &[]).await;
    w.invoke(stop("alice")).await.unwrap();
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

    w.invoke(resume("alice")).await.unwrap();
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
    let w = KillSwitchWorld::new(Some(1), &[("DEPLOYMENT_GROUPS", format!("{APP}/{GROUP}"))]).await;
    deployment_group(&w.acct, APP, GROUP, None).await;
    let id = deployment(
        &w.cfg,
        APP,
        GROUP,
        AppSpec::Content(&appspec(BOT, None, None)),
    )
    .await;
    w.acct
        .control
        .set_deployment_status(&id, "InProgress")
        .await;

    let out = w.invoke(stop("alice")).await.unwrap();
    assert_eq!(out["failed"], json!([]), "{out:#}");
    let stopped = w.acct.control.stopped_deployments().await;
    assert_eq!(
        stopped,
        [json!({"deploymentId": id, "autoRollbackEnabled": true})]
    );
    let status = deployment_info(&w.cfg, &id).await.status;
    assert_eq!(status, Some(DeploymentStatus::Stopped));
    assert_eq!(w.held().await.0, Some(0));
}

#[tokio::test]
async fn stop_with_sns_failing_still_stops_and_says_the_alert_failed() {
    let w = KillSwitchWorld::new(Some(5), &[]).await;
    w.acct
        .control
        .inject_fault("Publish", 10, 500, "InternalError")
        .await;
    let out = w.invoke(stop("alice")).await.unwrap();
    println!("stop answer with SNS down: {out:#}");
    assert_eq!(out["state"], "stopped");
    assert_eq!(out["alert_failed"], true);
    assert_eq!(out["failed"][0]["step"], "alert");
    let (c, tags) = w.held().await;
    assert_eq!(c, Some(0));
    assert_eq!(tags["guardian:previous-concurrency"], "5");
    assert!(e2e::notifications(&w.cfg, &w.alerts).await.is_empty());
}

#[tokio::test]
async fn a_second_stop_keeps_the_first_record_and_resume_on_running_is_a_no_op() {
    let w = KillSwitchWorld::new(Some(5), &[]).await;
    let before = writes(&w.acct).await;
    let noop = w.invoke(resume("bob")).await.unwrap();
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

    w.invoke(stop("alice")).await.unwrap();
    let (_, first) = w.held().await;
    let again = w
        .invoke(json!({"action": "stop", "reason": "second", "requested_by": "bob"}))
        .await
        .unwrap();
    assert!(
        again["notes"][0]
            .as_str()
            .unwrap()
            .contains("kept the first record")
    );
    let (c, tags) = w.held().await;
    assert_eq!((c, &tags), (Some(0), &first));
    assert_eq!(tags["guardian:stopped-by"], "alice");

    w.invoke(resume("bob")).await.unwrap();
    assert_eq!(w.held().await.0, Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_stops_and_resumes_end_consistent() {
    for start in [Some(5), None] {
        let w = Arc::new(KillSwitchWorld::new(start, &[]).await);
        let original = start.map_or("none".to_string(), |n| n.to_string());
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let w = w.clone();
                // Interleaved, with runs of the same action so stops meet stops too.
                let payload = if (i * 7) % 3 == 0 {
                    resume("r")
                } else {
                    stop("s")
                };
                tokio::spawn(async move { w.invoke(payload).await })
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
        let (c, tags) = w.held().await;
        match tags.get("guardian:previous-concurrency") {
            Some(previous) => {
                assert_eq!(c, Some(0), "a record means stopped");
                assert_eq!(previous, &original, "the original value is recorded");
            }
            None => assert_eq!(c, start, "no record means running as before"),
        }
        w.invoke(resume("final")).await.unwrap();
        let (c, tags) = w.held().await;
        assert_eq!(c, start, "a final resume restores the original");
        assert!(tags.is_empty());
    }
}

#[tokio::test]
async fn bad_inputs_are_errors_that_change_nothing() {
    let w = KillSwitchWorld::new(Some(5), &[]).await;
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
        let err = w.invoke(payload.clone()).await.unwrap_err();
        assert_eq!(err.error_type(), kind, "{payload}: {err}");
        println!("{payload} -> {kind}: {err}");
    }
    let (c, tags) = w.held().await;
    assert_eq!((c, tags.len()), (Some(5), 0));
    assert_eq!(writes(&w.acct).await, before, "no write reached AWS");
    assert!(e2e::notifications(&w.cfg, &w.alerts).await.is_empty());
}

#[tokio::test]
async fn an_alarm_event_halts_trading() {
    let w = KillSwitchWorld::new(Some(1), &[]).await;
    let event: Value =
        serde_json::from_str(include_str!("../../events/kill-switch-alarm.json")).unwrap();
    let out = w.invoke(event.clone()).await.unwrap();
    assert_eq!(out["state"], "stopped");
    let (c, tags) = w.held().await;
    assert_eq!(c, Some(0));
    assert_eq!(tags["guardian:stopped-by"], "alarm:trading-bot-errors");
    assert!(
        tags["guardian:stop-reason"]
            .starts_with("auto-halt: alarm trading-bot-errors entered ALARM")
    );

    let mut ok = event;
    ok["detail"]["state"]["value"] = json!("OK");
    let ignored = w.invoke(ok).await.unwrap();
    assert!(ignored["ignored"].is_string());
    assert_eq!(w.held().await.0, Some(0), "an OK alarm does not resume");
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
    let w = KillSwitchWorld::in_account(
        acct,
        Some(1),
        &[
            ("SCHEDULE_NAMES", "bot-tick".into()),
            ("DLQ_URL", dlq.clone()),
        ],
    )
    .await;
    let state = |w: &KillSwitchWorld| {
        let s = aws_sdk_scheduler::Client::new(&w.cfg);
        async move {
            let out = s.get_schedule().name("bot-tick").send().await.unwrap();
            (out.state, out.target.and_then(|t| t.input))
        }
    };

    let out = w.invoke(stop("alice")).await.unwrap();
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
    let out = w.invoke(resume("alice")).await.unwrap();
    println!("resume answer with backlog: {out:#}");
    assert_eq!(out["dlq_messages"], 3);
    assert_eq!(
        state(&w).await.0,
        Some(aws_sdk_scheduler::types::ScheduleState::Enabled)
    );
    assert_eq!(visible_messages(&w.cfg, &dlq).await, 3, "nothing replayed");
}

// ------------------------------------------------- during CodeDeploy's own rollback (#17)

/// A Lambda deployment group the emulator's CodeDeploy engine runs, as SAM makes it (the
/// service role with AWSCodeDeployRoleForLambda, an alarm, automatic rollback on failure,
/// alarm and stop request), with a pre-traffic hook named `CodeDeployHook_*`. The guarded
/// function gets version 2, the deployment's target.
async fn sam_deployment_group(w: &KillSwitchWorld) {
    assert_eq!(publish_build(&w.cfg, BOT, "build 2").await, "2");
    guarded_function(&w.cfg, HOOK, 0).await;
    errors_alarm(&w.cfg, ALARM)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();
    let rollout = Rollout {
        config: "CodeDeployDefault.LambdaCanary10Percent30Minutes",
        alarm: ALARM,
    };
    deployment_group(&w.acct, APP, GROUP, Some(rollout)).await;
}

/// A canary deployment of version 2, its hook passed and 10 % on version 2, then stopped by
/// an operator with rollback: returns (the stopped deployment, CodeDeploy's rollback of it,
/// in flight).
async fn rollback_in_flight(w: &KillSwitchWorld) -> (String, String) {
    let appspec = appspec(BOT, Some(HOOK), None);
    let id = deployment(&w.cfg, APP, GROUP, AppSpec::Content(&appspec)).await;
    // The hook (a scripted function here) passes: answer CodeDeploy as it would.
    answer_hook(&w.acct, HOOK, LifecycleEventStatus::Succeeded).await;
    eventually("10 % on version 2", Duration::from_secs(30), || async {
        let (_, weights) = live_alias(&w.cfg, BOT).await;
        weights.contains_key("2").then_some(())
    })
    .await;
    aws_sdk_codedeploy::Client::new(&w.cfg)
        .stop_deployment()
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
    acct.control.scale_time(0.3).await;
    let w = KillSwitchWorld::in_account(
        acct,
        Some(1),
        &[("DEPLOYMENT_GROUPS", format!("{APP}/{GROUP}"))],
    )
    .await;
    sam_deployment_group(&w).await;
    let (original, rollback) = rollback_in_flight(&w).await;
    let stops = |acct: &TestAccount| {
        let control = acct.control.clone();
        async move { control.call_counts().await.get("StopDeployment").copied() }
    };
    assert_eq!(stops(&w.acct).await, Some(1), "the operator's stop");

    let out = w.invoke(stop("alice")).await.unwrap();
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
    let (c, first) = w.held().await;
    assert_eq!(c, Some(0));
    assert_eq!(first["guardian:previous-concurrency"], "1");

    // A second stop (an alarm firing the kill switch again) is as harmless.
    let again = w
        .invoke(json!({"action": "stop", "reason": "second", "requested_by": "bob"}))
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
    let (c, tags) = w.held().await;
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
    let done = eventually(
        "the rollback to finish",
        Duration::from_secs(30),
        || async {
            let rb = deployment_info(&w.cfg, &rollback).await;
            let status = rb.status.clone()?;
            (status != DeploymentStatus::InProgress).then_some(status)
        },
    )
    .await;
    assert_eq!(
        done,
        DeploymentStatus::Succeeded,
        "CodeDeploy's rollback ran to the end"
    );
    let (version, weights) = live_alias(&w.cfg, BOT).await;
    assert_eq!(version, "1");
    assert!(weights.is_empty(), "live is all on the last good version");
}
