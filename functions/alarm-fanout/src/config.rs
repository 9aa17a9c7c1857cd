//! The fan-out's configuration (env), read once at cold start.

use std::time::Duration;

use guardian::config::{ConfigError, Env};
use guardian::fanout::Severity;
use guardian::fanout::glob::Glob;
use guardian::fanout::render::LinkRegion;
use guardian::fanout::routing::{ForwardOk, Routing, SeverityRule, Topics};
use guardian::guarded::{GUARDED_FUNCTIONS, GuardedFunctions};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub topics: Topics,
    /// Receives every forwarded alert again, in the chat custom-notification schema.
    pub chat_topic: Option<String>,
    /// Another account's topic that receives every forwarded alert too (organisation scale).
    pub central_topic: Option<String>,
    pub routing: Routing,
    pub forward_ok: ForwardOk,
    /// Alarms whose entering ALARM stops trading.
    pub halt_on: Vec<Glob>,
    pub kill_switch_function: Option<String>,
    /// The functions the kill switch guards (`GUARDED_FUNCTIONS`, optional): an auto-halt
    /// names the one its alarm watches.
    pub guarded: GuardedFunctions,
    pub links: LinkRegion,
    pub retry: RetryPolicy,
}

/// How hard to try before giving up on a publication.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Rounds of `PublishBatch` calls (the first try included); each SDK call also retries
    /// transient errors itself.
    pub rounds: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Batch calls in flight at once.
    pub concurrency: usize,
    /// Time kept free before the Lambda deadline to return the result.
    pub deadline_margin: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            rounds: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(3),
            concurrency: 4,
            deadline_margin: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The pause before retry round `round` (1 = the first retry): doubling, capped.
    pub(crate) fn backoff(&self, round: u32) -> Duration {
        let factor = 2u32.saturating_pow(round.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, ConfigError> {
        let critical = env.required(
            "CRITICAL_TOPIC_ARN",
            "set it to the ARN of the SNS topic for critical alerts",
        )?;
        let topics = Topics::with_fallbacks(
            critical,
            env.optional("WARNING_TOPIC_ARN"),
            env.optional("INFO_TOPIC_ARN"),
        );
        let rules: Vec<SeverityRule> = env
            .json(
                "SEVERITY_RULES",
                r#"use a JSON array such as [{"pattern":"trading-*","severity":"critical"}] (severity: critical, warning or info)"#,
            )?
            .unwrap_or_default();
        if let Some(i) = rules.iter().position(|r| r.pattern.trim().is_empty()) {
            return Err(ConfigError::malformed(
                "SEVERITY_RULES",
                format!("rule {i} has an empty pattern"),
                "give every rule a glob on the alarm name, e.g. \"trading-*\"",
            ));
        }
        let default_severity = env.parsed(
            "DEFAULT_SEVERITY",
            Severity::Warning,
            "use critical, warning or info",
        )?;
        let forward_ok = env.parsed(
            "FORWARD_OK",
            ForwardOk::AfterAlarm,
            "use after_alarm, always or never",
        )?;
        let halt_on: Vec<Glob> = env
            .list("HALT_ON_ALARMS")
            .iter()
            .map(|p| Glob::new(p))
            .collect();
        let kill_switch_function = env.optional("KILL_SWITCH_FUNCTION");
        if !halt_on.is_empty() && kill_switch_function.is_none() {
            return Err(ConfigError::Missing {
                var: "KILL_SWITCH_FUNCTION".into(),
                hint: "HALT_ON_ALARMS is set, so set KILL_SWITCH_FUNCTION to the kill switch's \
                       function name or ARN (or unset HALT_ON_ALARMS)"
                    .into(),
            });
        }
        let central_topic = env.optional_topic_arn("CENTRAL_TOPIC_ARN")?;
        Ok(Config {
            topics,
            chat_topic: env.optional("CHAT_TOPIC_ARN"),
            central_topic,
            routing: Routing::new(&rules, default_severity),
            forward_ok,
            halt_on,
            kill_switch_function,
            guarded: GuardedFunctions::new(env.list(GUARDED_FUNCTIONS)),
            links: LinkRegion {
                override_region: env.optional("CONSOLE_REGION"),
                fallback: env
                    .optional("AWS_REGION")
                    .unwrap_or_else(|| "us-east-1".into()),
            },
            retry: RetryPolicy::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        let pauses: Vec<u64> = (1..=6).map(|r| p.backoff(r).as_millis() as u64).collect();
        assert_eq!(pauses, [200, 400, 800, 1600, 3000, 3000]);
    }

    #[test]
    fn a_central_topic_is_optional_and_checked() {
        let env = |central: &str| {
            Env::from_pairs([
                (
                    "CRITICAL_TOPIC_ARN",
                    "arn:aws:sns:us-east-1:123456789012:critical",
                ),
                ("CENTRAL_TOPIC_ARN", central),
            ])
        };
        assert_eq!(Config::from_env(&env("")).unwrap().central_topic, None);
        let central = "arn:aws:sns:eu-west-1:999999999999:org-alerts";
        let some = Config::from_env(&env(central)).unwrap();
        assert_eq!(some.central_topic.as_deref(), Some(central));
        let err = Config::from_env(&env("org-alerts")).unwrap_err();
        assert!(err.to_string().contains("CENTRAL_TOPIC_ARN"), "{err}");
    }
}
