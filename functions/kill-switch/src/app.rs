//! The clients and configuration one invocation works with, built once at cold start.

use guardian_aws::clients::SdkConfig;
use guardian_aws::codedeploy::CodeDeploy;
use guardian_aws::lambda::Lambda;
use guardian_aws::scheduler::Scheduler;
use guardian_aws::sns::Sns;
use guardian_aws::sqs::Sqs;

use crate::config::Config;

#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    pub lambda: Lambda,
    pub sns: Sns,
    pub codedeploy: CodeDeploy,
    pub scheduler: Scheduler,
    pub sqs: Sqs,
}

impl App {
    pub fn new(sdk: &SdkConfig, config: Config) -> Self {
        App {
            config,
            lambda: Lambda::from_sdk(sdk),
            sns: Sns::from_sdk(sdk),
            codedeploy: CodeDeploy::from_sdk(sdk),
            scheduler: Scheduler::from_sdk(sdk),
            sqs: Sqs::from_sdk(sdk),
        }
    }
}
