//! The inspector's configuration, read once at cold start (names in the README section).

use std::time::Duration;

use guardian::config::{ConfigError, Env};
use guardian::dlq::redact::{DEFAULT_SENSITIVE_KEYS, Redactor};
use guardian::guarded::GuardedFunctions;
use guardian::per_function;

pub const DLQ_URL: &str = "DLQ_URL";
pub const REDRIVE_QUALIFIER: &str = "REDRIVE_QUALIFIER";
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

/// One guarded function's dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedDlq {
    pub url: String,
    /// The last path segment of the URL: what `purge` must be confirmed with.
    pub queue_name: String,
    pub redrive_function: RedriveFunction,
}

/// `DLQ_URL` holds one queue (URL or ARN) per guarded function, in `GUARDED_FUNCTIONS` order;
/// the fields `dlq_url`, `queue_name` and `redrive_function` are those of the DLQ a run works
/// on ([`Config::for_function`]), the first one's until a request picks one.
#[derive(Debug, Clone)]
pub struct Config {
    pub guarded: GuardedFunctions,
    pub dlqs: Vec<GuardedDlq>,
    pub dlq_url: String,
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
        let guarded = GuardedFunctions::from_env(env)?;
        let qualifier = env.optional(REDRIVE_QUALIFIER);
        if let Some(q) = &qualifier
            && (q.contains(':') || q.contains(','))
        {
            return Err(ConfigError::malformed(
                REDRIVE_QUALIFIER,
                format!("{q:?} is not an alias name or version"),
                "use the alias the functions run under, e.g. live (or leave it empty for $LATEST)",
            ));
        }
        let mut dlqs = Vec::new();
        let entries = per_function::entries(env, DLQ_URL, &guarded)?;
        for (name, entry) in guarded.names().zip(entries) {
            let Some(raw) = entry else { continue };
            dlqs.push(guarded_dlq(&raw, name, qualifier.as_deref())?);
        }
        let Some(first) = dlqs.first().cloned() else {
            return Err(ConfigError::Missing {
                var: DLQ_URL.into(),
                hint: "set it to the guarded function's dead-letter queue URL or ARN (one per guarded function, in the order of GUARDED_FUNCTIONS), e.g. https://sqs.eu-west-1.amazonaws.com/123456789012/trading-bot-dlq".into(),
            });
        };
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
            guarded,
            dlqs,
            dlq_url: first.url,
            queue_name: first.queue_name,
            redrive_function: first.redrive_function,
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

impl Config {
    /// The configuration narrowed to `function`'s DLQ, or `None` when it has none.
    pub fn for_function(&self, function: &str) -> Option<Config> {
        let dlq = self
            .dlqs
            .iter()
            .find(|d| d.redrive_function.name == function)?;
        let mut narrowed = self.clone();
        narrowed.dlq_url = dlq.url.clone();
        narrowed.queue_name = dlq.queue_name.clone();
        narrowed.redrive_function = dlq.redrive_function.clone();
        Some(narrowed)
    }
}

fn guarded_dlq(
    raw: &str,
    function: &str,
    qualifier: Option<&str>,
) -> Result<GuardedDlq, ConfigError> {
    let url = per_function::queue_url_in(DLQ_URL, raw)?;
    let queue_name = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty() && !n.contains(':'))
        .map(str::to_string)
        .ok_or_else(|| {
            ConfigError::malformed(
                DLQ_URL,
                format!("{raw:?} has no queue name"),
                "use the queue URL SQS shows, ending in /<queue name>",
            )
        })?;
    Ok(GuardedDlq {
        url,
        queue_name,
        redrive_function: RedriveFunction {
            name: function.to_string(),
            qualifier: qualifier.map(str::to_string),
        },
    })
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
    fn the_redrive_qualifier_applies_to_every_function() {
        let c = Config::from_env(&env(&[(REDRIVE_QUALIFIER, "live")])).unwrap();
        assert_eq!(c.redrive_function.qualifier.as_deref(), Some("live"));
        let err = Config::from_env(&env(&[(REDRIVE_QUALIFIER, "bot:live")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(REDRIVE_QUALIFIER), "{err}");
    }

    #[test]
    fn several_guarded_functions_each_have_their_dlq() {
        let c = Config::from_env(&env(&[
            ("GUARDED_FUNCTIONS", "bot,arn:aws:lambda:eu-west-1:123456789012:function:pricer"),
            (
                DLQ_URL,
                "http://localhost/123456789012/bot-dlq,arn:aws:sqs:eu-west-1:123456789012:pricer-dlq",
            ),
        ]))
        .unwrap();
        let pricer = c.for_function("pricer").unwrap();
        assert_eq!(pricer.queue_name, "pricer-dlq");
        assert_eq!(
            pricer.dlq_url,
            "https://sqs.eu-west-1.amazonaws.com/123456789012/pricer-dlq"
        );
        assert_eq!(pricer.redrive_function.name, "pricer");
        assert_eq!(c.for_function("bot").unwrap().queue_name, "bot-dlq");
        assert!(c.for_function("other").is_none());
        let err = Config::from_env(&env(&[("GUARDED_FUNCTIONS", "a,b")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(DLQ_URL) && err.contains("1 entries"), "{err}");
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
