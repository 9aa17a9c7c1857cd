//! The scripted incident, one step at a time, against the deployed stack. The drill only
//! deploys builds, lets the schedule tick, and acts as the on-call engineer; every verdict is
//! read from what the emulator recorded (CodeDeploy's deployments, hook statuses and alias
//! weights, alarm states, what reached the subscribers, what is left in the DLQ, the
//! function's concurrency, the IAM decisions).

use std::time::Duration;

use crate::{DeploymentRecord, STACK, Template, World};
use serde_json::{Value, json};

use super::{PARAMETERS, StepResult, TIME_SCALE, verdict};

pub struct Drill {
    pub world: World,
    /// IAM denials already reported (each step reports only its own).
    denials_seen: usize,
    /// Deployments already shown.
    deployments_seen: usize,
}

impl Drill {
    pub fn new(world: World) -> Self {
        Drill {
            world,
            denials_seen: 0,
            deployments_seen: 0,
        }
    }

    pub async fn run_all(&mut self) -> Vec<StepResult> {
        let mut results = Vec::new();
        macro_rules! step {
            ($name:expr, $method:ident) => {{
                println!("--- {}", $name);
                let mut outcome = self.$method().await;
                if let Err(denied) = self.new_denials().await {
                    outcome = Err(match outcome {
                        Ok(_) => denied,
                        Err(e) => format!("{e}; {denied}"),
                    });
                }
                results.push(verdict($name, outcome));
            }};
        }
        step!(
            "stack as deployed: live -> 1, concurrency 1, schedule on",
            as_deployed
        );
        step!(
            "good build (v2): canary 10% -> 100%, both hooks Succeeded",
            good_build
        );
        step!(
            "bad build (v3): pre-traffic hook Failed, live stays on v2",
            bad_build
        );
        step!(
            "build failing live runs (v4): alarm -> rollback, alerts, halt",
            canary_breach
        );
        step!(
            "DLQ while stopped: inspect, redrive refused, resume, redrive",
            dead_letters
        );
        step!("on-call stops and resumes trading", kill_switch);
        results
    }

    fn guarded(&self) -> String {
        self.world.name("GuardedFunction")
    }

    /// Calls IAM denied since the last step: every one is a template or code fault.
    async fn new_denials(&mut self) -> Result<(), String> {
        let all = self.world.denials().await;
        let fresh: Vec<String> = all[self.denials_seen.min(all.len())..]
            .iter()
            .map(|d| {
                format!(
                    "IAM denied {} {} on {} ({})",
                    d["role"]
                        .as_str()
                        .unwrap_or("?")
                        .rsplit('/')
                        .next()
                        .unwrap_or("?"),
                    d["action"].as_str().unwrap_or("?"),
                    d["resource"].as_str().unwrap_or("?"),
                    d["source"].as_str().unwrap_or("?")
                )
            })
            .collect();
        self.denials_seen = all.len();
        for d in &fresh {
            println!("  {d}");
        }
        if fresh.is_empty() {
            Ok(())
        } else {
            Err(fresh.join("; "))
        }
    }

    /// Deployments CodeDeploy recorded since the last call, printed with their alias weights.
    async fn new_deployments(&mut self) -> Vec<DeploymentRecord> {
        let all = self.world.deployments().await;
        let fresh: Vec<DeploymentRecord> = all[self.deployments_seen.min(all.len())..].to_vec();
        self.deployments_seen = all.len();
        for d in &fresh {
            println!(
                "  deployment {} by {}: {}{}{}",
                d.id,
                d.creator,
                d.status,
                d.rollback_of
                    .as_ref()
                    .map(|r| format!(" (rolls back {r})"))
                    .unwrap_or_default(),
                d.error
                    .as_ref()
                    .map(|e| format!(" - {e}"))
                    .unwrap_or_default()
            );
            print_weights(&self.world.timeline(&d.id).await);
            for h in self.hook_statuses(&d.id).await {
                println!("      hook {h}");
            }
        }
        fresh
    }

    async fn hook_statuses(&self, deployment_id: &str) -> Vec<String> {
        self.world
            .acct
            .control
            .hook_statuses()
            .await
            .into_iter()
            .filter(|h| h["deploymentId"] == deployment_id)
            .map(|h| h["status"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    async fn as_deployed(&mut self) -> Result<String, String> {
        let (live, weights) = self.world.live().await;
        let concurrency = self.world.reserved_concurrency().await;
        let schedule = self.world.schedule_state().await;
        self.new_deployments().await;
        (live == "1" && weights.is_empty() && concurrency == Some(1) && schedule == "ENABLED")
            .then(|| {
                format!(
                    "{} live -> version 1, reserved concurrency 1, schedule {schedule}",
                    self.guarded()
                )
            })
            .ok_or_else(|| {
                format!(
                    "live -> {live} {weights:?}, concurrency {concurrency:?}, schedule {schedule}"
                )
            })
    }

    async fn good_build(&mut self) -> Result<String, String> {
        let stack = self
            .world
            .update(&Template::Repository, &PARAMETERS, Some("build-2"))
            .await;
        let deployments = self.new_deployments().await;
        self.print_verdicts().await;
        if !stack.succeeded() {
            return Err(format!("the update did not complete: {}", stack.failure()));
        }
        let [d] = deployments.as_slice() else {
            return Err(format!(
                "expected one deployment, CodeDeploy recorded {deployments:?}"
            ));
        };
        let hooks = self.hook_statuses(&d.id).await;
        let (live, weights) = self.world.live().await;
        let canary = self.saw_weight(&d.id, "2", 0.1).await;
        if d.status == "Succeeded"
            && hooks == ["Succeeded", "Succeeded"]
            && live == "2"
            && weights.is_empty()
            && canary
        {
            Ok(format!(
                "deployment {} Succeeded: pre- and post-traffic hooks Succeeded, 10% canary, live -> 2",
                d.id
            ))
        } else {
            Err(format!(
                "deployment {} {}, hooks {hooks:?}, canary seen {canary}, live -> {live} {weights:?}",
                d.id, d.status
            ))
        }
    }

    /// Did the alias, during deployment `id`, route `weight` of traffic to `version`?
    async fn saw_weight(&self, id: &str, version: &str, weight: f64) -> bool {
        let timeline = self.world.timeline(id).await;
        timeline["weights"].as_array().is_some_and(|points| {
            points.iter().any(|p| {
                p["weights"][version]
                    .as_f64()
                    .is_some_and(|w| (w - weight).abs() < 1e-6)
            })
        })
    }

    async fn bad_build(&mut self) -> Result<String, String> {
        let params = with(&PARAMETERS, &[("FailureMode", "fail")]);
        let stack = self
            .world
            .update(&Template::Repository, &params, Some("build-3"))
            .await;
        let deployments = self.new_deployments().await;
        self.print_verdicts().await;
        let (live, _) = self.world.live().await;
        let Some(d) = deployments
            .iter()
            .find(|d| d.creator != "codeDeployRollback")
        else {
            return Err(format!("no deployment of the bad build: {deployments:?}"));
        };
        let hooks = self.hook_statuses(&d.id).await;
        if !stack.succeeded() && d.status == "Failed" && hooks == ["Failed"] && live == "2" {
            Ok(format!(
                "deployment {} Failed at the pre-traffic hook (no traffic shifted), stack {}; live stays on 2",
                d.id, stack.status
            ))
        } else {
            Err(format!(
                "stack {}, deployment {} {}, hooks {hooks:?}, live -> {live}",
                stack.status, d.id, d.status
            ))
        }
    }

    async fn canary_breach(&mut self) -> Result<String, String> {
        // Linear 10% a minute: the new build's share of real runs grows until its alarm
        // fires (a 10% canary of a bot ticking every few minutes would barely see it).
        let params = with(
            &PARAMETERS,
            &[
                ("FailureMode", "fail-live"),
                ("DeploymentType", "Linear10PercentEvery1Minute"),
            ],
        );
        // The bot's schedule ticks while traffic shifts, every 2.5 minutes (AWS time): the
        // scheduler fires each tick and the alias routes it; the drill only says when. Ticks
        // start once traffic shifts, so they never meet the hooks' probes in the single
        // reserved slot, and they are spaced so a failed run's retries (after 1 and 3
        // minutes) never meet the next tick either.
        let (ticker, world_cfg, guarded) = (
            self.world.acct.control.clone(),
            self.world.admin.clone(),
            self.guarded(),
        );
        let ticks = tokio::spawn(async move {
            let lambda = aws_sdk_lambda::Client::new(&world_cfg);
            let mut fired = 0;
            for _ in 0..400 {
                let alias = lambda
                    .get_alias()
                    .function_name(&guarded)
                    .name("live")
                    .send()
                    .await;
                let weighted = alias
                    .ok()
                    .and_then(|a| a.routing_config)
                    .is_some_and(|r| r.additional_version_weights.is_some_and(|w| !w.is_empty()));
                if weighted {
                    ticker
                        .post(
                            "/_ext/scheduler/fire",
                            json!({"group": STACK, "name": format!("{STACK}-guarded")}),
                        )
                        .await;
                    fired += 1;
                    let gap = 150.0 * TIME_SCALE * 1000.0;
                    tokio::time::sleep(Duration::from_millis(gap as u64)).await;
                } else if fired > 0 {
                    break;
                } else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            fired
        });
        let stack = self
            .world
            .update(&Template::Repository, &params, Some("build-4"))
            .await;
        let ticked = ticks.await.unwrap_or(0);
        println!("  the schedule ticked {ticked} time(s) while traffic shifted");
        let deployments = self.new_deployments().await;
        let alarm = self.alarm_history(&format!("{STACK}-guarded-errors")).await;
        for h in &alarm {
            println!("  alarm {STACK}-guarded-errors: {h}");
        }
        let halted = self
            .world
            .wait_for(Duration::from_secs(30), || async {
                self.world.reserved_concurrency().await == Some(0)
            })
            .await;
        self.print_alerts().await;
        let (live, weights) = self.world.live().await;
        let original = deployments
            .iter()
            .find(|d| d.creator != "codeDeployRollback");
        let rollback = deployments.iter().find(|d| d.rollback_of.is_some());
        let status = self
            .world
            .invoke_as_operator("KillSwitchFunction", &json!({"action": "status"}))
            .await;
        println!(
            "  kill switch status -> {}",
            preview(&status.clone().unwrap_or_else(|e| json!(e)), 300)
        );
        let checks = [
            ("the stack update failed", !stack.succeeded()),
            (
                "the errors alarm went to ALARM",
                alarm.iter().any(|h| h.contains("to ALARM")),
            ),
            (
                "CodeDeploy stopped the canary",
                original.is_some_and(|d| d.status == "Stopped" || d.status == "Failed"),
            ),
            (
                "a rollback deployment Succeeded",
                rollback.is_some_and(|d| d.status == "Succeeded"),
            ),
            (
                "live is back on 2 with no canary weight",
                live == "2" && weights.is_empty(),
            ),
            ("auto-halt stopped trading (concurrency 0)", halted),
        ];
        let failed: Vec<&str> = checks
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(what, _)| *what)
            .collect();
        if failed.is_empty() {
            Ok(format!(
                "errors alarm -> CodeDeploy rolled back ({} by {}), live -> 2, trading halted by the alarm",
                rollback.map(|d| d.id.as_str()).unwrap_or("?"),
                rollback.map(|d| d.creator.as_str()).unwrap_or("?")
            ))
        } else {
            Err(format!("not as expected: {}", failed.join(", ")))
        }
    }

    /// The alarm's state changes, oldest first.
    async fn alarm_history(&self, alarm: &str) -> Vec<String> {
        let kind = aws_sdk_cloudwatch::types::HistoryItemType::StateUpdate;
        let mut items = crate::alarm_history(&self.world.admin, alarm, kind)
            .await
            .unwrap_or_default();
        items.reverse();
        items
    }

    async fn dead_letters(&mut self) -> Result<String, String> {
        let dlq = self.world.stack.output("DeadLetterQueueUrl");
        // Five minutes pass: every failed run has used up its retries (or, trading being
        // stopped, gone straight to the DLQ).
        tokio::time::sleep(Duration::from_secs_f64(300.0 * TIME_SCALE)).await;
        let depth = crate::visible_messages(&self.world.admin, &dlq).await;
        // The hourly inspection comes due: its schedule fires, and the report reaches the
        // warning topic, where the team reads it.
        self.world
            .acct
            .control
            .post(
                "/_ext/scheduler/fire",
                json!({"group": STACK, "name": format!("{STACK}-dlq-inspect")}),
            )
            .await;
        let mut reports = Vec::new();
        for _ in 0..150 {
            reports.extend(self.world.read_inbox(&self.world.inboxes.warning).await);
            if reports
                .iter()
                .any(|n| n["Subject"].as_str().is_some_and(|s| s.starts_with("DLQ ")))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for n in &reports {
            println!("  warning topic <- {}", n["Subject"].as_str().unwrap_or(""));
        }
        let report = reports
            .iter()
            .find(|n| n["Subject"].as_str().is_some_and(|s| s.starts_with("DLQ ")))
            .map(|n| json!(n["Subject"]))
            .ok_or("the scheduled inspection published no report")?;
        println!("  scheduled inspect -> {report}");
        let after_inspect = crate::visible_messages(&self.world.admin, &dlq).await;
        let refused = self
            .world
            .invoke_as_operator(
                "DlqInspectorFunction",
                &json!({"action": "redrive", "max_age_seconds": 86400}),
            )
            .await;
        println!(
            "  redrive while stopped -> {}",
            preview(&refused.clone().unwrap_or_else(|e| json!(e)), 300)
        );
        let after_refusal = crate::visible_messages(&self.world.admin, &dlq).await;
        let resume = self
            .world
            .invoke_as_operator(
                "KillSwitchFunction",
                &json!({"action": "resume", "reason": "drill: v4 rolled back, v2 is live", "requested_by": "on-call"}),
            )
            .await?;
        println!("  resume -> {}", preview(&resume, 300));
        let concurrency = self.world.reserved_concurrency().await;
        let redrive = self
            .world
            .invoke_as_operator(
                "DlqInspectorFunction",
                &json!({"action": "redrive", "max_age_seconds": 86400}),
            )
            .await?;
        println!("  redrive -> {}", preview(&redrive, 500));
        let emptied = self
            .world
            .wait_for(Duration::from_secs(20), || async {
                crate::visible_messages(&self.world.admin, &dlq).await == 0
            })
            .await;
        let refused_ok = refused.is_err() && after_refusal == depth;
        if depth > 0 && after_inspect == depth && refused_ok && concurrency == Some(1) && emptied {
            Ok(format!(
                "{depth} failed runs in the DLQ: inspected in place, redrive refused while stopped, resumed (concurrency 1), redriven to live and gone from the DLQ"
            ))
        } else {
            Err(format!(
                "DLQ {depth} -> after inspect {after_inspect}, after refused redrive {after_refusal} (refused: {}), concurrency {concurrency:?}, emptied {emptied}",
                refused.is_err()
            ))
        }
    }

    async fn kill_switch(&mut self) -> Result<String, String> {
        let stop = self
            .world
            .invoke_as_operator(
                "KillSwitchFunction",
                &json!({"action": "stop", "reason": "drill: bad fills since 03:00", "requested_by": "on-call"}),
            )
            .await?;
        println!("  stop -> {}", preview(&stop, 400));
        let stopped = self.world.reserved_concurrency().await;
        let schedule_stopped = self.world.schedule_state().await;
        let probe = crate::invoke(
            &self.world.admin,
            &self.guarded(),
            Some("live"),
            &json!({"smoke_test": true}),
        )
        .await;
        let throttled = probe
            .as_ref()
            .is_err_and(|e| e.contains("TooManyRequestsException"));
        let status = self
            .world
            .invoke_as_operator("KillSwitchFunction", &json!({"action": "status"}))
            .await?;
        println!("  status -> {}", preview(&status, 400));
        let resume = self
            .world
            .invoke_as_operator(
                "KillSwitchFunction",
                &json!({"action": "resume", "reason": "drill: fills look right", "requested_by": "on-call"}),
            )
            .await?;
        println!("  resume -> {}", preview(&resume, 400));
        let restored = self.world.reserved_concurrency().await;
        let schedule_resumed = self.world.schedule_state().await;
        self.print_alerts().await;
        if stopped == Some(0)
            && throttled
            && status["state"] == "stopped"
            && restored == Some(1)
            && schedule_stopped == "DISABLED"
            && schedule_resumed == "ENABLED"
        {
            Ok("concurrency 1 -> 0 (a probe of live is throttled, schedule DISABLED, status: stopped by on-call) -> 1 restored, schedule ENABLED".into())
        } else {
            Err(format!(
                "stopped={stopped:?} schedule={schedule_stopped} throttled={throttled} status={} restored={restored:?} schedule={schedule_resumed}",
                status["state"]
            ))
        }
    }

    /// The hooks' verdicts (warning topic), as the team's tooling receives them.
    async fn print_verdicts(&self) {
        for n in self.world.read_inbox(&self.world.inboxes.warning).await {
            println!(
                "  warning topic <- {}",
                n["Subject"].as_str().unwrap_or("(no subject)")
            );
            print_indented(n["Message"].as_str().unwrap_or(""), 8);
        }
    }

    /// What the on-call engineer reads: e-mails, SMS, chat cards (and the inboxes' subjects).
    async fn print_alerts(&self) {
        for (name, queue) in [
            ("critical", &self.world.inboxes.critical),
            ("warning", &self.world.inboxes.warning),
        ] {
            for n in self.world.read_inbox(queue).await {
                println!(
                    "  {name} topic <- {}",
                    n["Subject"].as_str().unwrap_or("(no subject)")
                );
            }
        }
        for e in self.world.acct.control.deliveries("email").await {
            println!(
                "  e-mail to {}  Subject: {}",
                e["endpoint"].as_str().unwrap_or("?"),
                e["subject"].as_str().unwrap_or("")
            );
            print_indented(e["message"].as_str().unwrap_or(""), 6);
        }
        for t in self.world.acct.control.deliveries("sms").await {
            println!(
                "  SMS to {}: {}",
                t["endpoint"].as_str().unwrap_or("?"),
                t["message"].as_str().unwrap_or("")
            );
        }
        if let Some(chat) = &self.world.inboxes.chat {
            for card in self.world.read_inbox(chat).await {
                let card: Value = serde_json::from_str(card["Message"].as_str().unwrap_or("{}"))
                    .unwrap_or_default();
                println!(
                    "  chat card: {}",
                    card["content"]["title"].as_str().unwrap_or("?")
                );
            }
        }
        self.world
            .acct
            .control
            .post("/_ext/sns/deliveries/clear", json!({}))
            .await;
    }
}

fn with<'a>(base: &[(&'a str, &'a str)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all: Vec<(&str, &str)> = base
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .copied()
        .collect();
    all.extend_from_slice(extra);
    all
}

fn print_weights(timeline: &Value) {
    let Some(points) = timeline["weights"].as_array() else {
        return;
    };
    let line: Vec<String> = points
        .iter()
        .map(|p| {
            let weights = p["weights"]
                .as_object()
                .map(|w| {
                    w.iter()
                        .map(|(v, f)| format!("v{v} {:.0}%", f.as_f64().unwrap_or(0.0) * 100.0))
                        .collect::<Vec<_>>()
                        .join(" + ")
                })
                .unwrap_or_default();
            format!("t+{:.1}s {weights}", p["t"].as_f64().unwrap_or(0.0))
        })
        .collect();
    if !line.is_empty() {
        println!("      alias live: {}", line.join(" | "));
    }
}

fn preview(v: &Value, max: usize) -> String {
    guardian::preview::preview(&v.to_string(), max)
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
