//! The clients and configuration one invocation works with, built once at cold start.

use aws_config::SdkConfig;
use guardian::aws::codedeploy::CodeDeploy;
use guardian::aws::lambda::Lambda;
use guardian::aws::scheduler::Scheduler;
use guardian::aws::sns::Sns;
use guardian::aws::sqs::Sqs;

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
            lambda: Lambda::new(aws_sdk_lambda::Client::new(sdk)),
            sns: Sns::new(aws_sdk_sns::Client::new(sdk)),
            codedeploy: CodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk)),
            scheduler: Scheduler::new(aws_sdk_scheduler::Client::new(sdk)),
            sqs: Sqs::new(aws_sdk_sqs::Client::new(sdk)),
        }
    }
}
