//! Guarding functions that live in another stack (README "Guard an existing function"): the
//! guardian-only variant of `template.yaml` and `examples/existing-app.yaml` deployed side by
//! side, in the order the README gives, then a deployment, an alarm, a DLQ redrive and a
//! stop/resume against each of the two functions, all as the shipped roles.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch::types::StateValue;
use e2e::{Template, TestAccount, World};
use serde_json::{Value, json};

const APP: &str = "trading-app";

/// The example app as a user deploys it, with the quickest traffic shifting (the hooks run
/// all the same).
fn app_template() -> Template {
    Template::Text(
        std::fs::read_to_string(e2e::workspace_root().join("examples/existing-app.yaml"))
            .expect("examples/existing-app.yaml is readable"),
    )
}
const APP_PARAMETERS: [(&str, &str); 1] = [("DeploymentType", "AllAtOnce")];

/// `Key=Value Key=Value` (the app's GuardianParameterOverrides output) as parameters.
fn overrides(text: &str) -> BTreeMap<String, String> {
    text.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn as_params(map: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

struct Scene {
    world: World,
    bot: String,
    pricer: String,
}

/// Steps 1-3 of the README: the guardian naming the two functions and their DLQs, the app
/// importing the guardian's hooks and alarm topic, the guardian updated with the app's output.
async fn deployed() -> Scene {
    let acct = TestAccount::new();
    let bot = format!("{APP}-trading-bot");
    let pricer = format!("{APP}-pricing-bot");
    let mut params = BTreeMap::from([
        (
            "ExistingFunctionArns".to_string(),
            format!("{},{}", acct.function_arn(&bot), acct.function_arn(&pricer)),
        ),
        (
            "ExistingDeadLetterQueueArns".to_string(),
            format!(
                "{},{}",
                acct.arn("sqs", &format!("{bot}-dlq")),
                acct.arn("sqs", &format!("{pricer}-dlq"))
            ),
        ),
    ]);
    let mut world = World::deploy(acct.clone(), &Template::Repository, &as_params(&params))
        .await
        .unwrap_or_else(|e| panic!("the guardian-only stack did not deploy:\n{e}"));
    let app = acct.deploy(APP, &app_template(), &APP_PARAMETERS).await;
    assert!(app.succeeded(), "the app stack: {}", app.failure());
    params.extend(overrides(&app.output("GuardianParameterOverrides")));
    let updated = world
        .update(&Template::Repository, &as_params(&params), None)
        .await;
    assert!(
        updated.succeeded(),
        "the guardian with the app's ARNs: {}",
        updated.failure()
    );
    Scene { world, bot, pricer }
}

impl Scene {
    async fn concurrency(&self, function: &str) -> Option<i32> {
        e2e::reserved_concurrency(&self.world.admin, function).await
    }

    async fn schedule(&self) -> String {
        aws_sdk_scheduler::Client::new(&self.world.admin)
            .get_schedule()
            .name(format!("{APP}-trading-bot-tick"))
            .send()
            .await
            .ok()
            .and_then(|s| s.state.map(|s| s.as_str().to_string()))
            .unwrap_or_else(|| "?".into())
    }

    async fn kill_switch(&self, payload: Value) -> Result<Value, String> {
        self.world
            .invoke_as_operator("KillSwitchFunction", &payload)
            .await
    }

    async fn inspector(&self, payload: Value) -> Result<Value, String> {
        self.world
            .invoke_as_operator("DlqInspectorFunction", &payload)
            .await
    }

    async fn dlq_url(&self, function: &str) -> String {
        aws_sdk_sqs::Client::new(&self.world.admin)
            .get_queue_url()
            .queue_name(format!("{function}-dlq"))
            .send()
            .await
            .expect("the app's DLQ exists")
            .queue_url
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn a_guardian_only_stack_guards_two_functions_of_another_stack() {
    let s = deployed().await;
    let w = &s.world;
    // No sample target: the guardian-only stack has only the guardian.
    for sample in ["GuardedFunction", "DeadLetterQueue", "GuardedSchedule"] {
        assert!(
            !s.world.stack.resources.iter().any(|r| r.logical_id == sample),
            "{sample} was created"
        );
    }
    for output in [
        "PreTrafficHookFunctionName",
        "PostTrafficHookFunctionName",
        "AlarmTopicArn",
        "KillSwitchFunctionName",
        "DlqInspectorFunctionName",
        "OperatorPolicyArn",
    ] {
        assert!(w.stack.outputs.contains_key(output), "output {output}");
    }
    assert!(!w.stack.outputs.contains_key("GuardedFunctionName"));

    // A deployment of each function: both hooks of each deployment Succeeded, each probing
    // its own function's new version.
    let before = w.acct.control.hook_statuses().await.len();
    let built = w
        .acct
        .deploy_build(APP, &app_template(), &APP_PARAMETERS, Some("build-2"))
        .await;
    assert!(built.succeeded(), "the app's new build: {}", built.failure());
    let statuses: Vec<String> = w.acct.control.hook_statuses().await[before..]
        .iter()
        .map(|h| h["status"].as_str().unwrap_or("?").to_string())
        .collect();
    assert_eq!(statuses, ["Succeeded"; 4], "two deployments, two hooks each");
    for function in [&s.bot, &s.pricer] {
        let probed = w
            .acct
            .control
            .invocations(function)
            .await
            .into_iter()
            .filter(|i| i["payload"]["smoke_test"] == true)
            .map(|i| i["qualifier"].as_str().unwrap_or("?").to_string())
            .collect::<Vec<_>>();
        assert_eq!(probed, ["2", "2"], "{function}: pre and post probes of version 2");
    }

    // An alarm of the app reaches the on-call through the guardian's fan-out.
    let alarm = format!("{APP}-pricing-bot-errors");
    e2e::set_alarm_state(&w.admin, &alarm, StateValue::Alarm, "test").await;
    let subject = format!("[WARNING] ALARM: {alarm}");
    e2e::eventually(
        "the app's alarm reaches the warning inbox",
        Duration::from_secs(60),
        || async {
            e2e::notifications(&w.admin, &w.inboxes.warning)
                .await
                .into_iter()
                .any(|n| n["Subject"] == subject.as_str())
                .then_some(())
        },
    )
    .await;

    // A failed event in each DLQ; inspect reports both queues, redrive needs a function and
    // re-sends only that function's messages.
    let sqs = aws_sdk_sqs::Client::new(&w.admin);
    for function in [&s.bot, &s.pricer] {
        sqs.send_message()
            .queue_url(s.dlq_url(function).await)
            .message_body(json!({"for": function}).to_string())
            .send()
            .await
            .expect("a failed event");
    }
    let report = s.inspector(json!({"action": "inspect"})).await.unwrap();
    let depths: Vec<(String, u64)> = report["reports"]
        .as_array()
        .unwrap_or_else(|| panic!("a report per DLQ: {report:#}"))
        .iter()
        .map(|r| {
            let queue = r["queue"].as_str().unwrap_or("?").to_string();
            (queue, r["depth"]["visible"].as_u64().unwrap_or(0))
        })
        .collect();
    assert_eq!(
        depths,
        [(format!("{}-dlq", s.bot), 1), (format!("{}-dlq", s.pricer), 1)]
    );
    let unnamed = s.inspector(json!({"action": "redrive"})).await.unwrap_err();
    assert!(unnamed.contains("`function` is required for redrive"), "{unnamed}");
    for function in [&s.bot, &s.pricer] {
        let out = s
            .inspector(json!({"action": "redrive", "function": function}))
            .await
            .unwrap_or_else(|e| panic!("redrive {function}: {e}"));
        assert_eq!(out["outcome"]["redriven"], 1, "{out:#}");
        let events = w.acct.control.events(function).await;
        assert!(
            events.iter().any(|e| e["for"] == function.as_str()),
            "{function} got its own event back: {events:?}"
        );
        assert_eq!(e2e::visible_messages(&w.admin, &s.dlq_url(function).await).await, 0);
    }

    // Stop and resume each: only the named function and its own schedule change.
    assert_eq!(s.schedule().await, "ENABLED");
    let stop = |function: &str| json!({"action": "stop", "reason": "drill", "function": function});
    let resume =
        |function: &str| json!({"action": "resume", "reason": "drill over", "function": function});
    let out = s.kill_switch(stop(&s.bot)).await.unwrap();
    assert_eq!(out["failed"], json!([]), "{out:#}");
    assert_eq!(s.concurrency(&s.bot).await, Some(0));
    assert_eq!(s.concurrency(&s.pricer).await, Some(1));
    assert_eq!(s.schedule().await, "DISABLED");
    let out = s.kill_switch(stop(&s.pricer)).await.unwrap();
    assert_eq!(out["failed"], json!([]), "{out:#}");
    assert_eq!(s.concurrency(&s.pricer).await, Some(0));
    s.kill_switch(resume(&s.pricer)).await.unwrap();
    assert_eq!(s.concurrency(&s.pricer).await, Some(1));
    assert_eq!(s.schedule().await, "DISABLED", "the pricer's resume left the bot stopped");
    s.kill_switch(resume(&s.bot)).await.unwrap();
    assert_eq!(s.concurrency(&s.bot).await, Some(1));
    assert_eq!(s.schedule().await, "ENABLED");

    // Refused by name: a function that is not guarded, and a request that names none.
    let other = s.kill_switch(stop("orders-api")).await.unwrap_err();
    assert!(other.contains("is not guarded") && other.contains(&s.pricer), "{other}");
    let unnamed = s
        .kill_switch(json!({"action": "stop", "reason": "x"}))
        .await
        .unwrap_err();
    assert!(unnamed.contains("KillSwitch.FunctionRequired"), "{unnamed}");

    let denials = w.denials().await;
    assert!(denials.is_empty(), "IAM denied: {denials:#?}");
}

/// Every statement of the guardian's roles, as IAM holds them: (role logical id, statement).
async fn statements(w: &World) -> Vec<(String, Value)> {
    let iam = aws_sdk_iam::Client::new(&w.admin);
    let mut all = Vec::new();
    for r in w.stack.resources.iter().filter(|r| r.kind == "AWS::IAM::Role") {
        let role = r.physical_id.clone().unwrap_or_default();
        let names = iam
            .list_role_policies()
            .role_name(&role)
            .send()
            .await
            .expect("ListRolePolicies")
            .policy_names;
        for name in names {
            let doc = iam
                .get_role_policy()
                .role_name(&role)
                .policy_name(&name)
                .send()
                .await
                .expect("GetRolePolicy")
                .policy_document;
            let doc: Value = serde_json::from_str(&percent_decoded(&doc)).expect("a JSON policy");
            for st in doc["Statement"].as_array().cloned().unwrap_or_default() {
                all.push((r.logical_id.clone(), st));
            }
        }
    }
    all
}

/// IAM returns policy documents URL-encoded (RFC 3986).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn resources_of(statement: &Value) -> Vec<String> {
    match &statement["Resource"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().filter_map(|r| r.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn the_guardian_only_stack_grants_exactly_the_existing_functions_and_their_resources() {
    let s = deployed().await;
    let w = &s.world;
    let (bot, pricer) = (w.acct.function_arn(&s.bot), w.acct.function_arn(&s.pricer));
    let all = statements(w).await;
    assert!(all.len() > 20, "read the guardian's statements ({})", all.len());
    for (role, st) in &all {
        let resources = resources_of(st);
        let xray = st["Action"].to_string().contains("xray:");
        assert!(
            xray || !resources.iter().any(|r| r == "*"),
            "{role}: `*` in {st}"
        );
        for r in resources.iter().filter(|r| r.contains(":function:")) {
            let name = r.split(':').nth(6).unwrap_or_default();
            let guarded = [&s.bot, &s.pricer].contains(&&name.to_string());
            let guardian = name.starts_with(e2e::STACK) || name.starts_with("CodeDeployHook_");
            assert!(guarded || guardian, "{role}: a function outside the guard: {r}");
        }
    }
    let sid = |role: &str, sid: &str| {
        all.iter()
            .find(|(r, st)| r == role && st["Sid"] == sid)
            .map(|(_, st)| resources_of(st))
            .unwrap_or_else(|| panic!("{role} has no statement {sid}"))
    };
    assert_eq!(sid("KillSwitchRole", "StopResumeGuardedFunction"), [bot.clone(), pricer.clone()]);
    assert_eq!(
        sid("PreTrafficHookRole", "ProbeNumberedVersions"),
        [format!("{bot}:*"), format!("{pricer}:*")]
    );
    let dlqs = sid("DlqInspectorRole", "ReadReleaseDeleteDeadLetters");
    assert_eq!(
        dlqs,
        [
            w.acct.arn("sqs", &format!("{}-dlq", s.bot)),
            w.acct.arn("sqs", &format!("{}-dlq", s.pricer))
        ]
    );
    let groups = sid("KillSwitchRole", "StopInFlightDeployment");
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(groups.iter().all(|g| g.contains(":deploymentgroup:")), "{groups:?}");
    let schedules = sid("KillSwitchRole", "PauseGuardedSchedule");
    assert!(
        schedules.len() == 1 && schedules[0].ends_with(&format!("/{APP}-trading-bot-tick")),
        "{schedules:?}"
    );
    assert_eq!(sid("PostTrafficHookRole", "ReadRollbackAlarms").len(), 2);
}
