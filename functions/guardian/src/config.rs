//! Configuration from the environment, with errors that name the variable and the fix.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;

/// A configuration problem found at cold start. Both variants name the variable and say
/// what a valid value looks like, so the fix is in the error message itself.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {var} is not set; {hint}")]
    Missing { var: String, hint: String },
    #[error("environment variable {var} is malformed: {problem}; {hint}")]
    Malformed {
        var: String,
        problem: String,
        hint: String,
    },
}

impl ConfigError {
    pub fn malformed(var: &str, problem: impl Into<String>, hint: &str) -> Self {
        ConfigError::Malformed {
            var: var.to_string(),
            problem: problem.into(),
            hint: hint.to_string(),
        }
    }
}

type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A source of configuration variables: the process environment in `main`, a map in tests.
#[derive(Clone)]
pub struct Env {
    lookup: Lookup,
}

impl Env {
    pub fn from_process() -> Self {
        Env {
            lookup: Arc::new(|name| std::env::var(name).ok()),
        }
    }

    pub fn from_pairs<K: ToString, V: ToString>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let map: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env {
            lookup: Arc::new(move |name| map.get(name).cloned()),
        }
    }

    /// The value, or `None` when unset or blank (a blank SAM parameter means "not configured").
    pub fn optional(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, var: &str, hint: &str) -> Result<String, ConfigError> {
        self.optional(var).ok_or_else(|| ConfigError::Missing {
            var: var.to_string(),
            hint: hint.to_string(),
        })
    }

    /// An SNS topic ARN (`arn:<partition>:sns:<region>:<account>:<name>`), or `None` when
    /// unset. Checked at start: a topic typed by hand into a parameter (a central alerts topic)
    /// would otherwise fail every alert at 3 a.m. rather than the deployment now.
    pub fn optional_topic_arn(&self, var: &str) -> Result<Option<String>, ConfigError> {
        let Some(arn) = self.optional(var) else {
            return Ok(None);
        };
        let parts: Vec<&str> = arn.split(':').collect();
        let well_formed = matches!(
            parts.as_slice(),
            ["arn", partition, "sns", region, account, name]
                if !partition.is_empty() && !region.is_empty() && !name.is_empty()
                    && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
        );
        if !well_formed {
            return Err(ConfigError::malformed(
                var,
                format!("{arn:?} is not an SNS topic ARN"),
                "use the topic's ARN, arn:aws:sns:<region>:<12-digit account>:<topic name>, or leave it empty",
            ));
        }
        Ok(Some(arn))
    }

    /// A comma-separated list; unset means empty.
    pub fn list(&self, var: &str) -> Vec<String> {
        self.optional(var)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A value parsed with `FromStr`, or `default` when unset.
    pub fn parsed<T>(&self, var: &str, default: T, hint: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.optional(var) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|e: T::Err| ConfigError::malformed(var, format!("{raw:?}: {e}"), hint)),
        }
    }

    /// `true`/`false` (also 1/0, yes/no), or `default` when unset.
    pub fn flag(&self, var: &str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(var).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes") => Ok(true),
            Some(v) if matches!(v.as_str(), "false" | "0" | "no") => Ok(false),
            Some(v) => Err(ConfigError::malformed(
                var,
                format!("{v:?} is not a boolean"),
                "use true or false",
            )),
        }
    }

    /// Whole seconds, or `default` when unset.
    pub fn seconds(&self, var: &str, default: Duration) -> Result<Duration, ConfigError> {
        self.parsed(
            var,
            default.as_secs(),
            "use a whole number of seconds, e.g. 30",
        )
        .map(Duration::from_secs)
    }

    /// A JSON document deserialised into `T`; `None` when unset. serde's message says
    /// which field is wrong, and the error adds the variable.
    pub fn json<T: DeserializeOwned>(
        &self,
        var: &str,
        hint: &str,
    ) -> Result<Option<T>, ConfigError> {
        self.optional(var)
            .map(|raw| {
                serde_json::from_str(&raw)
                    .map_err(|e| ConfigError::malformed(var, format!("invalid JSON: {e}"), hint))
            })
            .transpose()
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_variable_names_itself_and_the_fix() {
        let env = Env::from_pairs([("OTHER", "x")]);
        let err = env
            .required("ALERT_TOPIC_ARN", "set it to the alert topic's ARN")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable ALERT_TOPIC_ARN is not set; set it to the alert topic's ARN"
        );
    }

    #[test]
    fn blank_counts_as_unset() {
        let env = Env::from_pairs([("X", "   ")]);
        assert_eq!(env.optional("X"), None);
        assert!(env.required("X", "h").is_err());
    }

    #[test]
    fn a_topic_arn_is_optional_and_checked() {
        let env = |v: &str| Env::from_pairs([("TOPIC", v.to_string())]);
        assert_eq!(env(" ").optional_topic_arn("TOPIC").unwrap(), None);
        let arn = "arn:aws:sns:eu-west-1:999999999999:org-alerts";
        assert_eq!(
            env(arn).optional_topic_arn("TOPIC").unwrap().as_deref(),
            Some(arn)
        );
        for wrong in [
            "org-alerts",
            "arn:aws:sqs:eu-west-1:999999999999:org-alerts",
            "arn:aws:sns:eu-west-1:9999:org-alerts",
            "arn:aws:sns:eu-west-1:999999999999:",
        ] {
            let err = env(wrong)
                .optional_topic_arn("TOPIC")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("TOPIC") && err.contains("arn:aws:sns:<region>"),
                "{err}"
            );
        }
    }

    #[test]
    fn malformed_number_names_variable_and_value() {
        let env = Env::from_pairs([("MAX", "ten")]);
        let err = env.parsed::<u32>("MAX", 5, "use a number").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("MAX") && msg.contains("\"ten\"") && msg.contains("use a number"),
            "{msg}"
        );
        assert_eq!(
            Env::from_pairs([("MAX", "7")])
                .parsed::<u32>("MAX", 5, "")
                .unwrap(),
            7
        );
        assert_eq!(
            Env::from_pairs::<&str, &str>([])
                .parsed::<u32>("MAX", 5, "")
                .unwrap(),
            5
        );
    }

    #[test]
    fn lists_split_on_commas_and_trim() {
        let env = Env::from_pairs([("L", " a, b ,,c ")]);
        assert_eq!(env.list("L"), vec!["a", "b", "c"]);
        assert!(env.list("NOPE").is_empty());
    }

    #[test]
    fn flags_accept_common_spellings_and_reject_others() {
        assert!(Env::from_pairs([("F", "TRUE")]).flag("F", false).unwrap());
        assert!(!Env::from_pairs([("F", "0")]).flag("F", true).unwrap());
        assert!(Env::from_pairs([("F", "maybe")]).flag("F", true).is_err());
    }

    #[test]
    fn json_errors_carry_variable_and_serde_position() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct P {
            name: String,
        }
        let env = Env::from_pairs([("PLAN", r#"{"nam": 1}"#)]);
        let err = env.json::<P>("PLAN", "see README").unwrap_err().to_string();
        assert!(
            err.contains("PLAN") && err.contains("missing field `name`"),
            "{err}"
        );
    }
}
