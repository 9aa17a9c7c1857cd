//! The clients and configuration one invocation works with, built once at cold start.

use guardian_aws::clients::SdkConfig;
use guardian_aws::codedeploy::CodeDeploy;
use guardian_aws::lambda::Lambda;
use guardian_aws::scheduler::Scheduler;
use guardian_aws::sns::Sns;
use guardian_aws::sqs::Sqs;

use crate::config::Config;
use crate::ports::Ports;

#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    lambda: Lambda,
    sns: Sns,
    codedeploy: CodeDeploy,
    scheduler: Scheduler,
    sqs: Sqs,
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

/// In production the flows call the AWS adapters.
impl Ports for App {
    type Lambda = Lambda;
    type CodeDeploy = CodeDeploy;
    type Scheduler = Scheduler;
    type Sns = Sns;
    type Sqs = Sqs;
    fn config(&self) -> &Config {
        &self.config
    }
    fn lambda(&self) -> &Lambda {
        &self.lambda
    }
    fn codedeploy(&self) -> &CodeDeploy {
        &self.codedeploy
    }
    fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }
    fn sns(&self) -> &Sns {
        &self.sns
    }
    fn sqs(&self) -> &Sqs {
        &self.sqs
    }
}
