//! The inspector's configuration, read once at cold start (names in the README section).

use std::time::Duration;

use guardian::config::{ConfigError, Env};
use guardian::dlq::redact::{DEFAULT_SENSITIVE_KEYS, Redactor};
use guardian::guarded::GuardedFunctions;

pub const DLQ_URL: &str = "DLQ_URL";
pub const REDRIVE_FUNCTION: &str = "REDRIVE_FUNCTION";
pub const SOURCE_QUEUE_URL: &str = "SOURCE_QUEUE_URL";
pub const ALERT_TOPIC_ARN: &str = "ALERT_TOPIC_ARN";
pub const SENSITIVE_KEYS: &str = "SENSITIVE_KEYS";
pub const GROUP_BY_POINTER: &str = "GROUP_BY_POINTER";
pub const MAX_MESSAGES_LIMIT: &str = "MAX_MESSAGES_LIMIT";
pub const SAMPLES: &str = "SAMPLES";
pub const DEADLINE_MARGIN_MS: &str = "DEADLINE_MARGIN_MS";

/// The function `redrive` re-invokes, with an optional version or alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveFunction {
    pub name: String,
    pub qualifier: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub dlq_url: String,
    /// The last path segment of `DLQ_URL`: what `purge` must be confirmed with.
    pub queue_name: String,
    pub redrive_function: RedriveFunction,
    pub source_queue_url: Option<String>,
    pub alert_topic_arn: String,
    pub redactor: Redactor,
    pub group_by_pointer: Option<String>,
    pub max_messages_limit: u64,
    pub samples: usize,
    pub deadline_margin: Duration,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, ConfigError> {
        let dlq_url = env.required(
            DLQ_URL,
            "set it to the guarded function's dead-letter queue URL, e.g. https://sqs.eu-west-1.amazonaws.com/123456789012/trading-bot-dlq",
        )?;
        let queue_name = dlq_url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty() && !n.contains(':'))
            .map(str::to_string)
            .ok_or_else(|| {
                ConfigError::malformed(
                    DLQ_URL,
                    format!("{dlq_url:?} has no queue name"),
                    "use the queue URL SQS shows, ending in /<queue name>",
                )
            })?;
        let guarded = GuardedFunctions::from_env(env)?;
        let redrive_function = redrive_function(env, &guarded)?;
        let keys = match env.optional(SENSITIVE_KEYS) {
            None => DEFAULT_SENSITIVE_KEYS
                .iter()
                .map(|k| k.to_string())
                .collect(),
            Some(_) => env.list(SENSITIVE_KEYS),
        };
        let redactor = Redactor::new(&keys).map_err(|e| {
            ConfigError::malformed(
                SENSITIVE_KEYS,
                e.to_string(),
                "use a comma-separated list of JSON key names",
            )
        })?;
        let group_by_pointer = env.optional(GROUP_BY_POINTER);
        if let Some(p) = &group_by_pointer
            && !p.starts_with('/')
        {
            return Err(ConfigError::malformed(
                GROUP_BY_POINTER,
                format!("{p:?} is not a JSON pointer"),
                "start it with '/', e.g. /order/symbol",
            ));
        }
        let max_messages_limit = env.parsed(
            MAX_MESSAGES_LIMIT,
            10_000u64,
            "use a whole number >= 1, e.g. 10000",
        )?;
        if max_messages_limit == 0 {
            return Err(ConfigError::malformed(
                MAX_MESSAGES_LIMIT,
                "0 would examine nothing",
                "use a whole number >= 1",
            ));
        }
        Ok(Config {
            dlq_url,
            queue_name,
            redrive_function,
            source_queue_url: env.optional(SOURCE_QUEUE_URL),
            alert_topic_arn: env.required(
                ALERT_TOPIC_ARN,
                "set it to the ARN of the topic that receives DLQ reports",
            )?,
            redactor,
            group_by_pointer,
            max_messages_limit,
            samples: env.parsed(SAMPLES, 3usize, "use a whole number of samples, e.g. 3")?,
            deadline_margin: Duration::from_millis(env.parsed(
                DEADLINE_MARGIN_MS,
                2_000u64,
                "use whole milliseconds, e.g. 2000",
            )?),
        })
    }
}

/// `REDRIVE_FUNCTION` (`name`, `name:qualifier` or an ARN), else the only guarded function.
fn redrive_function(env: &Env, guarded: &GuardedFunctions) -> Result<RedriveFunction, ConfigError> {
    let Some(reference) = env.optional(REDRIVE_FUNCTION) else {
        return guarded
            .single()
            .map(|name| RedriveFunction { name: name.to_string(), qualifier: None })
            .ok_or_else(|| ConfigError::Missing {
                var: REDRIVE_FUNCTION.into(),
                hint: "GUARDED_FUNCTIONS lists several functions: set it to the one this DLQ belongs to (name, name:alias or ARN)".into(),
            });
    };
    let name = guarded.resolve(&reference).ok_or_else(|| {
        ConfigError::malformed(
            REDRIVE_FUNCTION,
            format!("{reference:?} is not in GUARDED_FUNCTIONS"),
            "name one of the guarded functions (or add it to GUARDED_FUNCTIONS)",
        )
    })?;
    let parts: Vec<&str> = reference.split(':').collect();
    let qualifier = match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", _, q] => Some(q.to_string()),
        [_, q] => Some(q.to_string()),
        _ => None,
    };
    Ok(RedriveFunction { name, qualifier })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(extra: &[(&str, &str)]) -> Env {
        let mut pairs = vec![
            (DLQ_URL, "http://localhost/123456789012/trading-dlq"),
            ("GUARDED_FUNCTIONS", "trading-bot"),
            (ALERT_TOPIC_ARN, "arn:aws:sns:us-east-1:123456789012:alerts"),
        ];
        pairs.extend_from_slice(extra);
        Env::from_pairs(pairs)
    }

    #[test]
    fn defaults() {
        let c = Config::from_env(&env(&[])).unwrap();
        assert_eq!(c.queue_name, "trading-dlq");
        assert_eq!(
            c.redrive_function,
            RedriveFunction {
                name: "trading-bot".into(),
                qualifier: None
            }
        );
        assert_eq!(c.max_messages_limit, 10_000);
        assert_eq!(c.samples, 3);
        assert_eq!(c.deadline_margin, Duration::from_secs(2));
        assert_eq!(c.source_queue_url, None);
        assert_eq!(
            c.redactor.redact_body(r#"{"iban":"DE89"}"#),
            r#"{"iban":"[redacted]"}"#
        );
    }

    #[test]
    fn redrive_function_may_carry_a_qualifier_but_must_be_guarded() {
        let c = Config::from_env(&env(&[(REDRIVE_FUNCTION, "trading-bot:live")])).unwrap();
        assert_eq!(c.redrive_function.qualifier.as_deref(), Some("live"));
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:trading-bot:7";
        let c = Config::from_env(&env(&[(REDRIVE_FUNCTION, arn)])).unwrap();
        assert_eq!(
            c.redrive_function,
            RedriveFunction {
                name: "trading-bot".into(),
                qualifier: Some("7".into())
            }
        );
        let err = Config::from_env(&env(&[(REDRIVE_FUNCTION, "other")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("REDRIVE_FUNCTION") && err.contains("GUARDED_FUNCTIONS"),
            "{err}"
        );
    }

    #[test]
    fn several_guarded_functions_need_an_explicit_target() {
        let err = Config::from_env(&env(&[("GUARDED_FUNCTIONS", "a,b")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("REDRIVE_FUNCTION"), "{err}");
    }

    #[test]
    fn missing_and_malformed_values_are_named() {
        let err = Config::from_env(&Env::from_pairs([("GUARDED_FUNCTIONS", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("DLQ_URL"), "{err}");
        for (var, value) in [
            (MAX_MESSAGES_LIMIT, "0"),
            (SAMPLES, "many"),
            (DEADLINE_MARGIN_MS, "-1"),
            (GROUP_BY_POINTER, "symbol"),
        ] {
            let err = Config::from_env(&env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(var), "{var}: {err}");
        }
    }

    #[test]
    fn sensitive_keys_replace_the_defaults() {
        let c = Config::from_env(&env(&[(SENSITIVE_KEYS, "pin, cvv")])).unwrap();
        assert_eq!(
            c.redactor.redact_body(r#"{"cvv":1,"password":"p"}"#),
            r#"{"cvv":"[redacted]","password":"p"}"#
        );
    }
}
