//! CodeDeploy for Lambda in the emulator (tests/moto_ext/codedeploy_engine.py,
//! tests/moto_ext/README.md, CodeDeploy), through the Rust SDK: the lifecycle runs by itself, hooks are invoked
//! with real lifecycle events as the group's service role, the alias is shifted per the
//! deployment configuration over scaled time, alarms are watched, and failures, alarms and
//! stops roll back as a new deployment. Each hook here is a scripted function (no runnable
//! bootstrap): the test reads its invocation and answers CodeDeploy itself.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue};
use aws_sdk_codedeploy::types::{
    ComputePlatform, DeploymentCreator, DeploymentInfo, DeploymentStatus, ErrorCode,
    LifecycleEventStatus, TimeBasedCanary, TrafficRoutingConfig, TrafficRoutingType,
};
use e2e::{
    AppSpec, Rollout, TestAccount, answer_hook, deployment_group, deployment_info, errors_alarm,
    eventually, finished, guarded_function, hook_event, live_alias, permit, put_errors, rule,
    set_alarm_state, try_deployment,
};
use guardian_aws::codedeploy::CodeDeploy;
use serde_json::{Value, json};

const APP: &str = "bot-app";
const GROUP: &str = "bot-group";
const BOT: &str = "trading-bot";
const PRE: &str = "CodeDeployHook_pre";
const POST: &str = "CodeDeployHook_post";
const ALARM: &str = "trading-bot-errors";

// CodeDeploy's predefined configurations for Lambda.
const ALL_AT_ONCE: &str = "CodeDeployDefault.LambdaAllAtOnce";
const CANARY_5_MINUTES: &str = "CodeDeployDefault.LambdaCanary10Percent5Minutes";
const CANARY_30_MINUTES: &str = "CodeDeployDefault.LambdaCanary10Percent30Minutes";
const LINEAR_EVERY_MINUTE: &str = "CodeDeployDefault.LambdaLinear10PercentEvery1Minute";

struct World {
    acct: TestAccount,
    cfg: SdkConfig,
    cd: aws_sdk_codedeploy::Client,
}

/// A fresh account with the guarded function (versions 1 and 2, alias `live` on 1), the
/// hook functions `hooks`, an alarm, and a Lambda deployment group as SAM makes it (see
/// `e2e::deployment_group`) using `config`, CodeDeploy's time scaled by `scale`.
async fn world(config: &str, hooks: &[&str], scale: f64) -> World {
    let acct = TestAccount::new();
    acct.control.scale_time(scale).await;
    let cfg = acct.sdk_config().await;
    guarded_function(&cfg, BOT, 2).await;
    for hook in hooks {
        guarded_function(&cfg, hook, 0).await;
    }
    errors_alarm(&cfg, ALARM)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .expect("PutMetricAlarm");
    let rollout = Rollout {
        config,
        alarm: ALARM,
    };
    deployment_group(&acct, APP, GROUP, Some(rollout)).await;
    World {
        cd: aws_sdk_codedeploy::Client::new(&cfg),
        acct,
        cfg,
    }
}

/// The alarm goes to ALARM: breaching data for an evaluator, and the state set as an operator
/// (`SetAlarmState`) would.
async fn fire_alarm(cfg: &SdkConfig) {
    put_errors(cfg, vec![], 5.0).await;
    set_alarm_state(cfg, ALARM, StateValue::Alarm, "errors on the canary").await;
}

/// The AppSpec CloudFormation writes for CodeDeployLambdaAliasUpdate.
fn appspec(before: Option<&str>, after: Option<&str>) -> String {
    e2e::appspec(BOT, before, after)
}

async fn deploy(w: &World, before: Option<&str>, after: Option<&str>) -> String {
    try_deploy(w, before, after)
        .await
        .expect("CreateDeployment")
}

async fn try_deploy(
    w: &World,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<String, aws_sdk_codedeploy::Error> {
    let appspec = appspec(before, after);
    try_deployment(&w.cfg, APP, GROUP, AppSpec::Content(&appspec), None).await
}

async fn canary_reached(w: &World) {
    eventually(
        "the alias to route to version 2",
        Duration::from_secs(30),
        || async {
            let (_, weights) = live_alias(&w.cfg, BOT).await;
            weights.contains_key("2").then_some(())
        },
    )
    .await;
}

/// A deployment whose pre-traffic hook passes, once the alias routes to version 2: its id.
async fn canary(w: &World) -> String {
    let id = deploy(w, Some(PRE), None).await;
    answer_hook(&w.acct, PRE, LifecycleEventStatus::Succeeded).await;
    canary_reached(w).await;
    id
}

/// The pre-traffic hook passes, and the deployment succeeds: how it ended.
async fn passes(w: &World, id: &str) -> DeploymentInfo {
    answer_hook(&w.acct, PRE, LifecycleEventStatus::Succeeded).await;
    let done = finished(&w.cfg, id).await;
    assert_eq!(done.status, Some(DeploymentStatus::Succeeded), "{done:?}");
    done
}

async fn timeline(w: &World, id: &str) -> Value {
    w.acct.control.timeline(id).await
}

/// [(t in AWS seconds, weight of version 2)] the engine set on the alias, in order.
fn target_weights(timeline: &Value) -> Vec<(f64, f64)> {
    timeline["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let t = w["t"].as_f64().unwrap();
            (t, w["weights"]["2"].as_f64().unwrap_or(0.0))
        })
        .collect()
}

fn lifecycle(timeline: &Value) -> Vec<(String, String)> {
    timeline["lifecycleEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["lifecycleEventName"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn error_code(i: &DeploymentInfo) -> Option<ErrorCode> {
    i.error_information.as_ref().and_then(|e| e.code.clone())
}

/// The rollback deployment the original names, checked from both ends.
async fn rollback_of(w: &World, original: &DeploymentInfo) -> DeploymentInfo {
    let id = original.deployment_id.clone().unwrap();
    let rb_id = original
        .rollback_info
        .as_ref()
        .and_then(|r| r.rollback_deployment_id.clone())
        .expect("rollbackInfo.rollbackDeploymentId on the original");
    assert_ne!(rb_id, id, "a rollback is a new deployment with its own id");
    let rb = deployment_info(&w.cfg, &rb_id).await;
    assert_eq!(rb.creator, Some(DeploymentCreator::CodeDeployRollback));
    assert_eq!(
        rb.rollback_info
            .as_ref()
            .and_then(|r| r.rollback_triggering_deployment_id.clone()),
        Some(id)
    );
    rb
}

#[tokio::test]
async fn canary_shifts_ten_percent_then_all_over_scaled_time() {
    let w = world(CANARY_5_MINUTES, &[PRE, POST], 0.01).await;
    let id = deploy(&w, Some(PRE), Some(POST)).await;
    assert!(
        id.len() == 11
            && id.starts_with("d-")
            && id[2..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        "AWS deployment ids are d-XXXXXXXXX: {id}"
    );
    // Nothing moves before BeforeAllowTraffic succeeds.
    let (dep, _) = hook_event(&w.acct, PRE).await;
    assert_eq!(dep, id);
    assert_eq!(
        deployment_info(&w.cfg, &id).await.status,
        Some(DeploymentStatus::InProgress)
    );
    assert_eq!(live_alias(&w.cfg, BOT).await, ("1".into(), BTreeMap::new()));

    answer_hook(&w.acct, PRE, LifecycleEventStatus::Succeeded).await;
    canary_reached(&w).await;
    assert_eq!(
        live_alias(&w.cfg, BOT).await,
        ("1".into(), BTreeMap::from([("2".to_string(), 0.1)])),
        "the canary: version 1 stays the alias's version, 10 % routed to 2"
    );
    answer_hook(&w.acct, POST, LifecycleEventStatus::Succeeded).await;
    let done = finished(&w.cfg, &id).await;
    assert_eq!(done.status, Some(DeploymentStatus::Succeeded), "{done:?}");
    assert_eq!(live_alias(&w.cfg, BOT).await, ("2".into(), BTreeMap::new()));
    assert_eq!(done.creator, Some(DeploymentCreator::User));
    assert!(
        done.complete_time.is_some()
            && done.error_information.is_none()
            && done.rollback_info.is_none()
    );

    let t = timeline(&w, &id).await;
    let shifts = target_weights(&t);
    assert_eq!(
        shifts.iter().map(|s| s.1).collect::<Vec<_>>(),
        vec![0.0, 0.1, 1.0],
        "{t}"
    );
    let canary_for = shifts[2].0 - shifts[1].0;
    assert!(
        (300.0..450.0).contains(&canary_for),
        "10 % for five (scaled) minutes, was {canary_for} s: {t}"
    );
    assert_eq!(
        lifecycle(&t),
        pairs(&[
            ("BeforeAllowTraffic", "Succeeded"),
            ("AllowTraffic", "Succeeded"),
            ("AfterAllowTraffic", "Succeeded")
        ])
    );
}

#[tokio::test]
async fn the_appspec_is_read_by_sha256_from_get_application_revision() {
    let w = world(ALL_AT_ONCE, &[PRE], 0.01).await;
    let id = deploy(&w, Some(PRE), None).await;
    let revision = deployment_info(&w.cfg, &id)
        .await
        .revision
        .expect("revision");
    let by_hash = revision.app_spec_content.clone().expect("appSpecContent");
    assert!(by_hash.content.is_none(), "GetDeployment shows no content");
    assert_eq!(by_hash.sha256.as_deref().map(str::len), Some(64));

    let got =
        w.cd.get_application_revision()
            .application_name(APP)
            .revision(revision)
            .send()
            .await
            .expect("GetApplicationRevision");
    let content = got
        .revision
        .and_then(|r| r.app_spec_content)
        .and_then(|a| a.content);
    assert_eq!(content, Some(appspec(Some(PRE), None)));
    let info = got.revision_info.expect("revisionInfo");
    assert_eq!(info.deployment_groups, Some(vec![GROUP.to_string()]));

    // The hook's own reader (guardian) resolves the target through the same calls.
    let target = CodeDeploy::new(w.cd.clone()).revision(&id).await.unwrap();
    assert_eq!(
        target,
        guardian_aws::codedeploy::Revision::AppSpecContent(appspec(Some(PRE), None))
    );
    passes(&w, &id).await;
}

#[tokio::test]
async fn linear_shifts_ten_percent_every_interval() {
    let w = world(LINEAR_EVERY_MINUTE, &[PRE], 0.01).await;
    let id = deploy(&w, Some(PRE), None).await;
    passes(&w, &id).await;
    assert_eq!(live_alias(&w.cfg, BOT).await, ("2".into(), BTreeMap::new()));

    let t = timeline(&w, &id).await;
    let shifts = target_weights(&t);
    let weights: Vec<f64> = shifts.iter().map(|s| s.1).collect();
    assert_eq!(
        weights,
        vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        "{t}"
    );
    for step in shifts[1..].windows(2) {
        let gap = step[1].0 - step[0].0;
        assert!(
            (60.0..150.0).contains(&gap),
            "one (scaled) minute per step, was {gap}: {t}"
        );
    }
    assert_eq!(
        lifecycle(&t)[2],
        ("AfterAllowTraffic".into(), "Skipped".into())
    );
}

#[tokio::test]
async fn a_custom_deployment_configuration_shifts_as_configured() {
    let w = world(ALL_AT_ONCE, &[PRE], 0.005).await;
    let routing = TrafficRoutingConfig::builder()
        .r#type(TrafficRoutingType::TimeBasedCanary)
        .time_based_canary(
            TimeBasedCanary::builder()
                .canary_percentage(25)
                .canary_interval(2)
                .build(),
        )
        .build();
    let create = || {
        w.cd.create_deployment_config()
            .deployment_config_name("Canary25Percent2Minutes")
            .compute_platform(ComputePlatform::Lambda)
            .traffic_routing_config(routing.clone())
            .send()
    };
    create().await.expect("CreateDeploymentConfig");
    let again = create().await.unwrap_err().into_service_error();
    assert!(
        again.is_deployment_config_already_exists_exception(),
        "{again:?}"
    );
    let got =
        w.cd.get_deployment_config()
            .deployment_config_name("Canary25Percent2Minutes")
            .send()
            .await
            .unwrap()
            .deployment_config_info
            .unwrap();
    assert_eq!(got.traffic_routing_config, Some(routing));

    let appspec = appspec(Some(PRE), None);
    let custom = Some("Canary25Percent2Minutes");
    let id = try_deployment(&w.cfg, APP, GROUP, AppSpec::Content(&appspec), custom)
        .await
        .expect("CreateDeployment");
    let done = passes(&w, &id).await;
    assert_eq!(
        done.deployment_config_name.as_deref(),
        Some("Canary25Percent2Minutes")
    );
    let shifts = target_weights(&timeline(&w, &id).await);
    assert_eq!(
        shifts.iter().map(|s| s.1).collect::<Vec<_>>(),
        vec![0.0, 0.25, 1.0]
    );
    assert!(shifts[2].0 - shifts[1].0 >= 120.0, "{shifts:?}");
}

#[tokio::test]
async fn a_failed_hook_rolls_back_as_a_new_deployment() {
    let w = world(CANARY_5_MINUTES, &[PRE, POST], 0.01).await;
    let id = deploy(&w, Some(PRE), Some(POST)).await;
    let (_, exec) = answer_hook(&w.acct, PRE, LifecycleEventStatus::Failed).await;

    let original = finished(&w.cfg, &id).await;
    assert_eq!(original.status, Some(DeploymentStatus::Failed));
    assert_eq!(error_code(&original), Some(ErrorCode::HookExecutionFailure));
    let rb = rollback_of(&w, &original).await;
    let rb = finished(&w.cfg, rb.deployment_id.as_deref().unwrap()).await;
    assert_eq!(rb.status, Some(DeploymentStatus::Succeeded));
    assert_eq!(
        rb.deployment_config_name.as_deref(),
        Some("CodeDeployDefault.LambdaAllAtOnce")
    );
    assert_eq!(live_alias(&w.cfg, BOT).await, ("1".into(), BTreeMap::new()));

    // The traffic never moved and AfterAllowTraffic never ran.
    let t = timeline(&w, &id).await;
    assert_eq!(
        target_weights(&t).iter().map(|s| s.1).collect::<Vec<_>>(),
        vec![0.0, 0.0]
    );
    assert_eq!(
        lifecycle(&t),
        pairs(&[
            ("BeforeAllowTraffic", "Failed"),
            ("AllowTraffic", "Skipped"),
            ("AfterAllowTraffic", "Skipped")
        ])
    );
    assert!(w.acct.control.invocations(POST).await.is_empty());
    // Lambda retries async hooks: a late second report is refused, as on AWS.
    let late =
        w.cd.put_lifecycle_event_hook_execution_status()
            .deployment_id(&id)
            .lifecycle_event_hook_execution_id(exec)
            .status(LifecycleEventStatus::Succeeded)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
    assert!(
        late.is_lifecycle_event_already_completed_exception(),
        "{late:?}"
    );
}

#[tokio::test]
async fn an_alarm_mid_canary_stops_and_rolls_back() {
    let w = world(CANARY_30_MINUTES, &[PRE], 0.01).await;
    let id = canary(&w).await;
    fire_alarm(&w.cfg).await;

    let original = finished(&w.cfg, &id).await;
    assert_eq!(
        original.status,
        Some(DeploymentStatus::Stopped),
        "{original:?}"
    );
    assert_eq!(error_code(&original), Some(ErrorCode::AlarmActive));
    let message = original
        .error_information
        .and_then(|e| e.message)
        .unwrap_or_default();
    assert!(message.contains(ALARM), "{message}");
    let rb = rollback_of(&w, &deployment_info(&w.cfg, &id).await).await;
    assert_eq!(
        live_alias(&w.cfg, BOT).await,
        ("1".into(), BTreeMap::new()),
        "flipped back at once"
    );
    let rb = finished(&w.cfg, rb.deployment_id.as_deref().unwrap()).await;
    assert_eq!(
        rb.status,
        Some(DeploymentStatus::Succeeded),
        "a rollback does not watch the alarm"
    );
    let shifts = target_weights(&timeline(&w, &id).await);
    assert_eq!(
        shifts.iter().map(|s| s.1).collect::<Vec<_>>(),
        vec![0.0, 0.1, 0.0]
    );
    assert!(
        shifts[2].0 - shifts[1].0 < 1800.0,
        "stopped before the canary ended: {shifts:?}"
    );
}

#[tokio::test]
async fn stop_with_rollback_rolls_back_and_the_rollback_can_be_stopped_too() {
    let w = world(
        CANARY_30_MINUTES,
        &[PRE],
        0.1, // the rollback stays in flight for 3 s
    )
    .await;
    let id = canary(&w).await;

    // What the kill switch does: stop the group's in-flight deployments, with rollback.
    assert_eq!(in_flight(&w).await, vec![id.clone()]);
    stop(&w, &id).await.expect("StopDeployment");
    let original = deployment_info(&w.cfg, &id).await;
    assert_eq!(
        original.status,
        Some(DeploymentStatus::Stopped),
        "stopped when the call returns"
    );
    assert_eq!(error_code(&original), Some(ErrorCode::ManualStop));
    assert_eq!(
        live_alias(&w.cfg, BOT).await,
        ("1".into(), BTreeMap::new()),
        "flipped back at once"
    );
    let rb = rollback_of(&w, &original).await;
    let rb_id = rb.deployment_id.unwrap();

    // The rollback is itself in flight. Stopping it (a second kill-switch pass) is allowed,
    // never rolls back the rollback, and leaves the alias where the flip put it.
    assert_eq!(in_flight(&w).await, vec![rb_id.clone()]);
    stop(&w, &rb_id).await.expect("StopDeployment (rollback)");
    let rb = deployment_info(&w.cfg, &rb_id).await;
    assert_eq!(rb.status, Some(DeploymentStatus::Stopped));
    assert!(
        rb.rollback_info
            .and_then(|r| r.rollback_deployment_id)
            .is_none()
    );
    assert_eq!(live_alias(&w.cfg, BOT).await, ("1".into(), BTreeMap::new()));
    assert!(in_flight(&w).await.is_empty());
    let again = stop(&w, &rb_id).await.unwrap_err();
    assert!(
        again.is_deployment_already_completed_exception(),
        "{again:?}"
    );
    assert_eq!(
        w.acct.control.stopped_deployments().await,
        vec![
            json!({"deploymentId": id, "autoRollbackEnabled": true}),
            json!({"deploymentId": rb_id, "autoRollbackEnabled": true})
        ]
    );
}

async fn in_flight(w: &World) -> Vec<String> {
    w.cd.list_deployments()
        .application_name(APP)
        .deployment_group_name(GROUP)
        .include_only_statuses(DeploymentStatus::Created)
        .include_only_statuses(DeploymentStatus::InProgress)
        .send()
        .await
        .expect("ListDeployments")
        .deployments
        .unwrap_or_default()
}

async fn stop(
    w: &World,
    id: &str,
) -> Result<(), aws_sdk_codedeploy::operation::stop_deployment::StopDeploymentError> {
    let out =
        w.cd.stop_deployment()
            .deployment_id(id)
            .auto_rollback_enabled(true)
            .send()
            .await
            .map_err(|e| e.into_service_error())?;
    assert_eq!(
        out.status,
        Some(aws_sdk_codedeploy::types::StopStatus::Succeeded)
    );
    Ok(())
}

#[tokio::test]
async fn stop_without_rollback_leaves_the_alias_weighted_and_blocks_the_next_deployment() {
    let w = world(CANARY_30_MINUTES, &[PRE], 0.01).await;
    let id = canary(&w).await;
    w.cd.stop_deployment()
        .deployment_id(&id)
        .send()
        .await
        .expect("StopDeployment");

    let original = deployment_info(&w.cfg, &id).await;
    assert_eq!(original.status, Some(DeploymentStatus::Stopped));
    assert!(
        original.rollback_info.is_none(),
        "no rollback was asked for"
    );
    assert_eq!(
        live_alias(&w.cfg, BOT).await,
        ("1".into(), BTreeMap::from([("2".to_string(), 0.1)])),
        "AWS leaves a stopped Lambda deployment's alias on two versions"
    );
    // ... and the next deployment fails until the weights are removed (troubleshooting guide).
    let next = deploy(&w, Some(PRE), None).await;
    let next = finished(&w.cfg, &next).await;
    assert_eq!(next.status, Some(DeploymentStatus::Failed));
    assert_eq!(
        error_code(&next),
        Some(ErrorCode::InvalidLambdaConfiguration)
    );
}

#[tokio::test]
async fn a_hook_that_never_reports_fails_the_deployment_after_an_hour() {
    let w = world(ALL_AT_ONCE, &[PRE], 0.001).await;
    let id = deploy(&w, Some(PRE), None).await;
    hook_event(&w.acct, PRE).await;
    let original = finished(&w.cfg, &id).await;
    assert_eq!(original.status, Some(DeploymentStatus::Failed));
    assert_eq!(error_code(&original), Some(ErrorCode::HookExecutionFailure));
    let t = timeline(&w, &id).await;
    let before = &t["lifecycleEvents"][0];
    let waited = before["end"].as_f64().unwrap() - before["start"].as_f64().unwrap();
    assert!((3600.0..4500.0).contains(&waited), "one (scaled) hour: {t}");
    rollback_of(&w, &deployment_info(&w.cfg, &id).await).await;
    assert_eq!(live_alias(&w.cfg, BOT).await, ("1".into(), BTreeMap::new()));
}

#[tokio::test]
async fn a_hook_not_named_codedeployhook_is_denied_to_the_service_role() {
    let w = world(ALL_AT_ONCE, &["pre-traffic-check"], 0.01).await;
    let id = deploy(&w, Some("pre-traffic-check"), None).await;
    let original = finished(&w.cfg, &id).await;
    assert_eq!(original.status, Some(DeploymentStatus::Failed));
    assert_eq!(error_code(&original), Some(ErrorCode::IamRolePermissions));
    assert!(
        w.acct
            .control
            .invocations("pre-traffic-check")
            .await
            .is_empty(),
        "the hook is never invoked"
    );
    let denials = w.acct.control.get("/_ext/iam/denials").await;
    let denied = denials
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["source"] == "codedeploy:hook")
        .unwrap_or_else(|| panic!("the denial is recorded: {denials}"));
    assert_eq!(denied["action"], "lambda:InvokeFunction");
    assert_eq!(denied["resource"], w.acct.function_arn("pre-traffic-check"));
    assert_eq!(live_alias(&w.cfg, BOT).await, ("1".into(), BTreeMap::new()));
}

#[tokio::test]
async fn one_deployment_at_a_time_per_group() {
    let w = world(ALL_AT_ONCE, &[PRE], 0.01).await;
    let first = deploy(&w, Some(PRE), None).await;
    let second = try_deploy(&w, Some(PRE), None).await.unwrap_err();
    assert!(
        matches!(
            second,
            aws_sdk_codedeploy::Error::DeploymentLimitExceededException(_)
        ),
        "{second:?}"
    );
    passes(&w, &first).await;
}

#[tokio::test]
async fn each_state_change_reaches_eventbridge_rules() {
    let w = world(ALL_AT_ONCE, &[PRE, "deploy-watch"], 0.01).await;
    let rule_arn = rule(
        &w.acct,
        "deployments",
        json!({"source": ["aws.codedeploy"],
               "detail-type": ["CodeDeploy Deployment State-change Notification"]}),
        json!([{"Id": "watch", "Arn": w.acct.function_arn("deploy-watch")}]),
    )
    .await;
    permit(&w.cfg, "deploy-watch", "events.amazonaws.com", &rule_arn).await;

    let id = deploy(&w, Some(PRE), None).await;
    answer_hook(&w.acct, PRE, LifecycleEventStatus::Failed).await;
    let rb = rollback_of(&w, &finished(&w.cfg, &id).await).await;
    let rb = rb.deployment_id.unwrap();
    finished(&w.cfg, &rb).await;

    let states = eventually(
        "four state changes delivered",
        Duration::from_secs(30),
        || async {
            let got: Vec<Value> = w.acct.control.invocations("deploy-watch").await;
            (got.len() >= 4).then_some(got)
        },
    )
    .await;
    let mut seen: Vec<(String, String)> = states
        .iter()
        .map(|e| {
            let p = &e["payload"];
            assert_eq!(p["source"], "aws.codedeploy");
            assert_eq!(p["detail"]["application"], APP);
            assert_eq!(p["detail"]["deploymentGroup"], GROUP);
            (
                p["detail"]["deploymentId"].as_str().unwrap().to_string(),
                p["detail"]["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    let mut wanted = vec![
        (id.clone(), "START".to_string()),
        (id, "FAILURE".to_string()),
        (rb.clone(), "START".to_string()),
        (rb, "SUCCESS".to_string()),
    ];
    wanted.sort();
    assert_eq!(seen, wanted);
}
