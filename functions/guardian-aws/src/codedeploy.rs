//! CodeDeploy: reporting a lifecycle hook's verdict, reading a deployment's AppSpec
//! (`GetDeployment`, then `GetApplicationRevision` for the text),
//! finding and stopping in-flight deployments.

use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types::{
    DeploymentCreator, DeploymentStatus, LifecycleEventStatus, RevisionLocationType,
};

use crate::error::AwsCallError;
use crate::on_first_use::OnFirstUse;

/// A hook's verdict as CodeDeploy records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookStatus {
    Succeeded,
    Failed,
}

/// How a report ended. Lambda retries an async hook invocation, so CodeDeploy may already
/// hold a verdict for this execution: that counts as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    Recorded,
    AlreadyCompleted,
}

/// The deployment's revision as text, in the form it was registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    /// `AppSpecContent.content`: JSON or YAML.
    AppSpecContent(String),
    /// The deprecated `String` revision type: JSON or YAML in `string.content`.
    LegacyString(String),
    /// No inline revision (for example an S3 location): the caller must fall back.
    NotInline,
}

/// A deployment still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    pub id: String,
    /// CodeDeploy's rollback of a failed or stopped deployment: it returns the alias to the
    /// last good version, so stopping it could leave the bad one live.
    pub rollback: bool,
}

#[derive(Debug, Clone)]
pub struct CodeDeploy {
    client: OnFirstUse<Client>,
}

impl CodeDeploy {
    pub fn new(client: Client) -> Self {
        CodeDeploy {
            client: OnFirstUse::ready(client),
        }
    }

    /// The adapter over a client built from the function's shared SDK configuration.
    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        CodeDeploy {
            client: OnFirstUse::from_sdk(sdk, "codedeploy", Client::new),
        }
    }

    pub async fn report_hook_status(
        &self,
        deployment_id: &str,
        execution_id: &str,
        status: HookStatus,
    ) -> Result<Reported, AwsCallError> {
        let status = match status {
            HookStatus::Succeeded => LifecycleEventStatus::Succeeded,
            HookStatus::Failed => LifecycleEventStatus::Failed,
        };
        let result = self
            .client
            .get()
            .put_lifecycle_event_hook_execution_status()
            .deployment_id(deployment_id)
            .lifecycle_event_hook_execution_id(execution_id)
            .status(status)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Reported::Recorded),
            Err(e) => {
                let err = AwsCallError::from_sdk("PutLifecycleEventHookExecutionStatus", e);
                if err.is_code("LifecycleEventAlreadyCompletedException") {
                    Ok(Reported::AlreadyCompleted)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// The deployment's AppSpec. On AWS, `GetDeployment` returns an `AppSpecContent` revision
    /// by its sha256 only; the text comes from `GetApplicationRevision` (an inline `content`
    /// in `GetDeployment` is still taken as is).
    // The deprecated `String` revision type is still what older pipelines register.
    #[allow(deprecated)]
    pub async fn revision(&self, deployment_id: &str) -> Result<Revision, AwsCallError> {
        let out = self
            .client
            .get()
            .get_deployment()
            .deployment_id(deployment_id)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("GetDeployment", e))?;
        let Some(info) = out.deployment_info else {
            return Ok(Revision::NotInline);
        };
        let Some(revision) = info.revision else {
            return Ok(Revision::NotInline);
        };
        if let Some(content) = revision
            .app_spec_content
            .as_ref()
            .and_then(|a| a.content.clone())
        {
            return Ok(Revision::AppSpecContent(content));
        }
        let by_reference = revision.app_spec_content.is_some()
            || matches!(revision.revision_type, Some(RevisionLocationType::String))
                && revision
                    .string
                    .as_ref()
                    .and_then(|s| s.content.as_ref())
                    .is_none();
        if by_reference && let Some(application) = info.application_name {
            return self.registered_revision(&application, revision).await;
        }
        match (
            revision.revision_type,
            revision.string.and_then(|s| s.content),
        ) {
            (Some(RevisionLocationType::String) | None, Some(content)) => {
                Ok(Revision::LegacyString(content))
            }
            _ => Ok(Revision::NotInline),
        }
    }

    /// The text of a revision `GetDeployment` named only by its sha256.
    #[allow(deprecated)]
    async fn registered_revision(
        &self,
        application: &str,
        location: aws_sdk_codedeploy::types::RevisionLocation,
    ) -> Result<Revision, AwsCallError> {
        let out = self
            .client
            .get()
            .get_application_revision()
            .application_name(application)
            .revision(location)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("GetApplicationRevision", e))?;
        let Some(revision) = out.revision else {
            return Ok(Revision::NotInline);
        };
        if let Some(content) = revision.app_spec_content.and_then(|a| a.content) {
            return Ok(Revision::AppSpecContent(content));
        }
        Ok(match revision.string.and_then(|s| s.content) {
            Some(content) => Revision::LegacyString(content),
            None => Revision::NotInline,
        })
    }

    /// Deployments of `application`/`group` that have not finished yet, each marked when it is
    /// CodeDeploy's own rollback of another (creator `codeDeployRollback`, or rollback info
    /// naming the deployment it undoes).
    pub async fn in_flight_deployments(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Vec<InFlight>, AwsCallError> {
        let out = self
            .client
            .get()
            .list_deployments()
            .application_name(application)
            .deployment_group_name(group)
            .include_only_statuses(DeploymentStatus::Created)
            .include_only_statuses(DeploymentStatus::Queued)
            .include_only_statuses(DeploymentStatus::InProgress)
            .include_only_statuses(DeploymentStatus::Ready)
            .include_only_statuses(DeploymentStatus::Baking)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("ListDeployments", e))?;
        let mut found = Vec::new();
        for id in out.deployments.unwrap_or_default() {
            let info = self
                .client
                .get()
                .get_deployment()
                .deployment_id(&id)
                .send()
                .await
                .map_err(|e| AwsCallError::from_sdk("GetDeployment", e))?
                .deployment_info;
            let rollback = info.is_some_and(|d| {
                d.creator == Some(DeploymentCreator::CodeDeployRollback)
                    || d.rollback_info
                        .and_then(|r| r.rollback_triggering_deployment_id)
                        .is_some()
            });
            found.push(InFlight { id, rollback });
        }
        Ok(found)
    }

    /// Stops a deployment, rolling it back when `auto_rollback`.
    pub async fn stop_deployment(
        &self,
        deployment_id: &str,
        auto_rollback: bool,
    ) -> Result<(), AwsCallError> {
        self.client
            .get()
            .stop_deployment()
            .deployment_id(deployment_id)
            .auto_rollback_enabled(auto_rollback)
            .send()
            .await
            .map_err(|e| AwsCallError::from_sdk("StopDeployment", e))?;
        Ok(())
    }
}
