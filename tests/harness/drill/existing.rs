//! `make drill SCENARIO=existing`: the guardian guarding functions it does not own. The
//! guardian-only variant of `template.yaml` and `examples/existing-app.yaml` (two bots) are
//! deployed side by side in the order README "Guard an existing function" gives; then a
//! deployment, an alarm, a DLQ redrive and a stop/resume are played against each bot, as the
//! on-call engineer and as CodeDeploy would, every verdict read from the emulator.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::StateValue;
use serde_json::{Value, json};

use super::{DrillRun, TIME_SCALE, report, verdict};
use crate::{STACK, Stack, Template, TestAccount, World, workspace_root};

/// The example app's stack name: its bots are `<APP>-trading-bot` and `<APP>-pricing-bot`.
pub const APP: &str = "trading-app";

/// The example app as a user deploys it, with the quickest traffic shifting (the hooks run
/// all the same).
pub fn app_template() -> Template {
    Template::Text(
        std::fs::read_to_string(workspace_root().join("examples/existing-app.yaml"))
            .expect("examples/existing-app.yaml is readable"),
    )
}
pub const APP_PARAMETERS: [(&str, &str); 1] = [("DeploymentType", "AllAtOnce")];

/// Both stacks deployed: the guardian (as `World`) and the two bots it guards.
pub struct Existing {
    pub world: World,
    pub app: Stack,
    /// The trading bot (scheduled) and the pricing bot.
    pub bots: [String; 2],
}

/// `Key=Value Key=Value` (the app's output GuardianParameterOverrides) as parameters.
fn overrides(text: &str) -> BTreeMap<String, String> {
    text.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn as_params(map: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// README's three steps: the guardian naming the two functions and their DLQs; the app,
/// importing the guardian's hooks and alarm topic; the guardian again with the app's output.
pub async fn deploy(acct: TestAccount) -> Result<Existing, String> {
    let bots = [format!("{APP}-trading-bot"), format!("{APP}-pricing-bot")];
    let arns = |of: &dyn Fn(&str) -> String| bots.iter().map(|b| of(b)).collect::<Vec<_>>();
    let mut params = BTreeMap::from([
        (
            "ExistingFunctionArns".to_string(),
            arns(&|b| acct.function_arn(b)).join(","),
        ),
        (
            "ExistingDeadLetterQueueArns".to_string(),
            arns(&|b| acct.arn("sqs", &format!("{b}-dlq"))).join(","),
        ),
        // The pricing bot's errors alarm stops it (and only it) when it fires.
        ("HaltOnAlarms".to_string(), format!("{}-errors", bots[1])),
    ]);
    let mut world = World::deploy(acct.clone(), &Template::Repository, &as_params(&params))
        .await
        .map_err(|e| format!("the guardian-only stack did not deploy: {e}"))?;
    let app = acct.deploy(APP, &app_template(), &APP_PARAMETERS).await;
    if !app.succeeded() {
        return Err(format!("the app stack did not deploy: {}", app.failure()));
    }
    params.extend(overrides(&app.output("GuardianParameterOverrides")));
    let updated = world
        .update(&Template::Repository, &as_params(&params), None)
        .await;
    if !updated.succeeded() {
        return Err(format!(
            "the guardian with the app's ARNs: {}",
            updated.failure()
        ));
    }
    Ok(Existing { world, app, bots })
}

/// Deploys both stacks into `acct` and plays every step, printing as it goes.
pub async fn run(acct: TestAccount) -> DrillRun {
    acct.control.scale_time(TIME_SCALE).await;
    let logs = acct.log_dir.join(&acct.id);
    println!(
        "deploying template.yaml as a guardian-only stack and examples/existing-app.yaml as {APP} into account {} ...",
        acct.id
    );
    let scene = match deploy(acct).await {
        Ok(scene) => scene,
        Err(failure) => {
            let name = "deploy the guardian-only stack and the app";
            return DrillRun::undeployed(name, failure, logs);
        }
    };
    report::stack_summary(&scene.world).await;
    let mut steps = Vec::new();
    macro_rules! step {
        ($name:expr, $method:ident) => {{
            println!("--- {}", $name);
            steps.push(verdict($name, scene.$method().await));
        }};
    }
    step!("two functions of another stack guarded", guarded);
    step!("a deployment of each: both hooks Succeeded", deployments);
    step!(
        "an alarm of each reaches the on-call; one auto-halts its bot",
        alarms
    );
    step!("a failed event in each DLQ: inspect, redrive", dead_letters);
    step!("stop and resume each, refuse the unguarded", stop_resume);
    steps.push(report::least_privilege(&scene.world).await);
    DrillRun { steps, logs }
}

fn check(holds: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if holds { Ok(()) } else { Err(what()) }
}

impl Existing {
    async fn kill_switch(&self, payload: Value) -> Result<Value, String> {
        self.world
            .invoke_as_operator("KillSwitchFunction", &payload)
            .await
    }

    async fn inspector(&self, payload: Value) -> Result<Value, String> {
        self.world
            .invoke_as_operator("DlqInspectorFunction", &payload)
            .await
    }

    pub async fn concurrency(&self, function: &str) -> Option<i32> {
        crate::reserved_concurrency(&self.world.admin, function).await
    }

    /// The trading bot's schedule state (`ENABLED`, `DISABLED`, `?`).
    pub async fn schedule(&self) -> String {
        aws_sdk_scheduler::Client::new(&self.world.admin)
            .get_schedule()
            .name(format!("{APP}-trading-bot-tick"))
            .send()
            .await
            .ok()
            .and_then(|s| s.state.map(|s| s.as_str().to_string()))
            .unwrap_or_else(|| "?".into())
    }

    async fn dlq_url(&self, function: &str) -> Result<String, String> {
        aws_sdk_sqs::Client::new(&self.world.admin)
            .get_queue_url()
            .queue_name(format!("{function}-dlq"))
            .send()
            .await
            .map_err(|e| format!("{function}'s DLQ: {e}"))
            .map(|o| o.queue_url.unwrap_or_default())
    }

    /// The kill switch's status of each bot, and no sample target in the guardian's stack.
    async fn guarded(&self) -> Result<String, String> {
        let sample = ["GuardedFunction", "DeadLetterQueue", "GuardedSchedule"];
        let made: Vec<&str> = self
            .world
            .stack
            .resources
            .iter()
            .map(|r| r.logical_id.as_str())
            .filter(|id| sample.contains(id))
            .collect();
        check(made.is_empty(), || {
            format!("the guardian-only stack created the sample's {made:?}")
        })?;
        let mut seen = Vec::new();
        for bot in &self.bots {
            let status = self
                .kill_switch(json!({"action": "status", "function": bot}))
                .await?;
            println!("  {bot}: {status}");
            check(
                status["state"] == "running" && status["reserved_concurrency"] == 1,
                || format!("{bot}: {status}"),
            )?;
            seen.push(format!("{bot} running (reserved concurrency 1)"));
        }
        Ok(format!("{}; no sample target created", seen.join(", ")))
    }

    /// A new build of the app: one deployment per bot, each through both hooks, each hook
    /// probing its own bot's new version.
    async fn deployments(&self) -> Result<String, String> {
        let control = &self.world.acct.control;
        let before = control.hook_statuses().await.len();
        let built = self
            .world
            .acct
            .deploy_build(APP, &app_template(), &APP_PARAMETERS, Some("build-2"))
            .await;
        let statuses: Vec<String> = control.hook_statuses().await[before..]
            .iter()
            .map(|h| h["status"].as_str().unwrap_or("?").to_string())
            .collect();
        println!("  hook statuses: {statuses:?}");
        check(built.succeeded(), || {
            format!("the app's new build: {}", built.failure())
        })?;
        check(statuses == ["Succeeded"; 4], || {
            format!("expected 2 deployments x 2 hooks Succeeded, CodeDeploy recorded {statuses:?}")
        })?;
        for bot in &self.bots {
            let probed: Vec<String> = control
                .invocations(bot)
                .await
                .into_iter()
                .filter(|i| i["payload"]["smoke_test"] == true)
                .map(|i| i["qualifier"].as_str().unwrap_or("?").to_string())
                .collect();
            check(probed == ["2", "2"], || {
                format!("{bot}: the hooks probed {probed:?}, not version 2 twice")
            })?;
        }
        Ok("one deployment per bot, pre- and post-traffic hooks Succeeded, each probing its own version 2".into())
    }

    /// Each bot's errors alarm reaches the warning inbox through the fan-out.
    async fn alarms(&self) -> Result<String, String> {
        let w = &self.world;
        let mut wanted: Vec<String> = Vec::new();
        for bot in &self.bots {
            let alarm = format!("{bot}-errors");
            crate::set_alarm_state(&w.admin, &alarm, StateValue::Alarm, "drill").await;
            wanted.push(format!("[WARNING] ALARM: {alarm}"));
        }
        let until = Instant::now() + Duration::from_secs(60);
        let mut got = Vec::new();
        while Instant::now() < until && !wanted.iter().all(|s| got.contains(s)) {
            for n in crate::notifications(&w.admin, &w.inboxes.warning).await {
                got.push(n["Subject"].as_str().unwrap_or("?").to_string());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let missing: Vec<&String> = wanted.iter().filter(|s| !got.contains(s)).collect();
        check(missing.is_empty(), || {
            format!("not in the warning inbox: {missing:?} (got {got:?})")
        })?;
        // HaltOnAlarms names the pricing bot's alarm: the fan-out asks the kill switch to stop
        // the function that alarm watches, and only that one.
        let [bot, pricer] = &self.bots;
        let halted = w
            .wait_for(Duration::from_secs(30), || async {
                self.concurrency(pricer).await == Some(0)
            })
            .await;
        let (bot_now, pricer_now) = (self.concurrency(bot).await, self.concurrency(pricer).await);
        check(halted && bot_now == Some(1), || {
            format!("auto-halt: {pricer} concurrency {pricer_now:?}, {bot} {bot_now:?}")
        })?;
        let resume = json!({"action": "resume", "reason": "alarm checked", "function": pricer});
        self.kill_switch(resume).await?;
        check(self.concurrency(pricer).await == Some(1), || {
            format!("{pricer} was not resumed")
        })?;
        Ok(format!(
            "{} alerts routed by the guardian; {pricer}'s alarm stopped {pricer} alone (then resumed)",
            wanted.len()
        ))
    }

    /// A failed event in each bot's DLQ: `inspect` reports both queues; a redrive must name
    /// its function and re-sends only that function's event, then the queue is empty.
    async fn dead_letters(&self) -> Result<String, String> {
        let w = &self.world;
        let sqs = aws_sdk_sqs::Client::new(&w.admin);
        for bot in &self.bots {
            sqs.send_message()
                .queue_url(self.dlq_url(bot).await?)
                .message_body(json!({"for": bot}).to_string())
                .send()
                .await
                .map_err(|e| format!("SendMessage: {e}"))?;
        }
        // The hourly inspection (no function named) reports every DLQ to the warning topic.
        let control = &w.acct.control;
        let inspect = json!({"group": STACK, "name": format!("{STACK}-dlq-inspect")});
        control.post("/_ext/scheduler/fire", inspect).await;
        let until = Instant::now() + Duration::from_secs(30);
        let mut subjects: Vec<String> = Vec::new();
        let reported = |subjects: &[String]| {
            self.bots.iter().all(|b| {
                subjects
                    .iter()
                    .any(|s| s.starts_with("DLQ ") && s.contains(&format!("{b}-dlq")))
            })
        };
        while Instant::now() < until && !reported(&subjects) {
            for n in w.read_inbox(&w.inboxes.warning).await {
                subjects.push(n["Subject"].as_str().unwrap_or("?").to_string());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        println!("  scheduled inspect -> {subjects:?}");
        check(reported(&subjects), || {
            format!("the scheduled inspection did not report both DLQs: {subjects:?}")
        })?;
        let report = self.inspector(json!({"action": "inspect"})).await?;
        let depths: Vec<(String, u64)> = report["reports"]
            .as_array()
            .ok_or_else(|| format!("no report per DLQ: {report}"))?
            .iter()
            .map(|r| {
                let queue = r["queue"].as_str().unwrap_or("?").to_string();
                (queue, r["depth"]["visible"].as_u64().unwrap_or(0))
            })
            .collect();
        println!("  inspect: {depths:?}");
        let expected: Vec<(String, u64)> =
            self.bots.iter().map(|b| (format!("{b}-dlq"), 1)).collect();
        check(depths == expected, || {
            format!("inspect reported {depths:?}")
        })?;
        let unnamed = self.inspector(json!({"action": "redrive"})).await;
        check(
            unnamed
                .as_ref()
                .is_err_and(|e| e.contains("`function` is required for redrive")),
            || format!("a redrive naming no function: {unnamed:?}"),
        )?;
        for bot in &self.bots {
            let out = self
                .inspector(json!({"action": "redrive", "function": bot}))
                .await?;
            println!("  redrive {bot}: {}", out["outcome"]);
            check(out["outcome"]["redriven"] == 1, || {
                format!("redrive {bot}: {out}")
            })?;
            let events = w.acct.control.events(bot).await;
            check(events.iter().any(|e| e["for"] == bot.as_str()), || {
                format!("{bot} did not get its event back: {events:?}")
            })?;
            let left = crate::visible_messages(&w.admin, &self.dlq_url(bot).await?).await;
            check(left == 0, || format!("{left} left in {bot}'s DLQ"))?;
        }
        Ok("the scheduled inspection reported both DLQs, inspect 1 message in each; each redrive re-sent its own bot's event; both DLQs empty".into())
    }

    /// Stop and resume each bot: only that bot's concurrency and schedule change; a function
    /// that is not guarded, or none, is refused by name.
    async fn stop_resume(&self) -> Result<String, String> {
        let [bot, pricer] = &self.bots;
        let stop = |f: &str| json!({"action": "stop", "reason": "drill", "function": f});
        let resume = |f: &str| json!({"action": "resume", "reason": "drill over", "function": f});
        let state = || async {
            (
                self.concurrency(bot).await,
                self.concurrency(pricer).await,
                self.schedule().await,
            )
        };
        let expect =
            |when: &str, got: (Option<i32>, Option<i32>, String), want: (i32, i32, &str)| {
                check(
                    got == (Some(want.0), Some(want.1), want.2.to_string()),
                    || {
                        format!(
                            "{when}: concurrency {bot} {:?}, {pricer} {:?}, schedule {}",
                            got.0, got.1, got.2
                        )
                    },
                )
            };
        expect("before", state().await, (1, 1, "ENABLED"))?;
        let out = self.kill_switch(stop(bot)).await?;
        check(out["failed"] == json!([]), || format!("stop {bot}: {out}"))?;
        expect("trading bot stopped", state().await, (0, 1, "DISABLED"))?;
        let out = self.kill_switch(stop(pricer)).await?;
        check(out["failed"] == json!([]), || {
            format!("stop {pricer}: {out}")
        })?;
        expect("both stopped", state().await, (0, 0, "DISABLED"))?;
        self.kill_switch(resume(pricer)).await?;
        expect("pricing bot resumed", state().await, (0, 1, "DISABLED"))?;
        self.kill_switch(resume(bot)).await?;
        expect("both resumed", state().await, (1, 1, "ENABLED"))?;
        let other = self.kill_switch(stop("orders-api")).await;
        check(
            other.as_ref().is_err_and(|e| e.contains("is not guarded")),
            || format!("stop of an unguarded function: {other:?}"),
        )?;
        let unnamed = self
            .kill_switch(json!({"action": "stop", "reason": "x"}))
            .await;
        check(
            unnamed
                .as_ref()
                .is_err_and(|e| e.contains("KillSwitch.FunctionRequired")),
            || format!("a stop naming no function: {unnamed:?}"),
        )?;
        Ok(format!(
            "stop/resume of {bot} then {pricer}: only the named bot's concurrency (and the trading bot's schedule) changed, restored to 1; orders-api and an unnamed stop refused"
        ))
    }
}
