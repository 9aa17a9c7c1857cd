//! The ports with the configuration narrowed to one guarded function's DLQ: a run reads,
//! redrives and reports exactly one queue, whichever function the request named.

use crate::config::Config;
use crate::ports::Ports;

pub(crate) struct Scoped<'a, P> {
    ports: &'a P,
    config: Config,
}

impl<'a, P: Ports> Scoped<'a, P> {
    /// `None` when `function` has no DLQ in the configuration.
    pub fn to_function(ports: &'a P, function: &str) -> Option<Self> {
        let config = ports.config().for_function(function)?;
        Some(Scoped { ports, config })
    }
}

impl<P: Ports> Ports for Scoped<'_, P> {
    type Sqs = P::Sqs;
    type Lambda = P::Lambda;
    type Sns = P::Sns;
    fn config(&self) -> &Config {
        &self.config
    }
    fn sqs(&self) -> &P::Sqs {
        self.ports.sqs()
    }
    fn lambda(&self) -> &P::Lambda {
        self.ports.lambda()
    }
    fn sns(&self) -> &P::Sns {
        self.ports.sns()
    }
}
