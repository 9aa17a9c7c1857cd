//! Configuration from the environment (names in the README's kill-switch section).

use std::collections::BTreeMap;

use guardian::config::{ConfigError, Env};
use guardian::guarded::GuardedFunctions;
use guardian::killswitch::schedule::{SCHEDULE_NAMES, ScheduleRef};
use guardian::per_function;

pub const DEPLOYMENT_GROUPS: &str = "DEPLOYMENT_GROUPS";
pub const DLQ_URL: &str = "DLQ_URL";

/// The CodeDeploy deployment group that deploys a guarded function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentGroup {
    pub application: String,
    pub group: String,
}

/// What belongs to one guarded function besides itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Surroundings {
    /// In-flight deployments of this group are stopped (with rollback) on stop.
    pub deployment: Option<DeploymentGroup>,
    /// The function's dead-letter queue: resume reports its depth.
    pub dlq_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub guarded: GuardedFunctions,
    /// Critical alerts go here.
    pub alert_topic_arn: String,
    /// Another account's topic that gets every stop/resume alert too (organisation scale).
    pub central_topic_arn: Option<String>,
    /// Disabled on stop, enabled on resume: with several guarded functions, only those whose
    /// target invokes the function acted on.
    pub schedules: Vec<ScheduleRef>,
    /// By bare function name; a function without an entry has none.
    pub surroundings: BTreeMap<String, Surroundings>,
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
        let groups = per_function::entries(env, DEPLOYMENT_GROUPS, &guarded)?;
        let dlqs = per_function::entries(env, DLQ_URL, &guarded)?;
        let mut surroundings = BTreeMap::new();
        for ((name, group), dlq) in guarded.names().zip(groups).zip(dlqs) {
            let around = Surroundings {
                deployment: group.as_deref().map(deployment_group).transpose()?,
                dlq_url: dlq
                    .as_deref()
                    .map(|raw| per_function::queue_url_in(DLQ_URL, raw))
                    .transpose()?,
            };
            surroundings.insert(name.to_string(), around);
        }
        Ok(Config {
            guarded,
            alert_topic_arn,
            central_topic_arn: env.optional_topic_arn("CENTRAL_TOPIC_ARN")?,
            schedules,
            surroundings,
        })
    }

    /// What surrounds `function` (nothing when it has no entry).
    pub fn around(&self, function: &str) -> Surroundings {
        self.surroundings.get(function).cloned().unwrap_or_default()
    }

    /// With several guarded functions a schedule belongs to the one its target invokes; with
    /// one, every configured schedule is its (the target may be a state machine that runs it).
    pub fn schedules_must_invoke<'a>(&self, function: &'a str) -> Option<&'a str> {
        self.guarded.single().is_none().then_some(function)
    }
}

/// `application/group` or the deployment group's ARN
/// (`arn:<partition>:codedeploy:<region>:<account>:deploymentgroup:<application>/<group>`,
/// the resource type `deploymentgroup` in the Service Authorization Reference, CodeDeploy).
fn deployment_group(raw: &str) -> Result<DeploymentGroup, ConfigError> {
    per_function::resource_of(raw, "codedeploy", "deploymentgroup")
        .and_then(|r| r.split_once('/'))
        .filter(|(a, g)| !a.is_empty() && !g.is_empty() && !g.contains('/'))
        .map(|(application, group)| DeploymentGroup {
            application: application.to_string(),
            group: group.to_string(),
        })
        .ok_or_else(|| {
            ConfigError::malformed(
                DEPLOYMENT_GROUPS,
                format!("{raw:?} is not a deployment group"),
                "use application/group, or the ARN arn:aws:codedeploy:<region>:<account>:deploymentgroup:<application>/<group>",
            )
        })
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
        assert!(min.schedules.is_empty() && min.around("bot") == Surroundings::default());
        let full = Config::from_env(&Env::from_pairs([
            ("GUARDED_FUNCTIONS", "bot"),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:critical",
            ),
            ("SCHEDULE_NAMES", "tick, bots/hourly"),
            ("DEPLOYMENT_GROUPS", "app/group"),
            (
                "DLQ_URL",
                "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
            ),
        ]))
        .unwrap();
        assert_eq!(full.schedules.len(), 2);
        assert_eq!(full.around("bot").deployment.unwrap().group, "group");
        assert_eq!(full.schedules_must_invoke("bot"), None);
    }

    #[test]
    fn several_functions_each_with_their_own_surroundings() {
        let c = Config::from_env(&Env::from_pairs([
            (
                "GUARDED_FUNCTIONS",
                "arn:aws:lambda:eu-west-1:123456789012:function:bot-a,bot-b",
            ),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:eu-west-1:123456789012:critical",
            ),
            (
                "DEPLOYMENT_GROUPS",
                ",arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:app-b/group-b",
            ),
            (
                "DLQ_URL",
                "arn:aws:sqs:eu-west-1:123456789012:a-dlq,arn:aws:sqs:eu-west-1:123456789012:b-dlq",
            ),
        ]))
        .unwrap();
        let a = c.around("bot-a");
        assert_eq!(a.deployment, None);
        assert_eq!(
            a.dlq_url.as_deref(),
            Some("https://sqs.eu-west-1.amazonaws.com/123456789012/a-dlq")
        );
        let b = c.around("bot-b");
        assert_eq!(
            b.deployment,
            Some(DeploymentGroup {
                application: "app-b".into(),
                group: "group-b".into()
            })
        );
        assert!(b.dlq_url.unwrap().ends_with("/b-dlq"));
        assert_eq!(c.schedules_must_invoke("bot-b"), Some("bot-b"));
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
        for (var, value) in [
            ("DEPLOYMENT_GROUPS", "app-without-group"),
            ("DEPLOYMENT_GROUPS", "app/g,app/h"),
            ("DLQ_URL", "bot-dlq"),
        ] {
            let err = Config::from_env(&Env::from_pairs([
                ("GUARDED_FUNCTIONS", "bot"),
                ("ALERT_TOPIC_ARN", "t"),
                (var, value),
            ]))
            .unwrap_err()
            .to_string();
            assert!(err.contains(var), "{var}={value}: {err}");
        }
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
