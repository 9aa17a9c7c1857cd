//! The hook's configuration (env), read once at cold start.

use std::time::Duration;

use guardian::config::{ConfigError, Env};
use guardian::guarded::GuardedFunctions;
use guardian::hook::appspec::{DeploymentTarget, numbered_version};
use guardian::hook::plan::SmokePlan;
use guardian::hook::verdict::Phase;
use guardian::per_function;

pub const DEFAULT_PROBE_CONCURRENCY: usize = 4;
pub const DEFAULT_REPORT_MARGIN: Duration = Duration::from_millis(3_000);

#[derive(Debug, Clone)]
pub struct Config {
    pub guarded: GuardedFunctions,
    pub alert_topic_arn: String,
    pub phase: Phase,
    /// `TARGET_FUNCTION`/`TARGET_VERSION`: used when the AppSpec cannot be read.
    pub fallback_target: Option<DeploymentTarget>,
    /// A plan that does not parse is kept as its error: the hook must still start and
    /// report Failed with it on every invocation instead of never reporting at all.
    pub plan: Result<SmokePlan, String>,
    pub probe_concurrency: usize,
    /// Metric alarms that fail a post-traffic hook while in ALARM.
    pub rollback_alarms: Vec<String>,
    /// Composite alarms likewise (reading them needs `cloudwatch:DescribeAlarms` on `*`).
    pub rollback_composite_alarms: Vec<String>,
    /// Stop probing this long before the Lambda deadline, leaving time to report.
    pub report_margin: Duration,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, ConfigError> {
        let guarded = GuardedFunctions::from_env(env)?;
        let alert_topic_arn = env.required(
            "ALERT_TOPIC_ARN",
            "set it to the ARN of the SNS topic that receives the hook's verdicts",
        )?;
        let phase = match env.optional("HOOK_PHASE").map(|p| p.to_ascii_lowercase()) {
            None => Phase::Pre,
            Some(p) if p == "pre" => Phase::Pre,
            Some(p) if p == "post" => Phase::Post,
            Some(other) => {
                return Err(ConfigError::malformed(
                    "HOOK_PHASE",
                    format!("{other:?} is not a phase"),
                    "use pre (PreTraffic hook) or post (PostTraffic hook)",
                ));
            }
        };
        let probe_concurrency = env.parsed(
            "PROBE_CONCURRENCY",
            DEFAULT_PROBE_CONCURRENCY,
            "use a whole number of probes run at once, e.g. 4",
        )?;
        if probe_concurrency == 0 {
            return Err(ConfigError::malformed(
                "PROBE_CONCURRENCY",
                "0 would never run a probe",
                "use a whole number >= 1",
            ));
        }
        let report_margin = Duration::from_millis(env.parsed(
            "REPORT_MARGIN_MS",
            DEFAULT_REPORT_MARGIN.as_millis() as u64,
            "use whole milliseconds, e.g. 3000",
        )?);
        Ok(Config {
            fallback_target: fallback_target(env, &guarded)?,
            plan: smoke_plan(env),
            guarded,
            alert_topic_arn,
            phase,
            probe_concurrency,
            rollback_alarms: alarm_names(env, "ROLLBACK_ALARMS")?,
            rollback_composite_alarms: alarm_names(env, "ROLLBACK_COMPOSITE_ALARMS")?,
            report_margin,
        })
    }
}

/// Alarm names or ARNs (what another stack exports; `arn:<partition>:cloudwatch:<region>:
/// <account>:alarm:<name>`, Service Authorization Reference, CloudWatch) -> names, which
/// `DescribeAlarms` takes.
fn alarm_names(env: &Env, var: &str) -> Result<Vec<String>, ConfigError> {
    env.list(var)
        .iter()
        .map(|raw| {
            per_function::resource_of(raw, "cloudwatch", "alarm")
                .map(str::to_string)
                .ok_or_else(|| {
                    ConfigError::malformed(
                        var,
                        format!("{raw:?} is not a CloudWatch alarm ARN"),
                        "use alarm names or ARNs (arn:aws:cloudwatch:<region>:<account>:alarm:<name>), comma-separated",
                    )
                })
        })
        .collect()
}

/// `TARGET_VERSION`: a version ARN (what the template passes: `!Ref <Function>.Version`, so
/// each deployment's hook knows the version it publishes) or a number with `TARGET_FUNCTION`,
/// which may be left out when exactly one function is guarded.
fn fallback_target(
    env: &Env,
    guarded: &GuardedFunctions,
) -> Result<Option<DeploymentTarget>, ConfigError> {
    let function = env.optional("TARGET_FUNCTION");
    let Some(raw_version) = env.optional("TARGET_VERSION") else {
        return match function {
            None => Ok(None),
            Some(_) => Err(ConfigError::Missing {
                var: "TARGET_VERSION".into(),
                hint: "TARGET_FUNCTION is set; set TARGET_VERSION to the version to probe (a version ARN, e.g. !Ref MyFunction.Version in the template), or unset both".into(),
            }),
        };
    };
    let version = numbered_version(&raw_version).ok_or_else(|| {
        ConfigError::malformed(
            "TARGET_VERSION",
            format!("{raw_version:?} is not a version number or version ARN"),
            "use a published version's ARN (!Ref MyFunction.Version) or number, never an alias or $LATEST",
        )
    })?;
    let from_arn = function_of_version_arn(&raw_version);
    if let (Some(named), Some(in_arn)) = (&function, &from_arn)
        && named != in_arn
    {
        return Err(ConfigError::malformed(
            "TARGET_FUNCTION",
            format!("{named:?} is not the function of TARGET_VERSION ({in_arn})"),
            "unset TARGET_FUNCTION (the version ARN names the function) or make them agree",
        ));
    }
    let function = function
        .or(from_arn)
        .or_else(|| guarded.single().map(str::to_string))
        .ok_or_else(|| ConfigError::Missing {
            var: "TARGET_FUNCTION".into(),
            hint: "TARGET_VERSION is a bare number and several functions are guarded; name the one to probe, or use a version ARN"
                .into(),
        })?;
    Ok(Some(DeploymentTarget {
        function,
        version,
        alias: None,
        current_version: None,
    }))
}

/// `arn:aws:lambda:<region>:<account>:function:<name>:<version>` -> `<name>`.
fn function_of_version_arn(raw: &str) -> Option<String> {
    let parts: Vec<&str> = raw.trim().split(':').collect();
    (parts.len() == 8 && parts[0] == "arn" && parts[5] == "function" && !parts[6].is_empty())
        .then(|| parts[6].to_string())
}

/// `SMOKE_PLAN` (inline JSON) wins over `SMOKE_PLAN_FILE`; neither means the default plan.
fn smoke_plan(env: &Env) -> Result<SmokePlan, String> {
    let (origin, text) = if let Some(inline) = env.optional("SMOKE_PLAN") {
        ("SMOKE_PLAN".to_string(), inline)
    } else if let Some(path) = env.optional("SMOKE_PLAN_FILE") {
        let origin = format!("SMOKE_PLAN_FILE {path}");
        match std::fs::read_to_string(&path) {
            Ok(text) => (origin, text),
            Err(e) => return Err(format!("smoke plan ({origin}) cannot be read: {e}")),
        }
    } else {
        return Ok(SmokePlan::default());
    };
    SmokePlan::parse(&text).map_err(|e| {
        format!("smoke plan ({origin}) is invalid: {e}; see the plan format in README")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(extra: &[(&str, &str)]) -> Env {
        let mut pairs = vec![
            ("GUARDED_FUNCTIONS", "trading-bot"),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:alerts",
            ),
        ];
        pairs.extend_from_slice(extra);
        Env::from_pairs(pairs)
    }

    #[test]
    fn defaults() {
        let c = Config::from_env(&env(&[])).unwrap();
        assert_eq!(c.phase, Phase::Pre);
        assert_eq!(c.probe_concurrency, 4);
        assert_eq!(c.report_margin, Duration::from_secs(3));
        assert!(c.rollback_alarms.is_empty() && c.fallback_target.is_none());
        assert_eq!(c.plan.unwrap().probes.len(), 1);
    }

    #[test]
    fn required_and_malformed_values_are_named() {
        let no_topic =
            Config::from_env(&Env::from_pairs([("GUARDED_FUNCTIONS", "x")])).unwrap_err();
        assert!(no_topic.to_string().contains("ALERT_TOPIC_ARN"));
        for (var, value) in [
            ("HOOK_PHASE", "during"),
            ("PROBE_CONCURRENCY", "0"),
            ("REPORT_MARGIN_MS", "soon"),
            ("TARGET_VERSION", "live"),
        ] {
            let err = Config::from_env(&env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(var), "{err}");
        }
    }

    #[test]
    fn fallback_target_defaults_to_the_single_guarded_function() {
        let c = Config::from_env(&env(&[
            ("TARGET_VERSION", "7"),
            ("HOOK_PHASE", "POST"),
            (
                "ROLLBACK_ALARMS",
                "a, arn:aws:cloudwatch:eu-west-1:123456789012:alarm:b",
            ),
        ]))
        .unwrap();
        let t = c.fallback_target.unwrap();
        assert_eq!(
            (t.function.as_str(), t.version.as_str()),
            ("trading-bot", "7")
        );
        assert_eq!(c.phase, Phase::Post);
        assert_eq!(c.rollback_alarms, ["a", "b"]);
        let not_an_alarm = Config::from_env(&env(&[(
            "ROLLBACK_ALARMS",
            "arn:aws:sns:eu-west-1:123456789012:b",
        )]));
        assert!(
            not_an_alarm
                .unwrap_err()
                .to_string()
                .contains("ROLLBACK_ALARMS")
        );
        let half = Config::from_env(&env(&[("TARGET_FUNCTION", "trading-bot")])).unwrap_err();
        assert!(half.to_string().contains("TARGET_VERSION"));
    }

    #[test]
    fn fallback_target_from_a_version_arn_names_the_function() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:stack-guarded:12";
        let c = Config::from_env(&env(&[
            ("GUARDED_FUNCTIONS", "stack-guarded,other"),
            ("TARGET_VERSION", arn),
        ]))
        .unwrap();
        let t = c.fallback_target.unwrap();
        assert_eq!(
            (t.function.as_str(), t.version.as_str()),
            ("stack-guarded", "12")
        );
        let clash = Config::from_env(&env(&[
            ("TARGET_FUNCTION", "trading-bot"),
            ("TARGET_VERSION", arn),
        ]))
        .unwrap_err();
        assert!(clash.to_string().contains("TARGET_FUNCTION"), "{clash}");
    }

    #[test]
    fn a_bad_plan_is_kept_as_an_error_not_a_cold_start_failure() {
        let c = Config::from_env(&env(&[(
            "SMOKE_PLAN",
            r#"{"probes": [{"name": "p", "retries": "x"}]}"#,
        )]))
        .unwrap();
        let err = c.plan.unwrap_err();
        assert!(
            err.contains("SMOKE_PLAN") && err.contains(r#"probe #1 "p""#),
            "{err}"
        );
        let missing =
            Config::from_env(&env(&[("SMOKE_PLAN_FILE", "/nonexistent/plan.json")])).unwrap();
        assert!(missing.plan.unwrap_err().contains("/nonexistent/plan.json"));
    }

    #[test]
    fn the_example_plan_file_parses() {
        let path = format!(
            "{}/../../events/hook-smoke-plan.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let c = Config::from_env(&env(&[("SMOKE_PLAN_FILE", path.as_str())])).unwrap();
        let plan = c.plan.unwrap();
        assert_eq!(plan.probes[0].retries, 2);
        assert_eq!(plan.probes[0].expect.json.len(), 3);
    }

    #[test]
    fn inline_plan_wins_over_the_file() {
        let c = Config::from_env(&env(&[
            ("SMOKE_PLAN", r#"{"probes": [{"name": "inline"}]}"#),
            ("SMOKE_PLAN_FILE", "/nonexistent/plan.json"),
        ]))
        .unwrap();
        assert_eq!(c.plan.unwrap().probes[0].name, "inline");
    }
}
