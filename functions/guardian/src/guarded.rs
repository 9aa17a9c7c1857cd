//! The allow-list of functions the guardian may act on (`GUARDED_FUNCTIONS`).

use crate::config::{ConfigError, Env};

pub const GUARDED_FUNCTIONS: &str = "GUARDED_FUNCTIONS";

/// Functions the guardian may touch, by name or ARN. A request naming a function by ARN
/// (optionally with a version or alias qualifier) matches an entry by name and vice versa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedFunctions {
    names: Vec<String>,
}

impl GuardedFunctions {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let names = env.list(GUARDED_FUNCTIONS);
        if names.is_empty() {
            return Err(ConfigError::Missing {
                var: GUARDED_FUNCTIONS.into(),
                hint: "set it to a comma-separated list of function names or ARNs the guardian may act on".into(),
            });
        }
        Ok(Self::new(names))
    }

    pub fn new(names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        GuardedFunctions {
            names: names.into_iter().map(Into::into).collect(),
        }
    }

    /// The bare function name of `reference` if it is guarded, else `None`.
    pub fn resolve(&self, reference: &str) -> Option<String> {
        let wanted = function_name(reference);
        self.names
            .iter()
            .map(|n| function_name(n))
            .find(|n| *n == wanted)
            .map(str::to_string)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| function_name(n))
    }

    /// The only guarded function, when there is exactly one (a request may then omit it).
    pub fn single(&self) -> Option<&str> {
        match self.names.as_slice() {
            [only] => Some(function_name(only)),
            _ => None,
        }
    }
}

/// Whether a target ARN (a schedule's, an event rule's) invokes `function` (bare name),
/// directly or through a version or alias.
pub fn invokes(target_arn: &str, function: &str) -> bool {
    target_arn.starts_with("arn:") && function_name(target_arn) == function
}

/// The function an alarm watches: the `FunctionName` dimension of its first metric that has
/// one, in the alarm shape of EventBridge's "CloudWatch Alarm State Change" `detail` and of the
/// Lambda alarm action's `alarmData` (`configuration.metrics[].metricStat.metric.dimensions`).
pub fn alarm_function(alarm: &serde_json::Value) -> Option<String> {
    alarm["configuration"]["metrics"]
        .as_array()?
        .iter()
        .find_map(|m| m["metricStat"]["metric"]["dimensions"]["FunctionName"].as_str())
        .map(str::to_string)
}

/// The account of an ARN (`arn:<partition>:<service>:<region>:<account>:...`), if it has one.
pub fn account_of(arn: &str) -> Option<&str> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, _, _, account, ..] if !account.is_empty() => Some(account),
        _ => None,
    }
}

/// `arn:aws:lambda:region:acct:function:NAME[:QUALIFIER]`, `NAME:QUALIFIER` or `NAME` -> `NAME`.
pub fn function_name(reference: &str) -> &str {
    let parts: Vec<&str> = reference.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] => name,
        [name, _qualifier] => name,
        _ => reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns_match_each_other() {
        let g = GuardedFunctions::new([
            "trading-bot",
            "arn:aws:lambda:eu-west-1:123456789012:function:other",
        ]);
        assert_eq!(g.resolve("trading-bot").as_deref(), Some("trading-bot"));
        assert_eq!(
            g.resolve("arn:aws:lambda:eu-west-1:123456789012:function:trading-bot:live")
                .as_deref(),
            Some("trading-bot")
        );
        assert_eq!(g.resolve("other:7").as_deref(), Some("other"));
        assert_eq!(g.resolve("trading-bot-2"), None);
    }

    #[test]
    fn a_target_invokes_a_function_by_arn_only() {
        let alias = "arn:aws:lambda:eu-west-1:123456789012:function:bot:live";
        assert!(invokes(alias, "bot"));
        assert!(invokes(
            "arn:aws:lambda:eu-west-1:123456789012:function:bot",
            "bot"
        ));
        assert!(!invokes(alias, "bot-2"));
        assert!(!invokes(
            "arn:aws:states:eu-west-1:123456789012:stateMachine:bot",
            "bot"
        ));
        assert!(!invokes("bot", "bot"));
    }

    #[test]
    fn the_account_of_an_arn() {
        assert_eq!(
            account_of("arn:aws:lambda:eu-west-1:123456789012:function:bot"),
            Some("123456789012")
        );
        assert_eq!(
            account_of("arn:aws:iam::123456789012:role/r"),
            Some("123456789012")
        );
        assert_eq!(account_of("bot"), None);
        assert_eq!(account_of("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn empty_allow_list_is_a_named_error() {
        let err =
            GuardedFunctions::from_env(&Env::from_pairs([(GUARDED_FUNCTIONS, " ")])).unwrap_err();
        assert!(err.to_string().contains("GUARDED_FUNCTIONS"));
    }
}
