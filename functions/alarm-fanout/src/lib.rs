//! Alarm fan-out (DESIGN §3): CloudWatch alarm and CodeDeploy events in, routed and readable
//! SNS alerts out. Decisions live in `guardian::fanout`; this crate wires config, clients
//! and the handler.

pub mod delivery;
pub mod observe;

use std::time::{Duration, Instant};

use guardian::config::{ConfigError, Env};
use guardian::fanout::glob::Glob;
use guardian::fanout::halt::{alerts_to_halt, stop_request};
use guardian::fanout::render::{LinkRegion, chat, per_protocol};
use guardian::fanout::routing::{ForwardOk, Routing, SeverityRule, Topics, should_forward};
use guardian::fanout::{Severity, normalise};
use guardian_aws::deadline::Deadline;
use guardian_aws::error::{AwsCallError, ErrorType, diagnostic};
use guardian_aws::lambda::Lambda;
use guardian_aws::sns::Sns;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};

use delivery::{DeliveryReport, Outgoing, RetryPolicy, deliver};

/// Time kept free before the Lambda deadline when invoking the kill switch.
const HALT_DEADLINE_MARGIN: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub topics: Topics,
    /// Receives every forwarded alert again, in the chat custom-notification schema.
    pub chat_topic: Option<String>,
    pub routing: Routing,
    pub forward_ok: ForwardOk,
    /// Alarms whose entering ALARM stops trading.
    pub halt_on: Vec<Glob>,
    pub kill_switch_function: Option<String>,
    pub links: LinkRegion,
    pub retry: RetryPolicy,
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
        Ok(Config {
            topics,
            chat_topic: env.optional("CHAT_TOPIC_ARN"),
            routing: Routing::new(&rules, default_severity),
            forward_ok,
            halt_on,
            kill_switch_function,
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

/// Everything the handler needs, built once at cold start.
#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    sns: Sns,
    lambda: Lambda,
}

impl App {
    pub fn new(sdk: &guardian_aws::clients::SdkConfig, config: Config) -> Self {
        App {
            config,
            sns: Sns::from_sdk(sdk),
            lambda: Lambda::from_sdk(sdk),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    /// The kill switch could not be invoked; every alert was still published (or counted
    /// in `unpublished`).
    #[error(
        "auto-halt failed: could not invoke kill switch {function} for alarm {alarm} \
         ({unpublished} alert publications also failed)"
    )]
    HaltFailed {
        function: String,
        alarm: String,
        unpublished: usize,
        #[source]
        source: AwsCallError,
    },
    #[error(
        "{failed} of {total} alert publications still failed after retries; the others went \
         out. Lambda retries this event. First failure: topic {topic}: {error}"
    )]
    PublishFailed {
        failed: usize,
        total: usize,
        topic: String,
        error: String,
    },
}

impl ErrorType for FanoutError {
    fn error_type(&self) -> &'static str {
        match self {
            FanoutError::HaltFailed { .. } => "AlarmFanout.HaltFailed",
            FanoutError::PublishFailed { .. } => "AlarmFanout.PublishFailed",
        }
    }
}

impl From<FanoutError> for Diagnostic {
    fn from(e: FanoutError) -> Self {
        diagnostic(&e)
    }
}

pub async fn handler(app: &App, event: LambdaEvent<Value>) -> Result<Value, FanoutError> {
    let started = Instant::now();
    let deadline = Deadline::from_context(&event.context);
    let config = &app.config;
    let mut alerts = normalise(&event.payload);

    // Stopping trading comes before telling anyone: a failed publish must never delay it.
    let mut halt_failure = None;
    let halts = alerts_to_halt(&alerts, &config.halt_on);
    if let Some(function) = &config.kill_switch_function {
        for &i in &halts {
            let alert = &alerts[i];
            let request = stop_request(alert).to_string();
            let invoked = deadline
                .bound(
                    HALT_DEADLINE_MARGIN,
                    app.lambda.invoke_async(function, None, request.as_bytes()),
                )
                .await
                .unwrap_or_else(|reached| {
                    Err(AwsCallError {
                        operation: "Invoke",
                        code: None,
                        message: reached.to_string(),
                    })
                });
            let note = match invoked {
                Ok(()) => {
                    tracing::warn!(alarm = %alert.name, kill_switch = %function, "auto-halt requested");
                    format!("auto-halt: kill switch {function} asked to stop trading")
                }
                Err(e) => {
                    tracing::error!(alarm = %alert.name, kill_switch = %function, error = %e, "auto-halt failed");
                    let note = format!("auto-halt FAILED: kill switch {function} not invoked: {e}");
                    halt_failure.get_or_insert((function.clone(), alert.name.clone(), e));
                    note
                }
            };
            alerts[i].actions_taken.push(note);
        }
    }

    let total = alerts.len();
    let (forwarded, held_back): (Vec<_>, Vec<_>) = alerts
        .into_iter()
        .partition(|a| should_forward(a, config.forward_ok));
    let mut outgoing = Vec::with_capacity(forwarded.len() * 2);
    // Which forwarded alert each publication belongs to, for the decision log.
    let mut owners = Vec::with_capacity(forwarded.len() * 2);
    for (i, alert) in forwarded.iter().enumerate() {
        let severity = config.routing.severity(alert);
        outgoing.push(Outgoing {
            topic: config.topics.for_severity(severity).to_string(),
            publication: per_protocol(alert, severity, &config.links),
        });
        owners.push(i);
        if let Some(chat_topic) = &config.chat_topic {
            outgoing.push(Outgoing {
                topic: chat_topic.clone(),
                publication: chat(alert, severity, &config.links),
            });
            owners.push(i);
        }
    }
    let report = deliver(&app.sns, &outgoing, &deadline, &config.retry).await;
    let outcomes = observe::outcomes(&config.routing, &forwarded, &held_back, &owners, &report);
    observe::record(&event.context.request_id, started, &outcomes);
    tracing::info!(
        alerts = total,
        forwarded = forwarded.len(),
        published = report.published,
        undelivered = report.undelivered.len(),
        batch_calls = report.batch_calls,
        halts = halts.len(),
        "alarm fan-out done"
    );

    if let Some((function, alarm, source)) = halt_failure {
        return Err(FanoutError::HaltFailed {
            function,
            alarm,
            unpublished: report.undelivered.len(),
            source,
        });
    }
    if let Some(first) = report.undelivered.first() {
        return Err(FanoutError::PublishFailed {
            failed: report.undelivered.len(),
            total: outgoing.len(),
            topic: first.topic.clone(),
            error: first.error.clone(),
        });
    }
    Ok(summary(total, forwarded.len(), halts.len(), &report))
}

fn summary(alerts: usize, forwarded: usize, halts: usize, report: &DeliveryReport) -> Value {
    json!({
        "alerts": alerts,
        "forwarded": forwarded,
        "held_back": alerts - forwarded,
        "published": report.published,
        "batch_calls": report.batch_calls,
        "halts_requested": halts,
    })
}
