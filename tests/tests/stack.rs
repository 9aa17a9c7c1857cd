//! What we test is what ships: `template.yaml` itself, deployed into the emulator by its
//! CloudFormation (SAM transform included), every function running its own code as its own
//! role. Each mutation below is a fault a real `sam deploy` would hit; each must turn red
//! here, naming its cause.

use std::time::Duration;

use aws_sdk_cloudwatch::types::StateValue;
use e2e::{STACK, Template, TestAccount, World, letters};
use serde_json::{Value, json};

/// Parameters that switch every condition of the template on (the central topic and key need
/// not exist for the stack to be created: only the grants name them).
const EVERYTHING: [(&str, &str); 5] = [
    ("AlertEmail", e2e::ONCALL_EMAIL),
    ("ChatNotifications", "enabled"),
    ("HaltOnAlarms", "rollout-guardian-guarded-errors"),
    (
        "CentralAlertsTopicArn",
        "arn:aws:sns:us-east-1:999999999999:org-alerts",
    ),
    (
        "CentralAlertsKeyArn",
        "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
];

async fn summary(acct: &TestAccount) -> Value {
    acct.control
        .get(&format!("/_ext/cloudformation/summary?stack={STACK}"))
        .await
}

#[tokio::test]
async fn every_resource_of_the_translated_template_is_created() {
    let acct = TestAccount::new();
    let world = World::deploy(acct, &Template::Repository, &EVERYTHING)
        .await
        .unwrap_or_else(|e| panic!("template.yaml did not deploy:\n{e}"));
    let summary = summary(&world.acct).await;
    let (created, translated) = (summary["created"].as_u64(), summary["translated"].as_u64());
    assert!(created.is_some() && created == translated, "{summary}");
    assert!(
        summary["skipped_by_condition"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "{summary}"
    );
    // The hooks carry the template's environment: the version this deployment published.
    let lambda = aws_sdk_lambda::Client::new(&world.admin);
    let hook = lambda
        .get_function_configuration()
        .function_name(world.name("PreTrafficHookFunction"))
        .send()
        .await
        .expect("GetFunctionConfiguration");
    let env = hook
        .environment
        .and_then(|e| e.variables)
        .unwrap_or_default();
    let guarded = world.name("GuardedFunction");
    assert_eq!(
        env.get("TARGET_VERSION").map(String::as_str),
        Some(format!("{}:1", world.acct.function_arn(&guarded)).as_str()),
        "{env:?}"
    );
    assert_eq!(world.reserved_concurrency().await, Some(1));
    assert_eq!(world.live().await.0, "1");
}

#[tokio::test]
async fn a_dead_letter_queue_the_role_cannot_write_stops_the_stack() {
    // Today's fault: four functions had a DeadLetterQueue their role could not write to.
    let acct = TestAccount::new();
    let template = Template::mutated_in(
        "KillSwitchRole",
        "              - Sid: FailedEventsToFailureQueue\n                Effect: Allow\n                Action: sqs:SendMessage\n                Resource: !GetAtt GuardianFailureQueue.Arn\n",
        "",
    );
    let failure = match World::deploy(acct, &template, &[]).await {
        Ok(_) => panic!("a function whose role cannot write its DLQ was created"),
        Err(failure) => failure,
    };
    assert!(
        failure.contains("KillSwitchFunction") && failure.contains("SendMessage"),
        "the failure names the function and the missing permission:\n{failure}"
    );
}

#[tokio::test]
async fn a_reference_to_a_renamed_resource_stops_the_stack_before_anything_is_created() {
    let acct = TestAccount::new();
    let template = Template::mutated_in(
        "KillSwitchFunction",
        "ALERT_TOPIC_ARN: !Ref CriticalTopic",
        "ALERT_TOPIC_ARN: !Ref CriticalAlertsTopic",
    );
    let failure = match World::deploy(acct.clone(), &template, &[]).await {
        Ok(_) => panic!("a template with a dangling Ref deployed"),
        Err(failure) => failure,
    };
    assert!(failure.contains("CriticalAlertsTopic"), "{failure}");
    let functions = aws_sdk_lambda::Client::new(&acct.sdk_config().await)
        .list_functions()
        .send()
        .await
        .expect("ListFunctions")
        .functions
        .unwrap_or_default();
    assert!(functions.is_empty(), "nothing is created: {functions:?}");
}

#[tokio::test]
async fn the_kill_switch_without_pass_role_cannot_pause_the_schedule() {
    let acct = TestAccount::new();
    let template = Template::mutated_in(
        "KillSwitchRole",
        "                - Sid: PassGuardedScheduleRole\n                  Effect: Allow\n                  Action: iam:PassRole\n",
        "                - Sid: PassGuardedScheduleRole\n                  Effect: Allow\n                  Action: iam:GetRole\n",
    );
    let world = World::deploy(acct, &template, &[])
        .await
        .expect("the stack deploys (the fault shows only when trading is stopped)");
    let stop = world
        .invoke_as_operator(
            "KillSwitchFunction",
            &json!({"action": "stop", "reason": "test: bad fills", "requested_by": "test"}),
        )
        .await;
    let denied: Vec<Value> = world
        .denials()
        .await
        .into_iter()
        .filter(|d| d["action"] == "iam:PassRole")
        .collect();
    assert!(!denied.is_empty(), "no PassRole denial; stop said {stop:?}");
    let role = world.stack.physical("GuardedScheduleRole");
    let kill_switch_role = world.name("KillSwitchRole");
    assert!(
        denied.iter().all(|d| {
            d["resource"].as_str().is_some_and(|r| r.ends_with(&role))
                && d["role"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&kill_switch_role))
        }),
        "{denied:?}"
    );
    // Trading stopped anyway, and the answer says what could not be done.
    let failed = stop
        .as_ref()
        .map(|s| s["failed"].to_string())
        .unwrap_or_default();
    assert!(failed.contains("iam:PassRole"), "{stop:?}");
    assert_eq!(
        world.schedule_state().await,
        "ENABLED",
        "the schedule could not be paused"
    );
}

#[tokio::test]
async fn hooks_without_a_target_version_fail_the_deployment_and_say_why() {
    // Today's other fault: TARGET_FUNCTION without TARGET_VERSION made both hooks refuse their
    // configuration, so every deployment rolled back.
    let acct = TestAccount::new();
    acct.control.scale_time(0.01).await;
    let template = Template::mutated_in(
        "PreTrafficHookFunction",
        "          TARGET_VERSION: !If [GuardsExisting, !Ref AWS::NoValue, !Ref GuardedFunction.Version]\n",
        "          TARGET_FUNCTION: !Ref GuardedFunction\n",
    );
    let mut world = World::deploy(acct, &template, &[])
        .await
        .expect("first deploy");
    let update = world.update(&template, &[], Some("build-2")).await;
    assert!(
        !update.succeeded(),
        "the deployment must fail: {}",
        update.failure()
    );
    let deployments = world.deployments().await;
    assert_eq!(
        deployments.first().map(|d| d.status.as_str()),
        Some("Failed"),
        "{deployments:?}"
    );
    assert_eq!(world.live().await.0, "1", "live stays on the old version");
    // The hook's own error names the variable (its failed invocation, kept by Lambda).
    let failure_queue = world.stack.output("GuardianFailureQueueUrl");
    let found = world
        .wait_for(Duration::from_secs(30), || {
            let (admin, q) = (world.admin.clone(), failure_queue.clone());
            async move {
                peek_error_messages(&admin, &q)
                    .await
                    .iter()
                    .any(|m| m.contains("TARGET_VERSION"))
            }
        })
        .await;
    assert!(found, "the hook's failure names TARGET_VERSION");
}

#[tokio::test]
async fn a_hook_that_may_not_publish_still_reports_but_the_verdict_is_lost_and_named() {
    let acct = TestAccount::new();
    acct.control.scale_time(0.01).await;
    let template = Template::mutated_in(
        "PreTrafficHookRole",
        "              - Sid: PublishVerdict\n                Effect: Allow\n                Action: sns:Publish\n",
        "              - Sid: PublishVerdict\n                Effect: Allow\n                Action: sns:GetTopicAttributes\n",
    );
    let mut world = World::deploy(acct, &template, &[])
        .await
        .expect("first deploy");
    let update = world.update(&template, &[], Some("build-2")).await;
    assert!(update.succeeded(), "{}", update.failure());
    let denied: Vec<Value> = world
        .denials()
        .await
        .into_iter()
        .filter(|d| d["action"] == "sns:Publish")
        .collect();
    assert!(
        !denied.is_empty()
            && denied[0]["resource"] == world.stack.output("WarningTopicArn").as_str(),
        "{denied:?}"
    );
}

/// The ErrorMessage attribute of each message in a queue, left in place.
async fn peek_error_messages(cfg: &aws_config::SdkConfig, queue_url: &str) -> Vec<String> {
    letters(cfg, queue_url, Some(0))
        .await
        .iter()
        .filter(|m| m.attributes.contains_key("ErrorMessage"))
        .map(|m| m.attribute("ErrorMessage").to_string())
        .collect()
}

/// Alerts at organisation scale: the central topic of another account, set up from
/// examples/central-alerts.yaml, gets the fan-out's alerts once that account trusts ours; until
/// then the central copy is refused by its policies and the account's own on-call still gets
/// every alert.
#[tokio::test]
async fn alerts_reach_an_encrypted_central_topic_in_another_account_once_it_trusts_ours() {
    let acct = TestAccount::new();
    let central = acct.sibling();
    let central_template = Template::Text(
        std::fs::read_to_string(e2e::workspace_root().join("examples/central-alerts.yaml"))
            .expect("examples/central-alerts.yaml is readable"),
    );
    // The central account first trusts only itself.
    let org = central
        .deploy(
            "org-alerts",
            &central_template,
            &[("PublisherAccountIds", &central.id)],
        )
        .await;
    assert!(org.succeeded(), "{}", org.failure());
    let (topic, key) = (
        org.output("CentralAlertsTopicArn"),
        org.output("CentralAlertsKeyArn"),
    );
    let central_cfg = central.sdk_config().await;
    let org_inbox = e2e::subscribe_queue(&central, &topic, "org-inbox").await;
    let world = World::deploy(
        acct.clone(),
        &Template::Repository,
        &[
            ("CentralAlertsTopicArn", &topic),
            ("CentralAlertsKeyArn", &key),
        ],
    )
    .await
    .unwrap_or_else(|e| panic!("template.yaml did not deploy:\n{e}"));
    let alarm = world.name("GuardedErrorsAlarm");
    let subject = format!("[CRITICAL] ALARM: {alarm}");

    e2e::set_alarm_state(&world.admin, &alarm, StateValue::Alarm, "test: errors").await;
    let denial = e2e::eventually(
        "the central topic's policy refusing our fan-out",
        Duration::from_secs(60),
        || async {
            world
                .denials()
                .await
                .into_iter()
                .find(|d| d["action"] == "sns:Publish" && d["resource"] == topic.as_str())
        },
    )
    .await;
    assert!(
        denial["message"].as_str().is_some_and(
            |m| m.contains("because no resource-based policy allows the sns:Publish action")
        ),
        "{denial}"
    );
    let on_call = arrivals(&world.admin, &world.inboxes.critical, &subject).await;
    assert!(
        !on_call.is_empty(),
        "the account's own critical topic got the alert"
    );
    assert!(
        e2e::notifications(&central_cfg, &org_inbox)
            .await
            .is_empty()
    );

    // The central account adds ours: the next alert (and any retry of the first) arrives there.
    let trusted = format!("{},{}", central.id, acct.id);
    let org = central
        .deploy(
            "org-alerts",
            &central_template,
            &[("PublisherAccountIds", &trusted)],
        )
        .await;
    assert!(org.succeeded(), "{}", org.failure());
    e2e::set_alarm_state(&world.admin, &alarm, StateValue::Ok, "test: recovered").await;
    e2e::set_alarm_state(
        &world.admin,
        &alarm,
        StateValue::Alarm,
        "test: errors again",
    )
    .await;
    let central_notes = arrivals(&central_cfg, &org_inbox, &subject).await;
    let note = &central_notes[0];
    let attribute = |name: &str| note["MessageAttributes"][name]["Value"].clone();
    assert_eq!(attribute("severity"), "critical", "{note}");
    assert_eq!(attribute("account"), acct.id.as_str(), "{note}");
    assert_eq!(attribute("alarm"), alarm.as_str(), "{note}");

    // Trading stopped: the kill switch's alert reaches the central team too.
    let stop = world
        .invoke_as_operator(
            "KillSwitchFunction",
            &json!({"action": "stop", "reason": "test: bad fills", "requested_by": "alice"}),
        )
        .await
        .expect("stop");
    assert!(
        stop["done"]
            .to_string()
            .contains("sent the alert to the central topic"),
        "{stop:#}"
    );
    let guarded = world.name("GuardedFunction");
    let stopped = arrivals(
        &central_cfg,
        &org_inbox,
        &format!("[CRITICAL] STOPPED: {guarded} by alice"),
    )
    .await;
    let attribute = |name: &str| stopped[0]["MessageAttributes"][name]["Value"].clone();
    assert_eq!(attribute("account"), acct.id.as_str(), "{}", stopped[0]);
    assert_eq!(attribute("source"), "kill-switch", "{}", stopped[0]);
}

/// The SNS notifications with `subject` that reach the queue within a minute (at least one,
/// else the test fails naming the subject).
async fn arrivals(cfg: &aws_config::SdkConfig, queue_url: &str, subject: &str) -> Vec<Value> {
    let until = std::time::Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        seen.extend(e2e::notifications(cfg, queue_url).await);
        let matching: Vec<Value> = seen
            .iter()
            .filter(|n| n["Subject"] == subject)
            .cloned()
            .collect();
        if !matching.is_empty() {
            return matching;
        }
        assert!(
            std::time::Instant::now() < until,
            "no {subject:?} within 60 s; got {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The guardian's exports wire the user's other stacks: examples/alarm-to-guardian.yaml imports
/// `rollout-guardian-AlarmTopicArn`, and its alarm reaches the on-call through the fan-out.
#[tokio::test]
async fn an_alarm_of_another_stack_reaches_the_on_call_through_the_exported_alarm_topic() {
    let acct = TestAccount::new();
    let example = Template::Text(
        std::fs::read_to_string(e2e::workspace_root().join("examples/alarm-to-guardian.yaml"))
            .expect("examples/alarm-to-guardian.yaml is readable"),
    );
    let params = [("FunctionName", "orders-api")];
    // Before the guardian exists, the import names what is missing.
    let early = acct.deploy("orders-app-early", &example, &params).await;
    assert!(
        !early.succeeded() && early.failure().contains("rollout-guardian-AlarmTopicArn"),
        "{}",
        early.failure()
    );
    let world = World::deploy(acct.clone(), &Template::Repository, &[])
        .await
        .unwrap_or_else(|e| panic!("template.yaml did not deploy:\n{e}"));
    let app = acct.deploy("orders-app", &example, &params).await;
    assert!(app.succeeded(), "{}", app.failure());

    e2e::set_alarm_state(&world.admin, "orders-api-errors", StateValue::Alarm, "test").await;
    // No SeverityRules pattern matches it: the default severity, warning.
    let got = arrivals(
        &world.admin,
        &world.inboxes.warning,
        "[WARNING] ALARM: orders-api-errors",
    )
    .await;
    let attribute = |name: &str| got[0]["MessageAttributes"][name]["Value"].clone();
    assert_eq!(attribute("alarm"), "orders-api-errors", "{}", got[0]);
    assert_eq!(attribute("source"), "cloudwatch", "{}", got[0]);
}
