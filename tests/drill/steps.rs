//! The scripted incident, one step at a time. Every verdict comes from what the emulator
//! recorded (CodeDeploy's hook status, what reached the subscribed queues, what is left in
//! the DLQ, the function's concurrency), not from what a function said about itself.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use e2e::{TestAccount, notifications, visible_messages, workspace_root};
use serde_json::{Value, json};

use crate::StepResult;
use crate::runtime::LocalLambda;
use crate::stack::{self, FUNCTION, Stack};

/// The environment every function process gets: the emulator as AWS, and the stack's names.
pub fn function_env(acct: &TestAccount, stack: &Stack) -> Vec<(String, String)> {
    let rules = json!([
        {"pattern": "*errors*", "severity": "critical"},
        {"pattern": "*throttles*", "severity": "critical"},
        {"pattern": "*health*", "severity": "warning"}
    ]);
    [
        ("AWS_ENDPOINT_URL", acct.endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", format!("ACCT{}", acct.id)),
        ("AWS_SECRET_ACCESS_KEY", "emulator-secret".into()),
        ("AWS_REGION", e2e::REGION.into()),
        ("AWS_DEFAULT_REGION", e2e::REGION.into()),
        ("GUARDED_FUNCTIONS", FUNCTION.into()),
        ("ALERT_TOPIC_ARN", stack.alerts.topic.clone()),
        ("HOOK_PHASE", "pre".into()),
        ("CRITICAL_TOPIC_ARN", stack.critical.topic.clone()),
        ("WARNING_TOPIC_ARN", stack.warning.topic.clone()),
        ("INFO_TOPIC_ARN", stack.info.topic.clone()),
        ("CHAT_TOPIC_ARN", stack.chat.topic.clone()),
        ("SEVERITY_RULES", rules.to_string()),
        ("KILL_SWITCH_FUNCTION", "kill-switch".into()),
        ("DLQ_URL", stack.dlq_url.clone()),
        ("REDRIVE_FUNCTION", FUNCTION.into()),
        ("SCHEDULE_NAMES", stack::SCHEDULE.into()),
        ("DEPLOYMENT_APPLICATION", stack::APPLICATION.into()),
        ("DEPLOYMENT_GROUP", stack::GROUP.into()),
        ("FAILURE_MODE", "none".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

pub struct Drill {
    acct: TestAccount,
    cfg: SdkConfig,
    stack: Stack,
    /// Invoke API clients of the running functions, by name.
    local: HashMap<&'static str, aws_sdk_lambda::Client>,
    emulated: aws_sdk_lambda::Client,
}

impl Drill {
    pub async fn new(
        acct: TestAccount,
        cfg: SdkConfig,
        stack: Stack,
        functions: &[(&'static str, LocalLambda)],
    ) -> Self {
        let mut local = HashMap::new();
        for (name, function) in functions {
            // One attempt, as long as the function may run: a retried invoke would run it twice.
            let endpoint = cfg
                .to_builder()
                .endpoint_url(&function.url)
                .retry_config(aws_config::retry::RetryConfig::disabled())
                .timeout_config(
                    aws_config::timeout::TimeoutConfig::builder()
                        .operation_timeout(
                            crate::runtime::FUNCTION_TIMEOUT + Duration::from_secs(10),
                        )
                        .operation_attempt_timeout(
                            crate::runtime::FUNCTION_TIMEOUT + Duration::from_secs(10),
                        )
                        .build(),
                )
                .build();
            local.insert(*name, aws_sdk_lambda::Client::new(&endpoint));
            // The emulator forwards invokes of the guarded function's versions to the
            // running builds: 1 and 2 (and the alias) are good, 3 is bad.
            let qualifiers: &[&str] = match *name {
                "trading-bot-good" => &["1", "2", "live"],
                "trading-bot-bad" => &["3"],
                _ => &[],
            };
            for q in qualifiers {
                acct.control
                    .route_invokes(FUNCTION, Some(q), &function.invoke_url())
                    .await;
            }
        }
        Drill {
            emulated: aws_sdk_lambda::Client::new(&cfg),
            local,
            acct,
            cfg,
            stack,
        }
    }

    pub async fn run_all(&self) -> Vec<StepResult> {
        let mut results = Vec::new();
        macro_rules! step {
            ($name:expr, $fut:expr) => {{
                println!("--- {}", $name);
                let outcome = $fut.await;
                match &outcome {
                    Ok(evidence) => println!("PASS {}: {}\n", $name, evidence),
                    Err(e) => println!("FAIL {}: {}\n", $name, e),
                }
                results.push(StepResult {
                    name: $name,
                    outcome,
                });
            }};
        }
        step!(
            "provisioned stack (versions 1-3, live -> 1)",
            self.provisioned()
        );
        step!(
            "good deployment 1 -> 2: hook Succeeded",
            self.deployment("2", "Succeeded")
        );
        step!(
            "bad deployment 1 -> 3: hook Failed",
            self.deployment("3", "Failed")
        );
        step!(
            "alarms and rollback fan out as routed alerts",
            self.fan_out()
        );
        step!(
            "DLQ: inspect, redrive fresh, skip stale",
            self.dead_letters()
        );
        step!("kill switch: stop trading, then resume", self.kill_switch());
        results
    }

    /// Invokes one of the guardian's functions through cargo lambda's Invoke API.
    async fn invoke(&self, function: &str, payload: &Value) -> Result<Value, String> {
        let client = self
            .local
            .get(function)
            .ok_or_else(|| format!("{function} is not running"))?;
        let out = client
            .invoke()
            .function_name(function)
            .payload(Blob::new(payload.to_string()))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "{function} invoke failed: {}",
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                )
            })?;
        let body = out.payload.map(Blob::into_inner).unwrap_or_default();
        let value: Value = serde_json::from_slice(&body)
            .unwrap_or(Value::String(String::from_utf8_lossy(&body).into()));
        match out.function_error {
            Some(kind) => Err(format!("{function} returned a {kind} error: {value}")),
            None => Ok(value),
        }
    }

    async fn provisioned(&self) -> Result<String, String> {
        let versions = self
            .emulated
            .list_versions_by_function()
            .function_name(FUNCTION)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .versions
            .unwrap_or_default();
        let numbers: Vec<_> = versions.iter().filter_map(|v| v.version.clone()).collect();
        let concurrency = guardian::aws::lambda::Lambda::new(self.emulated.clone())
            .reserved_concurrency(FUNCTION)
            .await
            .map_err(|e| e.to_string())?;
        (numbers.len() == 4 && concurrency == Some(1))
            .then(|| format!("{FUNCTION} versions {numbers:?}, reserved concurrency 1, 5 topics with inboxes, DLQ, schedule"))
            .ok_or_else(|| format!("unexpected stack: versions {numbers:?}, concurrency {concurrency:?}"))
    }

    async fn deployment(&self, target: &str, expected: &str) -> Result<String, String> {
        let id = stack::deployment(&self.cfg, "1", target).await;
        let execution = format!("drill-hook-{target}");
        let verdict = self
            .invoke(
                "pre-traffic-hook",
                &json!({"DeploymentId": id, "LifecycleEventHookExecutionId": execution}),
            )
            .await;
        let recorded = self.acct.control.hook_statuses().await;
        let status: Vec<_> = recorded
            .iter()
            .filter(|r| r["lifecycleEventHookExecutionId"] == execution.as_str())
            .map(|r| r["status"].as_str().unwrap_or("?").to_string())
            .collect();
        let alerts = notifications(&self.cfg, &self.stack.alerts.queue).await;
        for alert in &alerts {
            println!(
                "  alert topic <- {}",
                alert["Subject"].as_str().unwrap_or("(no subject)")
            );
            print_indented(alert["Message"].as_str().unwrap_or(""), 12);
        }
        if let Err(e) = &verdict {
            println!("  hook invocation: {e}");
        }
        if status != [expected] {
            return Err(format!(
                "CodeDeploy recorded {status:?} for {execution}, expected [{expected}]"
            ));
        }
        if alerts.is_empty() {
            return Err("no verdict reached the alert topic".into());
        }
        Ok(format!(
            "CodeDeploy recorded {expected} once for deployment {id}; verdict published"
        ))
    }

    async fn fan_out(&self) -> Result<String, String> {
        let root = workspace_root().join("events");
        for file in [
            "fanout-sns-classic-metric.json",
            "fanout-action-composite.json",
            "fanout-eventbridge-codedeploy-failure.json",
        ] {
            let event: Value = std::fs::read_to_string(root.join(file))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .ok_or_else(|| format!("events/{file} is missing or not JSON"))?;
            self.invoke("alarm-fanout", &event).await?;
        }
        let mut routed = Vec::new();
        for (severity, inbox) in [
            ("critical", &self.stack.critical),
            ("warning", &self.stack.warning),
            ("info", &self.stack.info),
        ] {
            for n in notifications(&self.cfg, &inbox.queue).await {
                routed.push((severity, n["Subject"].as_str().unwrap_or("").to_string()));
            }
        }
        // What the on-call engineer reads: the e-mail, the SMS, the chat card.
        let emails = self.acct.control.deliveries("email").await;
        for e in &emails {
            println!(
                "  e-mail to {}  Subject: {}",
                e["endpoint"].as_str().unwrap_or("?"),
                e["subject"].as_str().unwrap_or("")
            );
            print_indented(e["message"].as_str().unwrap_or(""), 9);
        }
        let texts = self.acct.control.deliveries("sms").await;
        for t in &texts {
            println!(
                "  SMS to {}: {}",
                t["endpoint"].as_str().unwrap_or("?"),
                t["message"].as_str().unwrap_or("")
            );
        }
        let chat = notifications(&self.cfg, &self.stack.chat.queue).await;
        for card in &chat {
            let card: Value =
                serde_json::from_str(card["Message"].as_str().unwrap_or("{}")).unwrap_or_default();
            println!(
                "  chat card: {}",
                card["content"]["title"].as_str().unwrap_or("?")
            );
            print_indented(card["content"]["description"].as_str().unwrap_or(""), 4);
        }
        let critical = routed.iter().filter(|(s, _)| *s == "critical").count();
        let warning = routed.iter().filter(|(s, _)| *s == "warning").count();
        let sms_fit = texts
            .iter()
            .all(|t| t["message"].as_str().is_some_and(|m| m.len() <= 140));
        if critical == 2
            && warning == 1
            && routed.len() == 3
            && emails.len() == 3
            && texts.len() == 2
            && sms_fit
            && chat.len() == 3
        {
            Ok("3 alerts routed (critical: errors alarm + deployment failure; warning: composite): 3 e-mails, 2 SMS (<= 140 chars), 3 chat cards".into())
        } else {
            Err(format!(
                "routed {routed:?}; {} e-mails, {} SMS (fit: {sms_fit}), {} chat cards; expected 2 critical + 1 warning, 3 e-mails, 2 SMS, 3 cards",
                emails.len(),
                texts.len(),
                chat.len()
            ))
        }
    }

    async fn dead_letters(&self) -> Result<String, String> {
        let sqs = aws_sdk_sqs::Client::new(&self.cfg);
        let send = |ids: std::ops::Range<u32>, code: &'static str| {
            let sqs = sqs.clone();
            async move {
                let mut batch = sqs.send_message_batch().queue_url(&self.stack.dlq_url);
                for i in ids {
                    let attr = |v: &str| {
                        MessageAttributeValue::builder()
                            .data_type("String")
                            .string_value(v)
                            .build()
                    };
                    let entry = SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(
                            json!({"source": "trading-bot.tick", "signal": i}).to_string(),
                        )
                        .message_attributes("RequestID", attr(&format!("req-{i}")).expect("attr"))
                        .message_attributes("ErrorCode", attr(code).expect("attr"))
                        .message_attributes(
                            "ErrorMessage",
                            attr("exchange API timed out").expect("attr"),
                        )
                        .build()
                        .expect("entry");
                    batch = batch.entries(entry);
                }
                batch.send().await.map(|_| ()).map_err(|e| e.to_string())
            }
        };
        // Two stale trade signals, then four fresh failures.
        send(0..2, "200").await?;
        tokio::time::sleep(Duration::from_secs(4)).await;
        send(2..5, "200").await?;
        send(5..6, "Unhandled").await?;

        let report = self
            .invoke("dlq-inspector", &json!({"action": "inspect"}))
            .await?;
        println!("  inspect report: {}", preview(&report, 600));
        let after_inspect = visible_messages(&self.cfg, &self.stack.dlq_url).await;
        if after_inspect != 6 {
            return Err(format!(
                "inspect consumed messages: {after_inspect} of 6 visible"
            ));
        }
        let redrive = self
            .invoke(
                "dlq-inspector",
                &json!({"action": "redrive", "max_age_seconds": 3}),
            )
            .await?;
        println!("  redrive report: {}", preview(&redrive, 600));
        let replayed = self
            .acct
            .control
            .invocations(FUNCTION)
            .await
            .into_iter()
            .filter(|i| i["invocation_type"] == "Event")
            .count();
        let left = visible_messages(&self.cfg, &self.stack.dlq_url).await;
        if replayed != 4 || left != 2 {
            return Err(format!(
                "replayed {replayed} (expected 4), left in DLQ {left} (expected the 2 stale)"
            ));
        }
        let purge = self
            .invoke(
                "dlq-inspector",
                &json!({"action": "purge", "confirm": "trading-bot-dlq"}),
            )
            .await?;
        println!("  purge report: {}", preview(&purge, 300));
        let empty = visible_messages(&self.cfg, &self.stack.dlq_url).await;
        (empty == 0)
            .then(|| "6 inspected and left in place; 4 fresh replayed to trading-bot, 2 stale skipped then purged".into())
            .ok_or_else(|| format!("{empty} messages left after purge"))
    }

    async fn kill_switch(&self) -> Result<String, String> {
        let lambda = guardian::aws::lambda::Lambda::new(self.emulated.clone());
        let stop = self
            .invoke(
                "kill-switch",
                &json!({"action": "stop", "reason": "drill: bad fills since 03:00", "requested_by": "on-call"}),
            )
            .await?;
        println!("  stop -> {}", preview(&stop, 500));
        let stopped = lambda
            .reserved_concurrency(FUNCTION)
            .await
            .map_err(|e| e.to_string())?;
        let probe = lambda
            .invoke(FUNCTION, Some("live"), br#"{"smoke_test": true}"#)
            .await;
        let throttled = matches!(&probe, Err(e) if e.is_code("TooManyRequestsException"));
        let status = self
            .invoke("kill-switch", &json!({"action": "status"}))
            .await?;
        println!("  status -> {}", preview(&status, 500));
        let resume = self
            .invoke(
                "kill-switch",
                &json!({"action": "resume", "reason": "drill: fixed", "requested_by": "on-call"}),
            )
            .await?;
        println!("  resume -> {}", preview(&resume, 500));
        let restored = lambda
            .reserved_concurrency(FUNCTION)
            .await
            .map_err(|e| e.to_string())?;
        let critical = notifications(&self.cfg, &self.stack.critical.queue)
            .await
            .len()
            + notifications(&self.cfg, &self.stack.alerts.queue)
                .await
                .len();
        if stopped == Some(0)
            && throttled
            && status["state"] == "stopped"
            && restored == Some(1)
            && critical >= 2
        {
            Ok("concurrency 1 -> 0 (probe throttled, status stopped by on-call) -> 1 restored; alerts sent".into())
        } else {
            Err(format!(
                "stopped={stopped:?} throttled={throttled} status={} restored={restored:?} alerts={critical}",
                status["state"]
            ))
        }
    }
}

fn preview(v: &Value, max: usize) -> String {
    guardian::telemetry::preview(&v.to_string(), max)
}

fn print_indented(text: &str, max_lines: usize) {
    let pretty = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string());
    for line in pretty.lines().take(max_lines) {
        println!("      {line}");
    }
    if pretty.lines().count() > max_lines {
        println!("      ...");
    }
}
