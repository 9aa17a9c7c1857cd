//! CodeDeploy for Lambda as the tests drive it: an application with a deployment group (bare,
//! or as SAM makes it), deployments of an AppSpec, a hook's lifecycle event answered as a hook
//! function would, and what CodeDeploy recorded.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_codedeploy::types::{
    Alarm, AlarmConfiguration, AppSpecContent, AutoRollbackConfiguration, AutoRollbackEvent,
    ComputePlatform, DeploymentInfo, DeploymentStatus, LifecycleEventStatus, RevisionLocation,
    RevisionLocationType,
};
use serde_json::{Value, json};

use crate::{TestAccount, codedeploy_service_role, eventually};

/// How a deployment group is watched and rolled back, as SAM makes the group of a function
/// with a `DeploymentPreference`.
#[derive(Debug, Clone, Copy)]
pub struct Rollout<'a> {
    /// The deployment configuration, e.g. `CodeDeployDefault.LambdaCanary10Percent5Minutes`.
    pub config: &'a str,
    /// The alarm that stops the deployment (it must exist).
    pub alarm: &'a str,
}

/// A Lambda application `app` with deployment group `group`. Without a rollout, the group's
/// service role is only named (deployments the test drives itself); with one, the group is
/// SAM's: its service role with AWSCodeDeployRoleForLambda, the alarm, and automatic rollback
/// on failure, alarm and stop request.
pub async fn deployment_group(
    acct: &TestAccount,
    app: &str,
    group: &str,
    rollout: Option<Rollout<'_>>,
) {
    let cfg = acct.sdk_config().await;
    let cd = aws_sdk_codedeploy::Client::new(&cfg);
    cd.create_application()
        .application_name(app)
        .compute_platform(ComputePlatform::Lambda)
        .send()
        .await
        .expect("CreateApplication");
    let mut create = cd
        .create_deployment_group()
        .application_name(app)
        .deployment_group_name(group);
    create = match rollout {
        None => create.service_role_arn(acct.arn("iam", "role/codedeploy")),
        Some(rollout) => create
            .service_role_arn(codedeploy_service_role(&cfg).await)
            .deployment_config_name(rollout.config)
            .alarm_configuration(
                AlarmConfiguration::builder()
                    .enabled(true)
                    .alarms(Alarm::builder().name(rollout.alarm).build())
                    .build(),
            )
            .auto_rollback_configuration(
                AutoRollbackConfiguration::builder()
                    .enabled(true)
                    .events(AutoRollbackEvent::DeploymentFailure)
                    .events(AutoRollbackEvent::DeploymentStopOnAlarm)
                    .events(AutoRollbackEvent::DeploymentStopOnRequest)
                    .build(),
            ),
    };
    create.send().await.expect("CreateDeploymentGroup");
}

/// The AppSpec CloudFormation writes for `CodeDeployLambdaAliasUpdate`: `function`'s alias
/// `live` from version 1 to 2, with the hooks given.
pub fn appspec(function: &str, before: Option<&str>, after: Option<&str>) -> String {
    let hooks: Vec<Value> = [("BeforeAllowTraffic", before), ("AfterAllowTraffic", after)]
        .into_iter()
        .filter_map(|(event, hook)| hook.map(|h| json!({event: h})))
        .collect();
    let mut spec = json!({"version": 0.0, "Resources": [{function: {"Type": "AWS::Lambda::Function",
        "Properties": {"Name": function, "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}]});
    if !hooks.is_empty() {
        spec["Hooks"] = json!(hooks);
    }
    spec.to_string()
}

/// How a deployment's AppSpec text is registered.
#[derive(Debug, Clone, Copy)]
pub enum AppSpec<'a> {
    /// `AppSpecContent`, as CloudFormation registers it.
    Content(&'a str),
    /// The legacy `String` revision type.
    LegacyString(&'a str),
}

impl AppSpec<'_> {
    pub fn revision(self) -> RevisionLocation {
        #[allow(deprecated)]
        let location = match self {
            AppSpec::Content(text) => RevisionLocation::builder()
                .revision_type(RevisionLocationType::AppSpecContent)
                .app_spec_content(AppSpecContent::builder().content(text).build()),
            AppSpec::LegacyString(text) => RevisionLocation::builder()
                .revision_type(RevisionLocationType::String)
                .string(
                    aws_sdk_codedeploy::types::RawString::builder()
                        .content(text)
                        .build(),
                ),
        };
        location.build()
    }
}

/// CreateDeployment of `appspec` in the group (with the group's deployment configuration
/// unless `config` names another): its id, or CodeDeploy's refusal.
pub async fn try_deployment(
    cfg: &SdkConfig,
    app: &str,
    group: &str,
    appspec: AppSpec<'_>,
    config: Option<&str>,
) -> Result<String, aws_sdk_codedeploy::Error> {
    Ok(aws_sdk_codedeploy::Client::new(cfg)
        .create_deployment()
        .application_name(app)
        .deployment_group_name(group)
        .set_deployment_config_name(config.map(str::to_string))
        .revision(appspec.revision())
        .send()
        .await?
        .deployment_id
        .expect("deployment id"))
}

/// A deployment of `appspec` in the group: its id.
pub async fn deployment(cfg: &SdkConfig, app: &str, group: &str, appspec: AppSpec<'_>) -> String {
    try_deployment(cfg, app, group, appspec, None)
        .await
        .expect("CreateDeployment")
}

pub async fn deployment_info(cfg: &SdkConfig, id: &str) -> DeploymentInfo {
    aws_sdk_codedeploy::Client::new(cfg)
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .expect("GetDeployment")
        .deployment_info
        .expect("deploymentInfo")
}

/// Waits (up to 30 s) until the deployment is Succeeded, Failed or Stopped.
pub async fn finished(cfg: &SdkConfig, id: &str) -> DeploymentInfo {
    eventually(
        &format!("{id} to finish"),
        Duration::from_secs(30),
        || async {
            let i = deployment_info(cfg, id).await;
            matches!(
                i.status,
                Some(
                    DeploymentStatus::Succeeded
                        | DeploymentStatus::Failed
                        | DeploymentStatus::Stopped
                )
            )
            .then_some(i)
        },
    )
    .await
}

/// The lifecycle event CodeDeploy last sent the (scripted) hook function `hook`, once it
/// was invoked: `(deployment id, lifecycle event hook execution id)`.
pub async fn hook_event(acct: &TestAccount, hook: &str) -> (String, String) {
    let payload = eventually(
        &format!("{hook} to be invoked"),
        Duration::from_secs(30),
        || async {
            let calls = acct.control.invocations(hook).await;
            calls.last().map(|c| c["payload"].clone())
        },
    )
    .await;
    (
        payload["DeploymentId"].as_str().unwrap().to_string(),
        payload["LifecycleEventHookExecutionId"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// Answers `hook`'s lifecycle event with `status`, as a hook function would: the event's
/// `(deployment id, execution id)`.
pub async fn answer_hook(
    acct: &TestAccount,
    hook: &str,
    status: LifecycleEventStatus,
) -> (String, String) {
    let (deployment, execution) = hook_event(acct, hook).await;
    aws_sdk_codedeploy::Client::new(&acct.sdk_config().await)
        .put_lifecycle_event_hook_execution_status()
        .deployment_id(&deployment)
        .lifecycle_event_hook_execution_id(&execution)
        .status(status)
        .send()
        .await
        .expect("PutLifecycleEventHookExecutionStatus");
    (deployment, execution)
}
