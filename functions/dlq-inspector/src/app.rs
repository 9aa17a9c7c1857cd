//! The clients and configuration one invocation works with, built once at cold start.

use guardian_aws::clients::SdkConfig;
use guardian_aws::lambda::Lambda;
use guardian_aws::sns::Sns;
use guardian_aws::sqs::Sqs;

use crate::config::Config;
use crate::ports::Ports;

#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    sqs: Sqs,
    lambda: Lambda,
    sns: Sns,
}

impl App {
    pub fn new(sdk: &SdkConfig, config: Config) -> Self {
        App {
            config,
            sqs: Sqs::from_sdk(sdk),
            lambda: Lambda::from_sdk(sdk),
            sns: Sns::from_sdk(sdk),
        }
    }
}

/// In production the flows call the AWS adapters.
impl Ports for App {
    type Sqs = Sqs;
    type Lambda = Lambda;
    type Sns = Sns;
    fn config(&self) -> &Config {
        &self.config
    }
    fn sqs(&self) -> &Sqs {
        &self.sqs
    }
    fn lambda(&self) -> &Lambda {
        &self.lambda
    }
    fn sns(&self) -> &Sns {
        &self.sns
    }
}
