//! The hook's inputs over adversarial input (issue #12): its event (from CodeDeploy), AppSpec
//! content (JSON or YAML, from CodeDeploy) and the smoke plan (operator config). The event
//! parses to its two ids or is refused naming the field; the others return a target / plan
//! or a named error, and an error always becomes a Failed verdict to report.

mod common;

use common::{CASES, Mutated, any_json, check, mutated_samples};
use guardian::hook::appspec::target_from_appspec;
use guardian::hook::event::{HookEvent, HookEventError};
use guardian::hook::plan::SmokePlan;
use guardian::hook::verdict::{Phase, Status, decide};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

fn appspec() -> Value {
    json!({"version": 0.0, "Resources": [{"tradingBot": {"Type": "AWS::Lambda::Function",
        "Properties": {"Name": "trading-bot", "Alias": "live", "CurrentVersion": "1",
                       "TargetVersion": "2"}}}],
        "Hooks": [{"BeforeAllowTraffic": "CodeDeployHook_pre"}]})
}

/// AppSpec text: the sample mutated, as JSON or YAML, or arbitrary text.
fn appspec_text() -> BoxedStrategy<(String, Option<String>)> {
    let mutated = (
        proptest::collection::vec(common::mutation(), 1..=3),
        any::<bool>(),
    )
        .prop_map(|(mutations, yaml)| {
            let mut doc = appspec();
            let paths: Vec<_> = mutations
                .iter()
                .map(|m| common::apply(&mut doc, m))
                .collect();
            let m = Mutated {
                sample: "appspec",
                value: doc.clone(),
                paths,
            };
            let text = if yaml {
                serde_norway::to_string(&doc).unwrap_or_else(|_| doc.to_string())
            } else {
                doc.to_string()
            };
            (text, m.single_leaf_key().map(str::to_string))
        });
    prop_oneof![
        4 => mutated,
        1 => any::<String>().prop_map(|s| (s, None)),
        1 => "[-:\\[\\]{}#&*!|>'\"%@` \n\tA-Za-z0-9]{0,60}".prop_map(|s| (s, None)),
        1 => any_json().prop_map(|v| (v.to_string(), None)),
    ]
    .boxed()
}

/// An error becomes a Failed verdict carrying the reason (what `examine` reports).
fn fails_with(reason: String) -> Result<(), TestCaseError> {
    let verdict = decide(Phase::Pre, "d-1", "e-1", None, vec![reason.clone()], vec![]);
    prop_assert_eq!(verdict.status, Status::Failed);
    prop_assert!(!reason.trim().is_empty());
    Ok(())
}

#[test]
fn any_appspec_text_yields_a_target_or_a_failed_verdict() {
    check("hook/appspec", CASES, appspec_text(), |(text, field)| {
        match target_from_appspec(&text) {
            Ok(t) => {
                prop_assert!(!t.function.is_empty());
                prop_assert!(
                    !t.version.is_empty() && t.version.chars().all(|c| c.is_ascii_digit())
                );
            }
            Err(e) => {
                let message = e.to_string();
                // Keys that are only read when present (or ignored) need not be named.
                if let Some(f) = field.filter(|f| {
                    [
                        "Name",
                        "TargetVersion",
                        "Resources",
                        "Properties",
                        "tradingBot",
                    ]
                    .contains(&f.as_str())
                }) {
                    // The key itself, or the resource / property the mutation left unusable.
                    let located = message.contains(&f)
                        || message.contains("Properties.")
                        || message.contains("Resources");
                    prop_assert!(
                        located,
                        "error for a mutated {f} locates nothing: {message}"
                    );
                }
                fails_with(message)?;
            }
        }
        Ok(())
    });
}

#[test]
fn any_smoke_plan_text_yields_a_plan_or_a_failed_verdict() {
    let strategy = prop_oneof![
        4 => mutated_samples("hook-smoke-plan").prop_map(|m| {
            let leaf = m.single_leaf_key().map(str::to_string);
            (m.value.to_string(), leaf)
        }),
        1 => any::<String>().prop_map(|s| (s, None)),
        1 => any_json().prop_map(|v| (v.to_string(), None)),
    ];
    check("hook/smoke-plan", CASES, strategy, |(text, field)| {
        match SmokePlan::parse(&text) {
            Ok(plan) => prop_assert!(!plan.probes.is_empty()),
            Err(e) => {
                prop_assert!(!e.field.is_empty());
                let message = e.to_string();
                if let Some(f) = field.filter(|f| PLAN_KEYS.contains(&f.as_str())) {
                    // A replaced probe element is named by its position ("probe #1").
                    let located =
                        message.contains(&f) || (f == "probes" && message.contains("probe #"));
                    prop_assert!(
                        located,
                        "error for a mutated {f} does not name it: {message}"
                    );
                }
                fails_with(message)?;
            }
        }
        Ok(())
    });
}

const PLAN_KEYS: &[&str] = &[
    "probes",
    "name",
    "payload",
    "expect",
    "retries",
    "backoff_ms",
    "no_function_error",
    "max_latency_ms",
    "json",
    "pointer",
    "equals",
    "matches",
    "exists",
];

#[test]
fn hook_events_are_parsed_or_refused_by_name() {
    let strategy = prop_oneof![
        3 => mutated_samples("hook-p").prop_map(|m: Mutated| {
            let field = m.single_top_field().map(str::to_string);
            (m.value, field)
        }),
        1 => any_json().prop_map(|v| (v, None)),
    ];
    check("hook/event", CASES, strategy, |(event, field)| {
        match HookEvent::parse(event.clone()) {
            Ok(ids) => {
                prop_assert!(!ids.deployment_id.trim().is_empty());
                prop_assert!(!ids.execution_id.trim().is_empty());
            }
            Err(e) => {
                prop_assert!(matches!(e, HookEventError::BadEvent(_)));
                let known = ["DeploymentId", "LifecycleEventHookExecutionId"];
                if let Some(f) = field.filter(|f| known.contains(&f.as_str())) {
                    let text = e.to_string();
                    prop_assert!(
                        text.contains(&f),
                        "error for a mutated {f} does not name it: {text}"
                    );
                }
            }
        }
        Ok(())
    });
}
