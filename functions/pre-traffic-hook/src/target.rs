//! Which function and version this deployment shifts to: from the deployment's AppSpec,
//! or the configured fallback when the AppSpec cannot be read.

use guardian::hook::appspec::{DeploymentTarget, target_from_appspec};
use guardian_aws::codedeploy::{CodeDeploy, Revision};
use guardian_aws::error::AwsCallError;

pub enum Resolution {
    Found(DeploymentTarget),
    /// CodeDeploy does not know the deployment: nothing can be reported for it either.
    UnknownDeployment(AwsCallError),
    /// Neither the AppSpec nor a fallback gave a target; the reason goes into the verdict.
    Unresolved(String),
}

pub async fn resolve(
    codedeploy: &CodeDeploy,
    deployment_id: &str,
    fallback: Option<&DeploymentTarget>,
) -> Resolution {
    let from_appspec = match codedeploy.revision(deployment_id).await {
        Ok(Revision::AppSpecContent(text) | Revision::LegacyString(text)) => {
            target_from_appspec(&text).map_err(|e| e.to_string())
        }
        Ok(Revision::NotInline) => {
            Err("the deployment's revision is not an inline AppSpec".to_string())
        }
        Err(e) if e.is_code("DeploymentDoesNotExistException") => {
            return Resolution::UnknownDeployment(e);
        }
        Err(e) => Err(format!("could not read the deployment: {e}")),
    };
    match (from_appspec, fallback) {
        (Ok(target), _) => Resolution::Found(target),
        (Err(why), Some(fallback)) => {
            tracing::warn!(
                deployment_id,
                function = %fallback.function,
                version = %fallback.version,
                "using TARGET_FUNCTION/TARGET_VERSION: {why}"
            );
            Resolution::Found(fallback.clone())
        }
        (Err(why), None) => Resolution::Unresolved(format!(
            "target not resolved: {why}; set TARGET_FUNCTION/TARGET_VERSION as a fallback"
        )),
    }
}
