//! Guarding functions that live in another stack (README "Guard an existing function"): the
//! guardian-only variant of `template.yaml` and `examples/existing-app.yaml` deployed side by
//! side, in the order the README gives (`e2e::drill::existing`, also `make drill
//! SCENARIO=existing`), then a deployment, an alarm, a DLQ redrive and a stop/resume against
//! each of the two bots, all as the shipped roles; and the grants, read back from IAM.

use e2e::drill::existing::{self, APP};
use e2e::{TestAccount, World, build_functions};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_guardian_only_stack_guards_two_functions_of_another_stack() {
    build_functions(false).unwrap_or_else(|e| panic!("{e}"));
    let run = existing::run(TestAccount::new()).await;
    let failed = run.misbehaved();
    assert!(
        failed.is_empty(),
        "steps misbehaved (logs in {}):\n{}",
        run.logs.display(),
        failed.join("\n")
    );
    assert_eq!(run.steps.len(), 6, "every step ran");
}

/// Every statement of the guardian's roles, as IAM holds them: (role logical id, statement).
async fn statements(w: &World) -> Vec<(String, Value)> {
    let iam = aws_sdk_iam::Client::new(&w.admin);
    let mut all = Vec::new();
    for r in w
        .stack
        .resources
        .iter()
        .filter(|r| r.kind == "AWS::IAM::Role")
    {
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

/// IAM returns policy documents URL-encoded (RFC 3986; IAM API Reference, GetRolePolicy,
/// PolicyDocument).
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
        Value::Array(many) => many
            .iter()
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn the_guardian_only_stack_grants_exactly_the_existing_functions_and_their_resources() {
    let s = existing::deploy(TestAccount::new())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let w = &s.world;
    let [bot_name, pricer_name] = &s.bots;
    let (bot, pricer) = (
        w.acct.function_arn(bot_name),
        w.acct.function_arn(pricer_name),
    );
    let all = statements(w).await;
    assert!(
        all.len() > 20,
        "read the guardian's statements ({})",
        all.len()
    );
    for (role, st) in &all {
        let resources = resources_of(st);
        let xray = st["Action"].to_string().contains("xray:");
        assert!(
            xray || !resources.iter().any(|r| r == "*"),
            "{role}: `*` in {st}"
        );
        for r in resources.iter().filter(|r| r.contains(":function:")) {
            let name = r.split(':').nth(6).unwrap_or_default();
            let guarded = s.bots.iter().any(|b| b == name);
            let guardian = name.starts_with(e2e::STACK) || name.starts_with("CodeDeployHook_");
            assert!(
                guarded || guardian,
                "{role}: a function outside the guard: {r}"
            );
        }
    }
    let sid = |role: &str, sid: &str| {
        all.iter()
            .find(|(r, st)| r == role && st["Sid"] == sid)
            .map(|(_, st)| resources_of(st))
            .unwrap_or_else(|| panic!("{role} has no statement {sid}"))
    };
    assert_eq!(
        sid("KillSwitchRole", "StopResumeGuardedFunction"),
        [bot.clone(), pricer.clone()]
    );
    assert_eq!(
        sid("PreTrafficHookRole", "ProbeNumberedVersions"),
        [format!("{bot}:*"), format!("{pricer}:*")]
    );
    let dlqs = sid("DlqInspectorRole", "ReadReleaseDeleteDeadLetters");
    assert_eq!(
        dlqs,
        [
            w.acct.arn("sqs", &format!("{bot_name}-dlq")),
            w.acct.arn("sqs", &format!("{pricer_name}-dlq"))
        ]
    );
    let groups = sid("KillSwitchRole", "StopInFlightDeployment");
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(
        groups.iter().all(|g| g.contains(":deploymentgroup:")),
        "{groups:?}"
    );
    let schedules = sid("KillSwitchRole", "PauseGuardedSchedule");
    assert!(
        schedules.len() == 1 && schedules[0].ends_with(&format!("/{APP}-trading-bot-tick")),
        "{schedules:?}"
    );
    assert_eq!(sid("PostTrafficHookRole", "ReadRollbackAlarms").len(), 2);
}
