//! The emulator extension (tests/moto_ext) closes moto's gaps the way AWS behaves; each
//! case here goes through the real Rust SDK over HTTP, as the functions do.

use std::time::Duration;

use aws_sdk_cloudwatch::types::StateValue;
use aws_sdk_codedeploy::types::DeploymentStatus;
use e2e::{
    AppSpec, TestAccount, deployment, deployment_group, deployment_info, errors_alarm,
    guarded_function, reserve_concurrency, set_alarm_state, topic_with_queue,
};
use guardian::publication::Publication;
use guardian_aws::codedeploy::{CodeDeploy, HookStatus, Reported, Revision};
use guardian_aws::deadline::Deadline;
use guardian_aws::lambda::Lambda;
use guardian_aws::sns::Sns;
use serde_json::json;

/// A deployment of `content` in group `group` of application `app`: its id.
async fn appspec_deployment(acct: &TestAccount, content: &str) -> String {
    deployment_group(acct, "app", "group", None).await;
    let cfg = acct.sdk_config().await;
    deployment(&cfg, "app", "group", AppSpec::Content(content)).await
}

#[tokio::test]
async fn codedeploy_records_one_hook_status_per_execution() {
    let acct = TestAccount::new();
    let id = appspec_deployment(&acct, r#"{"version": 0.0}"#).await;
    let cd = CodeDeploy::from_sdk(&acct.sdk_config().await);

    assert_eq!(
        cd.revision(&id).await.unwrap(),
        Revision::AppSpecContent(r#"{"version": 0.0}"#.into())
    );
    assert_eq!(
        cd.report_hook_status(&id, "exec-1", HookStatus::Failed)
            .await
            .unwrap(),
        Reported::Recorded
    );
    // Lambda retries async hook invocations: the second report is refused, as in AWS.
    assert_eq!(
        cd.report_hook_status(&id, "exec-1", HookStatus::Succeeded)
            .await
            .unwrap(),
        Reported::AlreadyCompleted
    );
    let unknown = cd
        .report_hook_status("d-NOTEXIST", "exec-2", HookStatus::Succeeded)
        .await
        .unwrap_err();
    assert_eq!(
        unknown.code.as_deref(),
        Some("DeploymentDoesNotExistException")
    );

    let recorded = acct.control.hook_statuses().await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["status"], "Failed");
    assert_eq!(recorded[0]["lifecycleEventHookExecutionId"], "exec-1");
}

#[tokio::test]
async fn codedeploy_stop_deployment_rolls_back_in_flight_only() {
    let acct = TestAccount::new();
    let id = appspec_deployment(&acct, "version: 0.0\n").await;
    let cfg = acct.sdk_config().await;
    let cd = CodeDeploy::from_sdk(&cfg);
    acct.control.set_deployment_status(&id, "InProgress").await;
    assert_eq!(
        cd.in_flight_deployments("app", "group").await.unwrap(),
        vec![guardian_aws::codedeploy::InFlight {
            id: id.clone(),
            rollback: false
        }]
    );

    cd.stop_deployment(&id, true).await.unwrap();
    let info = deployment_info(&cfg, &id).await;
    assert_eq!(info.status, Some(DeploymentStatus::Stopped));
    assert_eq!(
        acct.control.stopped_deployments().await,
        vec![json!({"deploymentId": id, "autoRollbackEnabled": true})]
    );
    assert!(
        cd.in_flight_deployments("app", "group")
            .await
            .unwrap()
            .is_empty()
    );
    let again = cd.stop_deployment(&id, true).await.unwrap_err();
    assert_eq!(
        again.code.as_deref(),
        Some("DeploymentAlreadyCompletedException")
    );
}

#[tokio::test]
async fn lambda_invoke_honours_qualifier_and_unknown_targets() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    guarded_function(&cfg, "trading-bot", 2).await;
    let lambda = Lambda::from_sdk(&cfg);

    let v2 = lambda
        .invoke("trading-bot", Some("2"), b"{}")
        .await
        .unwrap();
    assert_eq!(v2.executed_version.as_deref(), Some("2"));
    let live = lambda
        .invoke("trading-bot", Some("live"), b"{}")
        .await
        .unwrap();
    assert_eq!(live.executed_version.as_deref(), Some("1"));
    let answer: serde_json::Value = serde_json::from_slice(&live.payload).unwrap();
    assert_eq!(answer, json!({"status": "ok", "version": "1"}));

    for (function, qualifier) in [("no-such-function", None), ("trading-bot", Some("9"))] {
        let err = lambda.invoke(function, qualifier, b"{}").await.unwrap_err();
        assert_eq!(
            err.code.as_deref(),
            Some("ResourceNotFoundException"),
            "{function}:{qualifier:?}"
        );
    }
}

#[tokio::test]
async fn lambda_queued_results_carry_function_errors_and_delays() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    guarded_function(&cfg, "trading-bot", 2).await;
    acct.control
        .queue_invoke_results(
            "trading-bot",
            Some("2"),
            vec![
                json!({"payload": {"errorType": "Boom", "errorMessage": "bad build"}, "function_error": "Unhandled"}),
                json!({"payload": {"errorType": "Handled"}, "function_error": "Handled", "log": "tail line"}),
                json!({"payload": {}, "delay_ms": 5000}),
            ],
        )
        .await;
    let lambda = Lambda::from_sdk(&cfg);

    let unhandled = lambda
        .invoke("trading-bot", Some("2"), b"{}")
        .await
        .unwrap();
    assert_eq!(unhandled.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(unhandled.status_code, 200);
    let handled = lambda
        .invoke("trading-bot", Some("2"), b"{}")
        .await
        .unwrap();
    assert_eq!(handled.function_error.as_deref(), Some("Handled"));
    assert!(handled.log_tail.unwrap_or_default().contains("tail line"));
    // A hanging target: the caller's deadline, not the target, ends the wait.
    let hang = Deadline::after(Duration::from_millis(1500))
        .bound(
            Duration::from_millis(500),
            lambda.invoke("trading-bot", Some("2"), b"{}"),
        )
        .await;
    assert!(
        hang.is_err(),
        "the queued 5 s delay outlasts the 1 s budget"
    );
}

#[tokio::test]
async fn lambda_reserved_concurrency_zero_throttles_sync_invokes_and_queues_events() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    guarded_function(&cfg, "trading-bot", 1).await;
    reserve_concurrency(&cfg, "trading-bot", 0).await;
    let lambda = Lambda::from_sdk(&cfg);
    assert_eq!(
        lambda.reserved_concurrency("trading-bot").await.unwrap(),
        Some(0)
    );
    let sync = lambda
        .invoke("trading-bot", Some("1"), b"{}")
        .await
        .unwrap_err();
    assert_eq!(sync.code.as_deref(), Some("TooManyRequestsException"));
    // An event is accepted (202) and never runs: at reserved concurrency 0 Lambda sends it to
    // the DLQ / on-failure destination without retries (none here, so it is dropped).
    lambda
        .invoke_async("trading-bot", None, b"{}")
        .await
        .expect("async invokes are accepted at reserved concurrency 0");
}

#[tokio::test]
async fn lambda_async_invokes_are_recorded_at_the_target() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    guarded_function(&cfg, "trading-bot", 1).await;
    let lambda = Lambda::from_sdk(&cfg);
    lambda
        .invoke_async("trading-bot", Some("live"), br#"{"tick": 1}"#)
        .await
        .unwrap();
    let seen = acct.control.invocations("trading-bot").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["invocation_type"], "Event");
    assert_eq!(seen[0]["qualifier"], "live");
    assert_eq!(seen[0]["payload"], json!({"tick": 1}));
}

#[tokio::test]
async fn sns_rejects_subjects_and_structures_aws_rejects() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    let (topic, inbox) = topic_with_queue(&cfg, "alerts").await;
    let sns = aws_sdk_sns::Client::new(&cfg);
    let long = "x".repeat(100);
    for bad in ["", "two\nlines", "bell\u{7}", long.as_str(), "caf\u{e9}"] {
        let err = sns
            .publish()
            .topic_arn(&topic)
            .subject(bad)
            .message("m")
            .send()
            .await
            .unwrap_err();
        let err = guardian_aws::error::AwsCallError::from_sdk("Publish", err);
        assert_eq!(
            err.code.as_deref(),
            Some("InvalidParameter"),
            "subject {bad:?}"
        );
    }
    let no_default = sns
        .publish()
        .topic_arn(&topic)
        .message(r#"{"email": "only email"}"#)
        .message_structure("json")
        .send()
        .await
        .unwrap_err();
    let no_default = guardian_aws::error::AwsCallError::from_sdk("Publish", no_default);
    assert_eq!(no_default.code.as_deref(), Some("InvalidParameter"));
    assert!(
        e2e::notifications(&cfg, &inbox).await.is_empty(),
        "nothing rejected was delivered"
    );

    // Through our adapter the same subject is made safe and goes out.
    let ours = Sns::new(sns);
    ours.publish(
        &topic,
        &Publication {
            subject: Some(format!("two\nlines {long}")),
            message: "body".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let delivered = e2e::notifications(&cfg, &inbox).await;
    assert_eq!(delivered.len(), 1);
    assert!(
        delivered[0]["Subject"]
            .as_str()
            .unwrap()
            .starts_with("two lines x")
    );
}

#[tokio::test]
async fn sns_batch_rejects_bad_entries_individually() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    let (topic, inbox) = topic_with_queue(&cfg, "alerts").await;
    let client = aws_sdk_sns::Client::new(&cfg);
    let entry = |id: &str, structure: Option<&str>, message: &str| {
        aws_sdk_sns::types::PublishBatchRequestEntry::builder()
            .id(id)
            .message(message)
            .set_message_structure(structure.map(str::to_string))
            .build()
            .unwrap()
    };
    let out = client
        .publish_batch()
        .topic_arn(&topic)
        .publish_batch_request_entries(entry(
            "good",
            Some("json"),
            r#"{"default": "d", "sqs": "for queues"}"#,
        ))
        .publish_batch_request_entries(entry("bad", Some("json"), r#"{"sqs": "no default"}"#))
        .send()
        .await
        .unwrap();
    let failed = out.failed.unwrap_or_default();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].id.as_str(), failed[0].code.as_str()),
        ("bad", "InvalidParameter")
    );
    let delivered = e2e::notifications(&cfg, &inbox).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0]["Message"], "for queues");
}

#[tokio::test]
async fn throttled_publish_succeeds_on_sdk_retry_and_is_counted() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    let (topic, inbox) = topic_with_queue(&cfg, "alerts").await;
    acct.control
        .inject_fault("Publish", 2, 400, "Throttling")
        .await;
    let sns = Sns::from_sdk(&cfg);
    let publication = Publication {
        subject: Some("retried".into()),
        message: "after two throttles".into(),
        ..Default::default()
    };
    sns.publish(&topic, &publication).await.unwrap();
    assert_eq!(acct.control.call_counts().await.get("Publish"), Some(&3));
    assert_eq!(e2e::notifications(&cfg, &inbox).await.len(), 1);

    // Three 500s exhaust the default three attempts: the error keeps the AWS code.
    acct.control
        .inject_fault("Publish", 3, 500, "InternalError")
        .await;
    let err = sns.publish(&topic, &publication).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("InternalError"));
    assert!(e2e::notifications(&cfg, &inbox).await.is_empty());
}

#[tokio::test]
async fn cloudwatch_alarms_are_reachable_from_the_rust_sdk() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    for name in ["trading-bot-errors", "trading-bot-throttles"] {
        errors_alarm(&cfg, name).send().await.unwrap();
    }
    set_alarm_state(
        &cfg,
        "trading-bot-errors",
        StateValue::Alarm,
        "Threshold Crossed: 3 errors",
    )
    .await;
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let alarming = cw
        .describe_alarms()
        .state_value(StateValue::Alarm)
        .send()
        .await
        .unwrap()
        .metric_alarms
        .unwrap_or_default();
    let names: Vec<_> = alarming
        .iter()
        .filter_map(|a| a.alarm_name.as_deref())
        .collect();
    assert_eq!(names, ["trading-bot-errors"]);
    assert_eq!(
        alarming[0].state_reason.as_deref(),
        Some("Threshold Crossed: 3 errors")
    );
}

#[tokio::test]
async fn email_and_sms_subscribers_get_their_own_rendering() {
    let acct = TestAccount::new();
    let cfg = acct.sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&cfg);
    let topic = sns
        .create_topic()
        .name("alerts")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    for (protocol, endpoint) in [("email", "oncall@example.com"), ("sms", "+15555550100")] {
        sns.subscribe()
            .topic_arn(&topic)
            .protocol(protocol)
            .endpoint(endpoint)
            .send()
            .await
            .unwrap();
    }
    Sns::new(sns)
        .publish(
            &topic,
            &Publication {
                subject: Some("ALARM: errors".into()),
                message: json!({"default": "d", "email": "full text", "sms": "short"}).to_string(),
                per_protocol: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let email = acct.control.deliveries("email").await;
    assert_eq!(email.len(), 1);
    assert_eq!(
        (email[0]["subject"].as_str(), email[0]["message"].as_str()),
        (Some("ALARM: errors"), Some("full text"))
    );
    let sms = acct.control.deliveries("sms").await;
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0]["message"], "short");
}
