//! The services a verdict goes to, each behind a narrow port: the guardian_aws adapters in
//! production, in-memory fakes in the verdict flow's unit tests. A port call is raw; the
//! flow bounds each one by the deadline.

use guardian::publication::Publication;
use guardian_aws::codedeploy::{CodeDeploy, HookStatus, Reported};
use guardian_aws::error::AwsCallError;
use guardian_aws::sns::Sns;

use crate::app::App;
use crate::config::Config;

/// What the verdict flow works with: the configuration and each service behind its port.
pub(crate) trait Ports {
    type CodeDeploy: HookStatuses;
    type Sns: Alerts;
    fn config(&self) -> &Config;
    fn codedeploy(&self) -> &Self::CodeDeploy;
    fn sns(&self) -> &Self::Sns;
}

/// CodeDeploy's record of the hook's lifecycle event.
pub(crate) trait HookStatuses {
    async fn report_hook_status(
        &self,
        deployment_id: &str,
        execution_id: &str,
        status: HookStatus,
    ) -> Result<Reported, AwsCallError>;
}

/// The topic the verdict is published to.
pub(crate) trait Alerts {
    async fn publish(&self, topic_arn: &str, p: &Publication) -> Result<String, AwsCallError>;
}

impl HookStatuses for CodeDeploy {
    async fn report_hook_status(
        &self,
        deployment_id: &str,
        execution_id: &str,
        status: HookStatus,
    ) -> Result<Reported, AwsCallError> {
        CodeDeploy::report_hook_status(self, deployment_id, execution_id, status).await
    }
}

impl Alerts for Sns {
    async fn publish(&self, topic_arn: &str, p: &Publication) -> Result<String, AwsCallError> {
        Sns::publish(self, topic_arn, p).await
    }
}

/// In production the verdict goes to the AWS adapters.
impl Ports for App {
    type CodeDeploy = CodeDeploy;
    type Sns = Sns;
    fn config(&self) -> &Config {
        &self.config
    }
    fn codedeploy(&self) -> &CodeDeploy {
        &self.codedeploy
    }
    fn sns(&self) -> &Sns {
        &self.sns
    }
}
