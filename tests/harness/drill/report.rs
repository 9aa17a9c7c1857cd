//! What the drill prints besides its steps: the stack it deployed and, at the end, the
//! least-privilege report (every IAM statement of every role: used and necessary, or unused
//! with the reason the template gives for keeping it).

use crate::{STACK, World};
use serde_json::Value;

use super::{StepResult, TIME_SCALE};

pub async fn stack_summary(world: &World) {
    let summary = world
        .acct
        .control
        .get(&format!("/_ext/cloudformation/summary?stack={STACK}"))
        .await;
    println!(
        "  {} of {} translated resources created from template.yaml (stack {}):",
        summary["created"], summary["translated"], world.stack.status
    );
    if let Some(types) = summary["resources_by_type"].as_object() {
        for (kind, n) in types {
            println!("    {n:>3}  {kind}");
        }
    }
    if let Some(skipped) = summary["skipped_by_condition"].as_array()
        && !skipped.is_empty()
    {
        println!("  skipped by a false condition: {skipped:?}");
    }
    println!(
        "  roles in force (each function calls AWS as its own role, authorised as IAM would):"
    );
    if let Some(roles) = summary["roles"].as_object() {
        for (logical, arn) in roles {
            println!("    {logical:<28} {}", arn.as_str().unwrap_or("?"));
        }
    }
    println!(
        "  time: 1 s here stands for {:.0} s on AWS (the 5-minute canary takes {:.0} s); function timeouts are real\n",
        1.0 / TIME_SCALE,
        300.0 * TIME_SCALE
    );
}

/// The deployed (processed) template, from CloudFormation's `GetTemplate`: the roles'
/// `Metadata.least-privilege.unexercised` give the reason for each statement the drill
/// cannot exercise locally.
async fn processed_template(world: &World) -> Value {
    let body = aws_sdk_cloudformation::Client::new(&world.admin)
        .get_template()
        .stack_name(STACK)
        .template_stage(aws_sdk_cloudformation::types::TemplateStage::Processed)
        .send()
        .await
        .ok()
        .and_then(|t| t.template_body)
        .unwrap_or_default();
    serde_json::from_str(&body).unwrap_or_default()
}

pub async fn least_privilege(world: &World) -> StepResult {
    println!("--- least privilege: every statement of every role, as the drill used it");
    let report = world.acct.control.get("/_ext/iam/report").await;
    let template = processed_template(world).await;
    let resources = template["Resources"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut problems = Vec::new();
    let mut roles: Vec<(&String, &Value)> = report
        .as_object()
        .map(|o| o.iter().collect())
        .unwrap_or_default();
    roles.sort_by_key(|(name, _)| name.to_string());
    for (role_name, role) in roles {
        let Some((logical, resource)) = resources
            .iter()
            .find(|(id, r)| r["Type"] == "AWS::IAM::Role" && role_name.contains(id.as_str()))
        else {
            continue; // not a role of the stack (the drill's own operator)
        };
        let unexercised = &resource["Metadata"]["least-privilege"]["unexercised"];
        println!("  {logical}");
        for st in role["statements"].as_array().cloned().unwrap_or_default() {
            let sid = st["sid"].as_str().unwrap_or("");
            let calls = st["calls"].as_u64().unwrap_or(0);
            let reason = unexercised[sid].as_str();
            let verdict = match (calls, st["necessary"].as_bool() == Some(true), reason) {
                (0, _, Some(reason)) => format!("unexercised here: {reason}"),
                (0, _, None) => {
                    problems.push(format!("{logical}.{sid} is never used and has no reason"));
                    "UNUSED, no reason given".into()
                }
                (_, true, None) => format!("used {calls}x, necessary (e.g. {})", example(&st)),
                (_, true, Some(_)) => {
                    problems.push(format!("{logical}.{sid} is used but listed as unexercised"));
                    "used, but the template says it is unexercised".into()
                }
                (_, false, _) => {
                    problems.push(format!(
                        "{logical}.{sid} is used but never needed (another statement covers it)"
                    ));
                    "REDUNDANT: every call it allowed is allowed without it".into()
                }
            };
            println!("    {sid:<36} {verdict}");
        }
    }
    StepResult {
        name: "least privilege: every grant used and needed, or explained",
        outcome: if problems.is_empty() {
            Ok("every statement is necessary or carries its reason".into())
        } else {
            Err(problems.join("; "))
        },
    }
}

fn example(st: &Value) -> String {
    format!(
        "{} on {}",
        st["example"]["action"].as_str().unwrap_or("?"),
        guardian::preview::preview(st["example"]["resource"].as_str().unwrap_or("?"), 70)
    )
}
