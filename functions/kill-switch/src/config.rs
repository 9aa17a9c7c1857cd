//! Configuration from the environment (names in the README's kill-switch section).

use guardian::config::{ConfigError, Env};
use guardian::guarded::GuardedFunctions;
use guardian::killswitch::schedule::{SCHEDULE_NAMES, ScheduleRef};

/// The CodeDeploy deployment group that deploys the guarded function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentGroup {
    pub application: String,
    pub group: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub guarded: GuardedFunctions,
    /// Critical alerts go here.
    pub alert_topic_arn: String,
    /// Another account's topic that gets every stop/resume alert too (organisation scale).
    pub central_topic_arn: Option<String>,
    /// Disabled on stop, enabled on resume.
    pub schedules: Vec<ScheduleRef>,
    /// In-flight deployments of this group are stopped (with rollback) on stop.
    pub deployment: Option<DeploymentGroup>,
    /// The guarded function's dead-letter queue: resume reports its depth.
    pub dlq_url: Option<String>,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, ConfigError> {
        let guarded = GuardedFunctions::from_env(env)?;
        let alert_topic_arn = env.required(
            "ALERT_TOPIC_ARN",
            "set it to the ARN of the SNS topic for critical alerts",
        )?;
        let schedules = env
            .list(SCHEDULE_NAMES)
            .iter()
            .map(|raw| ScheduleRef::parse(raw))
            .collect::<Result<_, _>>()?;
        let deployment = match (
            env.optional("DEPLOYMENT_APPLICATION"),
            env.optional("DEPLOYMENT_GROUP"),
        ) {
            (Some(application), Some(group)) => Some(DeploymentGroup { application, group }),
            (None, None) => None,
            (Some(_), None) => return Err(half_deployment("DEPLOYMENT_GROUP")),
            (None, Some(_)) => return Err(half_deployment("DEPLOYMENT_APPLICATION")),
        };
        Ok(Config {
            guarded,
            alert_topic_arn,
            central_topic_arn: env.optional_topic_arn("CENTRAL_TOPIC_ARN")?,
            schedules,
            deployment,
            dlq_url: env.optional("DLQ_URL"),
        })
    }
}

fn half_deployment(missing: &str) -> ConfigError {
    ConfigError::Missing {
        var: missing.to_string(),
        hint: "DEPLOYMENT_APPLICATION and DEPLOYMENT_GROUP go together: set both to the guarded \
               function's CodeDeploy application and deployment group, or neither"
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_and_full_configs() {
        let min = Config::from_env(&Env::from_pairs([
            ("GUARDED_FUNCTIONS", "bot"),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:critical",
            ),
        ]))
        .unwrap();
        assert!(min.schedules.is_empty() && min.deployment.is_none() && min.dlq_url.is_none());
        let full = Config::from_env(&Env::from_pairs([
            ("GUARDED_FUNCTIONS", "bot"),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:critical",
            ),
            ("SCHEDULE_NAMES", "tick, bots/hourly"),
            ("DEPLOYMENT_APPLICATION", "app"),
            ("DEPLOYMENT_GROUP", "group"),
            (
                "DLQ_URL",
                "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
            ),
        ]))
        .unwrap();
        assert_eq!(full.schedules.len(), 2);
        assert_eq!(full.deployment.unwrap().group, "group");
    }

    #[test]
    fn errors_name_the_variable() {
        let no_topic = Config::from_env(&Env::from_pairs([("GUARDED_FUNCTIONS", "bot")]));
        assert!(
            no_topic
                .unwrap_err()
                .to_string()
                .contains("ALERT_TOPIC_ARN")
        );
        let half = Config::from_env(&Env::from_pairs([
            ("GUARDED_FUNCTIONS", "bot"),
            ("ALERT_TOPIC_ARN", "t"),
            ("DEPLOYMENT_APPLICATION", "app"),
        ]));
        assert!(half.unwrap_err().to_string().contains("DEPLOYMENT_GROUP"));
        let bad_schedule = Config::from_env(&Env::from_pairs([
            ("GUARDED_FUNCTIONS", "bot"),
            ("ALERT_TOPIC_ARN", "t"),
            ("SCHEDULE_NAMES", "a/b/c"),
        ]));
        assert!(
            bad_schedule
                .unwrap_err()
                .to_string()
                .contains("SCHEDULE_NAMES")
        );
    }
}
