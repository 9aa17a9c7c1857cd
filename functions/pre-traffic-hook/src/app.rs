//! The clients and configuration one invocation works with, built once at cold start.

use guardian_aws::clients::SdkConfig;
use guardian_aws::cloudwatch::CloudWatch;
use guardian_aws::codedeploy::CodeDeploy;
use guardian_aws::lambda::Lambda;
use guardian_aws::sns::Sns;

use crate::config::Config;

#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    pub(crate) codedeploy: CodeDeploy,
    pub(crate) lambda: Lambda,
    pub(crate) sns: Sns,
    pub(crate) cloudwatch: CloudWatch,
}

impl App {
    pub fn new(sdk: &SdkConfig, config: Config) -> Self {
        App {
            config,
            codedeploy: CodeDeploy::from_sdk(sdk),
            lambda: Lambda::from_sdk(sdk),
            sns: Sns::from_sdk(sdk),
            cloudwatch: CloudWatch::from_sdk(sdk),
        }
    }
}
