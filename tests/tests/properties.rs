//! Adversarial input through the real handlers (issue #12). Pure properties of the parsers
//! live in functions/guardian/tests/properties_*.rs; here: the hook's event parser (in the
//! hook crate) and, against the emulator, that the kill switch and the DLQ inspector make
//! no AWS call at all for an input they reject: nothing is stopped, tagged, published,
//! received or deleted.

#[path = "../../functions/guardian/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{CASES, Mutated, any_json, check, mutated_samples};
use e2e::{
    TestAccount, guarded_function, lambda_context, queue, topic_with_queue, visible_messages,
};
use guardian::config::Env;
use guardian::guarded::GuardedFunctions;
use lambda_runtime::LambdaEvent;
use pre_traffic_hook::{HookError, HookEvent};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

/// Emulator-backed cases: each is a real handler invocation over HTTP.
const EMULATOR_CASES: u32 = 50;
const BOT: &str = "trading-bot";

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
                prop_assert!(matches!(e, HookError::BadEvent(_)));
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

/// Inputs the parser refuses: mutated samples and arbitrary JSON, filtered by `rejected`.
fn rejected_inputs(
    prefix: &'static str,
    rejected: impl Fn(&Value) -> bool + 'static,
) -> BoxedStrategy<Value> {
    prop_oneof![
        3 => mutated_samples(prefix).prop_map(|m| m.value),
        1 => any_json(),
    ]
    .prop_filter("accepted by the parser", move |v| rejected(v))
    .boxed()
}

/// Runs `invoke` on every rejected input and checks the account saw no AWS call.
fn no_calls_for_rejected<F>(
    name: &str,
    acct: &TestAccount,
    rt: &tokio::runtime::Runtime,
    strategy: BoxedStrategy<Value>,
    invoke: F,
) where
    F: Fn(Value) -> Result<(), String>,
{
    check(name, EMULATOR_CASES, strategy, |payload| {
        let before = rt.block_on(acct.control.call_counts());
        let refused = invoke(payload.clone());
        let after = rt.block_on(acct.control.call_counts());
        prop_assert!(
            refused.is_err(),
            "the handler accepted {}",
            common::preview(&payload)
        );
        prop_assert_eq!(
            before,
            after,
            "a rejected input made AWS calls: {}",
            common::preview(&payload)
        );
        Ok::<(), TestCaseError>(())
    });
}

#[test]
fn the_kill_switch_never_acts_on_an_input_it_rejects() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let acct = TestAccount::new();
    let (app, cfg) = rt.block_on(async {
        let cfg = acct.sdk_config().await;
        guarded_function(&cfg, BOT, 1).await;
        let (topic, _) = topic_with_queue(&cfg, "critical").await;
        let env = Env::from_pairs(vec![
            ("GUARDED_FUNCTIONS", BOT.to_string()),
            ("ALERT_TOPIC_ARN", topic),
        ]);
        let config = kill_switch::Config::from_env(&env).unwrap();
        (kill_switch::App::new(&cfg, config), cfg)
    });
    let guarded = GuardedFunctions::new([BOT]);
    let strategy = rejected_inputs("kill-switch-", move |v| {
        guardian::killswitch::request::parse(v, &guarded).is_err()
    });
    no_calls_for_rejected(
        "kill-switch/handler-rejects",
        &acct,
        &rt,
        strategy,
        |payload| {
            let event = LambdaEvent::new(payload, lambda_context(Duration::from_secs(30)));
            rt.block_on(kill_switch::handler(&app, event))
                .map(drop)
                .map_err(|e| e.to_string())
        },
    );
    // The function still runs with no stop record: nothing was acted on.
    let concurrency = rt.block_on(async {
        aws_sdk_lambda::Client::new(&cfg)
            .get_function_concurrency()
            .function_name(BOT)
            .send()
            .await
            .unwrap()
            .reserved_concurrent_executions
    });
    assert_eq!(concurrency, None);
}

#[test]
fn the_dlq_inspector_never_acts_on_an_input_it_rejects() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let acct = TestAccount::new();
    let (app, cfg, dlq) = rt.block_on(async {
        let cfg = acct.sdk_config().await;
        guarded_function(&cfg, BOT, 1).await;
        let dlq = queue(&cfg, "trading-bot-dlq").await;
        aws_sdk_sqs::Client::new(&cfg)
            .send_message()
            .queue_url(&dlq)
            .message_body(r#"{"symbol": "EURUSD"}"#)
            .send()
            .await
            .unwrap();
        let (topic, _) = topic_with_queue(&cfg, "dlq-alerts").await;
        let env = Env::from_pairs(vec![
            ("DLQ_URL", dlq.clone()),
            ("GUARDED_FUNCTIONS", BOT.to_string()),
            ("ALERT_TOPIC_ARN", topic),
        ]);
        let config = dlq_inspector::Config::from_env(&env).unwrap();
        (dlq_inspector::App::new(&cfg, config), cfg, dlq)
    });
    let limit = app.config.max_messages_limit;
    // Rejected by the parser, or a purge without the queue name as confirmation.
    let strategy = rejected_inputs("dlq-", move |v| {
        guardian::dlq::request::parse(v, limit).is_err()
            || guardian::dlq::request::parse(v, limit).is_ok_and(|r| {
                guardian::dlq::request::check_purge_confirmed(&r, "trading-bot-dlq").is_err()
            })
    });
    no_calls_for_rejected("dlq/handler-rejects", &acct, &rt, strategy, |payload| {
        let event = LambdaEvent::new(payload, lambda_context(Duration::from_secs(30)));
        rt.block_on(dlq_inspector::handler(&app, event))
            .map(drop)
            .map_err(|e| e.to_string())
    });
    assert_eq!(
        rt.block_on(visible_messages(&cfg, &dlq)),
        1,
        "the DLQ message is untouched"
    );
}
