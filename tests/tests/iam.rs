//! The emulator's IAM (tests/moto_ext/iam_policy.py, iam_authz.py), through the real SDK:
//! the evaluator itself (via IAM's own `SimulateCustomPolicy` / `SimulatePrincipalPolicy`),
//! and calls made as an assumed role, allowed or denied the way AWS answers them.

use aws_config::SdkConfig;
use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType};
use aws_smithy_types::error::display::DisplayErrorContext;
use e2e::{TestAccount, lambda_role, policy};
use serde_json::{Value, json};

async fn simulate(
    cfg: &SdkConfig,
    policies: &[Value],
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> PolicyEvaluationDecisionType {
    let mut req = aws_sdk_iam::Client::new(cfg)
        .simulate_custom_policy()
        .action_names(action)
        .resource_arns(resource);
    for p in policies {
        req = req.policy_input_list(p.to_string());
    }
    for (key, value) in context {
        req = req.context_entries(
            ContextEntry::builder()
                .context_key_name(*key)
                .context_key_values(*value)
                .context_key_type(ContextKeyTypeEnum::String)
                .build(),
        );
    }
    let out = req.send().await.expect("SimulateCustomPolicy");
    out.evaluation_results()[0].eval_decision().clone()
}

use PolicyEvaluationDecisionType::{Allowed, ExplicitDeny, ImplicitDeny};

/// A request to the evaluator: the policies, then action, resource and context keys, and the
/// decision IAM makes.
type Case<'a> = (
    &'a [Value],
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    PolicyEvaluationDecisionType,
);

/// Simulates every case in a fresh account, each against its own expected decision.
async fn decides(cases: &[Case<'_>]) {
    let cfg = TestAccount::new().sdk_config().await;
    for (policies, action, resource, context, want) in cases {
        assert_eq!(
            simulate(&cfg, policies, action, resource, context).await,
            *want,
            "{action} on {resource} with {context:?} under {policies:?}"
        );
    }
}

#[tokio::test]
async fn evaluator_allows_denies_and_an_explicit_deny_wins() {
    let topic = "arn:aws:sns:us-east-1:111122223333:alerts";
    let allow = policy(json!([{"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}]));
    let deny = policy(json!([{"Effect": "Deny", "Action": "sns:*", "Resource": "*"}]));
    let (allowed, denied) = ([allow.clone()], [allow, deny]);
    let other = format!("{topic}-2");
    decides(&[
        (&allowed, "sns:Publish", topic, &[], Allowed),
        (&allowed, "sns:Publish", &other, &[], ImplicitDeny),
        (&denied, "sns:Publish", topic, &[], ExplicitDeny),
    ])
    .await;
}

#[tokio::test]
async fn evaluator_wildcards_and_not_elements() {
    let versions = [policy(json!([
        {"Effect": "Allow", "Action": "lambda:Get*", "Resource": "arn:aws:lambda:*:*:function:bot:*"},
        {"Effect": "Allow", "Action": "sqs:?eceiveMessage", "Resource": "*"}
    ]))];
    let version = "arn:aws:lambda:us-east-1:1:function:bot:7";
    let not = [policy(json!([
        {"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "NotResource": "arn:aws:s3:::secret*"}
    ]))];
    decides(&[
        // `*` spans `:` and `/`; IAM action names are case-insensitive; `?` is one character.
        (&versions, "lambda:GetFunction", version, &[], Allowed),
        (&versions, "LAMBDA:getfunction", version, &[], Allowed),
        (
            &versions,
            "sqs:ReceiveMessage",
            "arn:aws:sqs:us-east-1:1:q",
            &[],
            Allowed,
        ),
        // `function:bot:*` covers the versions, not the unqualified function.
        (
            &versions,
            "lambda:GetFunction",
            "arn:aws:lambda:us-east-1:1:function:bot",
            &[],
            ImplicitDeny,
        ),
        (
            &not,
            "sns:Publish",
            "arn:aws:sns:us-east-1:1:t",
            &[],
            Allowed,
        ),
        (
            &not,
            "iam:PassRole",
            "arn:aws:iam::1:role/r",
            &[],
            ImplicitDeny,
        ),
        (
            &not,
            "s3:GetObject",
            "arn:aws:s3:::secret-bucket/k",
            &[],
            ImplicitDeny,
        ),
    ])
    .await;
}

#[tokio::test]
async fn evaluator_conditions_the_template_uses() {
    let role = "arn:aws:iam::111122223333:role/schedule-role";
    let pass = [policy(
        json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
        "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}}]),
    )];
    let tls = [policy(json!([
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"},
        {"Effect": "Deny", "Action": "sns:Publish", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Deny", "Action": "sns:Publish", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:SourceAccount": "111122223333"}}}
    ]))];
    let topic = "arn:aws:sns:us-east-1:111122223333:t";
    let like = [policy(
        json!([{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*",
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:events:*:111122223333:rule/stack-*"},
                      "StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}}]),
    )];
    let queue = "arn:aws:sqs:us-east-1:1:q";
    let (ours, theirs) = (
        "arn:aws:events:us-east-1:111122223333:rule/stack-alarms",
        "arn:aws:events:us-east-1:999999999999:rule/stack-alarms",
    );
    decides(&[
        (
            &pass,
            "iam:PassRole",
            role,
            &[("iam:PassedToService", "scheduler.amazonaws.com")],
            Allowed,
        ),
        (
            &pass,
            "iam:PassRole",
            role,
            &[("iam:PassedToService", "lambda.amazonaws.com")],
            ImplicitDeny,
        ),
        // A key missing from the request: a positive operator is false...
        (&pass, "iam:PassRole", role, &[], ImplicitDeny),
        // ...a negated one is true, and ...IfExists is true (IAM User Guide, condition
        // operators): StringNotEquals on the missing aws:SourceAccount denies the third.
        (
            &tls,
            "sns:Publish",
            topic,
            &[
                ("aws:SecureTransport", "true"),
                ("aws:SourceAccount", "111122223333"),
            ],
            Allowed,
        ),
        (
            &tls,
            "sns:Publish",
            topic,
            &[
                ("aws:SecureTransport", "false"),
                ("aws:SourceAccount", "111122223333"),
            ],
            ExplicitDeny,
        ),
        (
            &tls,
            "sns:Publish",
            topic,
            &[("aws:SecureTransport", "true")],
            ExplicitDeny,
        ),
        (
            &like,
            "sqs:SendMessage",
            queue,
            &[("aws:SourceArn", ours)],
            Allowed,
        ),
        (
            &like,
            "sqs:SendMessage",
            queue,
            &[("aws:SourceArn", theirs)],
            ImplicitDeny,
        ),
    ])
    .await;
}

/// A role trusted by Lambda with one inline policy, and the SDK config acting as it.
async fn role_with(acct: &TestAccount, name: &str, statements: Value) -> (String, SdkConfig) {
    let arn = lambda_role(&acct.sdk_config().await, name, Some(statements)).await;
    let cfg = acct.as_role(&arn, "test-session").await;
    (arn, cfg)
}

fn denied_message<E: std::error::Error>(e: E) -> String {
    DisplayErrorContext(&e).to_string()
}

#[tokio::test]
async fn an_assumed_role_is_held_to_its_policy_in_every_protocol() {
    let acct = TestAccount::new();
    let admin = acct.sdk_config().await;
    let sns_admin = aws_sdk_sns::Client::new(&admin);
    let allowed_topic = sns_admin
        .create_topic()
        .name("allowed")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let other_topic = sns_admin
        .create_topic()
        .name("other")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let queue = e2e::queue(&admin, "inbox").await;
    let (_, cfg) = role_with(&acct, "narrow", json!([
        {"Sid": "PublishOne", "Effect": "Allow", "Action": "sns:Publish", "Resource": allowed_topic},
        {"Sid": "ReadQueue", "Effect": "Allow", "Action": "sqs:GetQueueAttributes", "Resource": acct.arn("sqs", "inbox")}
    ])).await;
    let session = format!("arn:aws:sts::{}:assumed-role/narrow/test-session", acct.id);

    // awsQuery (SNS): allowed to one topic, AuthorizationError naming principal, action, resource on the other.
    let sns = aws_sdk_sns::Client::new(&cfg);
    sns.publish()
        .topic_arn(&allowed_topic)
        .message("m")
        .send()
        .await
        .expect("allowed publish");
    let e = denied_message(
        sns.publish()
            .topic_arn(&other_topic)
            .message("m")
            .send()
            .await
            .unwrap_err(),
    );
    assert!(
        e.contains("AuthorizationError")
            && e.contains(&session)
            && e.contains("sns:Publish")
            && e.contains(&other_topic),
        "{e}"
    );

    // JSON, query-compatible (SQS): allowed read, AccessDenied send.
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    sqs.get_queue_attributes()
        .queue_url(&queue)
        .send()
        .await
        .expect("allowed GetQueueAttributes");
    let e = denied_message(
        sqs.send_message()
            .queue_url(&queue)
            .message_body("x")
            .send()
            .await
            .unwrap_err(),
    );
    assert!(
        e.contains("AccessDenied")
            && e.contains("sqs:SendMessage")
            && e.contains(&acct.arn("sqs", "inbox")),
        "{e}"
    );

    // rest-json (Lambda), JSON 1.1 (CodeDeploy), RPC v2 CBOR (CloudWatch), rest-json (Scheduler).
    let e = denied_message(
        aws_sdk_lambda::Client::new(&cfg)
            .get_function_concurrency()
            .function_name("bot")
            .send()
            .await
            .unwrap_err(),
    );
    assert!(
        e.contains("AccessDeniedException")
            && e.contains("lambda:GetFunctionConcurrency")
            && e.contains(&acct.function_arn("bot")),
        "{e}"
    );
    let e = denied_message(
        aws_sdk_codedeploy::Client::new(&cfg)
            .list_deployments()
            .application_name("app")
            .deployment_group_name("group")
            .send()
            .await
            .unwrap_err(),
    );
    assert!(
        e.contains("AccessDeniedException")
            && e.contains("codedeploy:ListDeployments")
            && e.contains(&acct.arn("codedeploy", "deploymentgroup:app/group")),
        "{e}"
    );
    let e = denied_message(
        aws_sdk_cloudwatch::Client::new(&cfg)
            .describe_alarms()
            .alarm_names("errors")
            .send()
            .await
            .unwrap_err(),
    );
    assert!(
        e.contains("AccessDenied")
            && e.contains("cloudwatch:DescribeAlarms")
            && e.contains(&acct.arn("cloudwatch", "alarm:errors")),
        "{e}"
    );
    let e = denied_message(
        aws_sdk_scheduler::Client::new(&cfg)
            .get_schedule()
            .name("tick")
            .group_name("g")
            .send()
            .await
            .unwrap_err(),
    );
    assert!(
        e.contains("AccessDeniedException")
            && e.contains("scheduler:GetSchedule")
            && e.contains(&acct.arn("scheduler", "schedule/g/tick")),
        "{e}"
    );

    // Every decision is recorded, with the statement that allowed it.
    let calls = acct.control.get("/_ext/iam/calls").await;
    let calls = calls.as_array().expect("list of calls");
    let publish = calls
        .iter()
        .find(|c| c["action"] == "sns:Publish" && c["allowed"] == true)
        .expect("recorded publish");
    assert_eq!(publish["statements"][0]["sid"], "PublishOne");
    assert_eq!(calls.iter().filter(|c| c["allowed"] == false).count(), 6);
}

#[tokio::test]
async fn update_schedule_needs_pass_role_for_the_schedule_role() {
    let acct = TestAccount::new();
    let admin = acct.sdk_config().await;
    let scheduler = aws_sdk_scheduler::Client::new(&admin);
    let target_role = acct
        .arn("iam", "role/schedule-role")
        .replace(":us-east-1:", "::");
    scheduler
        .create_schedule_group()
        .name("g")
        .send()
        .await
        .expect("CreateScheduleGroup");
    let window = aws_sdk_scheduler::types::FlexibleTimeWindow::builder()
        .mode(aws_sdk_scheduler::types::FlexibleTimeWindowMode::Off)
        .build()
        .unwrap();
    let target = aws_sdk_scheduler::types::Target::builder()
        .arn(acct.function_arn("bot"))
        .role_arn(&target_role)
        .build()
        .unwrap();
    scheduler
        .create_schedule()
        .name("tick")
        .group_name("g")
        .schedule_expression("rate(5 minutes)")
        .flexible_time_window(window.clone())
        .target(target.clone())
        .send()
        .await
        .expect("CreateSchedule");
    let schedule_arn = acct.arn("scheduler", "schedule/g/tick");
    let update = |cfg: SdkConfig| {
        let (window, target) = (window.clone(), target.clone());
        async move {
            aws_sdk_scheduler::Client::new(&cfg)
                .update_schedule()
                .name("tick")
                .group_name("g")
                .schedule_expression("rate(5 minutes)")
                .flexible_time_window(window)
                .target(target)
                .state(aws_sdk_scheduler::types::ScheduleState::Disabled)
                .send()
                .await
        }
    };
    let (_, without) = role_with(&acct, "no-pass", json!([{"Effect": "Allow",
        "Action": ["scheduler:GetSchedule", "scheduler:UpdateSchedule"], "Resource": schedule_arn}])).await;
    let e = denied_message(update(without).await.unwrap_err());
    assert!(
        e.contains("iam:PassRole") && e.contains(&target_role),
        "{e}"
    );
    let (_, with) = role_with(&acct, "with-pass", json!([
        {"Effect": "Allow", "Action": ["scheduler:GetSchedule", "scheduler:UpdateSchedule"], "Resource": schedule_arn},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": target_role,
         "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}}])).await;
    update(with)
        .await
        .expect("UpdateSchedule with PassRole for the scheduler");
}

#[tokio::test]
async fn the_report_names_used_unused_and_unnecessary_statements() {
    let acct = TestAccount::new();
    let admin = acct.sdk_config().await;
    let topic = aws_sdk_sns::Client::new(&admin)
        .create_topic()
        .name("t")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let (_, cfg) = role_with(
        &acct,
        "reported",
        json!([
            {"Sid": "Exact", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic},
            {"Sid": "Overlapping", "Effect": "Allow", "Action": "sns:*", "Resource": topic},
            {"Sid": "Unused", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
        ]),
    )
    .await;
    aws_sdk_sns::Client::new(&cfg)
        .publish()
        .topic_arn(&topic)
        .message("m")
        .send()
        .await
        .unwrap();
    let report = acct.control.get("/_ext/iam/report").await;
    let rows = report["reported"]["statements"]
        .as_array()
        .expect("statements")
        .clone();
    let row = |sid: &str| rows.iter().find(|r| r["sid"] == sid).cloned().expect(sid);
    // Both publish statements allowed the call; neither alone is necessary (the other covers it).
    assert_eq!(
        (
            row("Exact")["calls"].as_u64(),
            row("Exact")["necessary"].as_bool()
        ),
        (Some(1), Some(false))
    );
    assert_eq!(
        (
            row("Overlapping")["calls"].as_u64(),
            row("Overlapping")["necessary"].as_bool()
        ),
        (Some(1), Some(false))
    );
    assert_eq!(
        (
            row("Unused")["calls"].as_u64(),
            row("Unused")["necessary"].as_bool()
        ),
        (Some(0), Some(false))
    );
}

#[tokio::test]
async fn composite_alarms_are_readable_only_with_describe_alarms_on_star() {
    use aws_sdk_cloudwatch::types::AlarmType;
    let acct = TestAccount::new();
    let alarm = acct.arn("cloudwatch", "alarm:errors");
    let (_, scoped) = role_with(
        &acct,
        "scoped",
        json!([{"Effect": "Allow",
        "Action": "cloudwatch:DescribeAlarms", "Resource": alarm}]),
    )
    .await;
    let (_, star) = role_with(
        &acct,
        "star",
        json!([{"Effect": "Allow",
        "Action": "cloudwatch:DescribeAlarms", "Resource": "*"}]),
    )
    .await;
    let describe = |cfg: SdkConfig, kind: AlarmType| async move {
        aws_sdk_cloudwatch::Client::new(&cfg)
            .describe_alarms()
            .alarm_names("errors")
            .alarm_types(kind)
            .send()
            .await
    };
    describe(scoped.clone(), AlarmType::MetricAlarm)
        .await
        .expect("metric alarms with a scoped grant");
    let e = denied_message(
        describe(scoped, AlarmType::CompositeAlarm)
            .await
            .unwrap_err(),
    );
    assert!(
        e.contains("cloudwatch:DescribeAlarms") && e.contains("on resource: *"),
        "{e}"
    );
    describe(star, AlarmType::CompositeAlarm)
        .await
        .expect("composite alarms with DescribeAlarms on *");
}
