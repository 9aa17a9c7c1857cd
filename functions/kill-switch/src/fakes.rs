//! An in-memory guarded function and its surroundings behind the kill switch's ports, for
//! the flows' unit tests: every call is logged, any operation can fail or never answer, and
//! a racer acts before each call the way a concurrent invocation would.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use guardian::config::Env;
use guardian::killswitch::record::{self, Concurrency, StopRecord};
use guardian::publication::Publication;
use guardian::queue::QueueDepth;
use guardian_aws::codedeploy::InFlight;
use guardian_aws::deadline::Deadline;
use guardian_aws::error::AwsCallError;
use guardian_aws::lambda::FunctionTags;
use guardian_aws::scheduler::StateChange;
use serde_json::{Value, json};

use crate::config::Config;
use crate::error::KillSwitchError;
use crate::handler::handle;
use crate::observe::Observed;
use crate::ports::{Alerts, Backlog, Deployments, FunctionSettings, Ports, Schedules};

pub const BOT: &str = "bot";
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:bot";

/// What the fake AWS holds, and what was asked of it.
#[derive(Debug, Default)]
pub struct State {
    pub concurrency: Option<i32>,
    pub tags: BTreeMap<String, String>,
    /// Every call in order, as `Operation` or `Operation argument`.
    pub calls: Vec<String>,
    pub deployments: Vec<InFlight>,
    /// Deployments that finished before they could be stopped.
    pub completed: BTreeSet<String>,
    /// Schedule name -> enabled.
    pub schedules: BTreeMap<String, bool>,
    /// The function a schedule invokes (unlisted: `BOT`).
    pub schedule_targets: BTreeMap<String, String>,
    pub alerts: Vec<Publication>,
    /// The topic of each alert, in the same order.
    pub alert_topics: Vec<String>,
    pub dlq_visible: u64,
    /// Operations that fail, with the error code they fail with.
    pub failing: BTreeMap<&'static str, &'static str>,
    /// Operations that never answer.
    pub hanging: BTreeSet<&'static str>,
}

impl State {
    pub fn record(&self) -> Option<StopRecord> {
        StopRecord::from_tags(&self.tags).ok().flatten()
    }

    /// A whole concurrent resume, as it leaves the function.
    pub fn resume_now(&mut self) {
        if let Some(r) = self.record() {
            self.concurrency = r.previous.reserved();
            let note = (record::LAST_RESTORED.to_string(), r.previous.to_string());
            self.tags.extend([note]);
            record::RECORD_KEYS.iter().for_each(|k| {
                self.tags.remove(*k);
            });
        }
    }

    /// The first write of a concurrent stop: its record, not yet its 0.
    pub fn record_stop(&mut self, by: &str) {
        if self.record().is_none() {
            self.tags
                .extend(stop_record(by, self.concurrency).to_tags());
        }
    }

    /// Every call of `operation` so far.
    pub fn count(&self, operation: &str) -> usize {
        let op = |c: &&String| c.split(' ').next() == Some(operation);
        self.calls.iter().filter(op).count()
    }

    /// Where the first call starting with `prefix` stands in the log.
    pub fn position(&self, prefix: &str) -> Option<usize> {
        self.calls.iter().position(|c| c.starts_with(prefix))
    }
}

pub fn stop_record(by: &str, concurrency: Option<i32>) -> StopRecord {
    StopRecord {
        stopped_at: "2026-03-01T03:04:05Z".into(),
        stopped_by: by.into(),
        reason: "bad fills".into(),
        previous: Concurrency::from_reserved(concurrency),
    }
}

type Racer = Box<dyn FnMut(&str, &mut State) + Send>;

/// The fake behind every port, configured with schedule `tick`, a deployment group and a
/// DLQ.
pub struct World {
    config: Config,
    state: Mutex<State>,
    racer: Mutex<Option<Racer>>,
}

impl World {
    pub fn new(concurrency: Option<i32>) -> World {
        World::with_env(concurrency, [])
    }

    /// [`World::new`] with more environment (e.g. `CENTRAL_TOPIC_ARN`).
    pub fn with_env<const N: usize>(
        concurrency: Option<i32>,
        more: [(&'static str, &'static str); N],
    ) -> World {
        let mut pairs = vec![
            ("GUARDED_FUNCTIONS", BOT),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:critical",
            ),
            ("SCHEDULE_NAMES", "tick"),
            ("DEPLOYMENT_GROUPS", "app/group"),
            (
                "DLQ_URL",
                "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
            ),
        ];
        pairs.extend(more);
        let env = Env::from_pairs(pairs);
        let state = State {
            concurrency,
            schedules: BTreeMap::from([("tick".to_string(), true)]),
            ..State::default()
        };
        World {
            config: Config::from_env(&env).unwrap_or_else(|e| panic!("{e}")),
            state: Mutex::new(state),
            racer: Mutex::new(None),
        }
    }

    /// Already stopped by `alice`, who recorded `previous`.
    pub fn stopped(previous: Option<i32>) -> World {
        let w = World::new(Some(0));
        w.state().tags = stop_record("alice", previous).to_tags();
        w
    }

    /// `racer` runs before each call with its operation and the state, as another
    /// invocation interleaving its writes would.
    pub fn racing(self, racer: impl FnMut(&str, &mut State) + Send + 'static) -> World {
        *self.racer.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(racer));
        self
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One invocation with `payload`, a minute before its deadline.
    pub async fn invoke(&self, payload: Value) -> Result<Value, KillSwitchError> {
        self.invoke_within(payload, Duration::from_secs(60)).await
    }

    pub async fn invoke_within(
        &self,
        payload: Value,
        budget: Duration,
    ) -> Result<Value, KillSwitchError> {
        let mut observed = Observed::default();
        handle(self, &payload, Deadline::after(budget), &mut observed).await
    }

    /// Logs the call after letting the racer act, then fails or hangs it if told to.
    async fn enter(&self, operation: &'static str, detail: String) -> Result<(), AwsCallError> {
        let failing = {
            let mut state = self.state();
            if let Some(racer) = self
                .racer
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
            {
                racer(operation, &mut state);
            }
            state
                .calls
                .push(format!("{operation} {detail}").trim_end().to_string());
            if state.hanging.contains(operation) {
                None
            } else {
                Some(state.failing.get(operation).copied())
            }
        };
        match failing {
            None => std::future::pending().await,
            Some(None) => Ok(()),
            Some(Some(code)) => Err(AwsCallError {
                operation,
                code: Some(code.to_string()),
                message: "injected".into(),
            }),
        }
    }
}

pub fn stop(by: &str) -> Value {
    json!({"action": "stop", "reason": "bad fills", "requested_by": by})
}

pub fn resume(by: &str) -> Value {
    json!({"action": "resume", "reason": "fix verified", "requested_by": by})
}

impl Ports for World {
    type Lambda = World;
    type CodeDeploy = World;
    type Scheduler = World;
    type Sns = World;
    type Sqs = World;
    fn config(&self) -> &Config {
        &self.config
    }
    fn lambda(&self) -> &World {
        self
    }
    fn codedeploy(&self) -> &World {
        self
    }
    fn scheduler(&self) -> &World {
        self
    }
    fn sns(&self) -> &World {
        self
    }
    fn sqs(&self) -> &World {
        self
    }
}

impl FunctionSettings for World {
    async fn function_tags(&self, _: &str) -> Result<FunctionTags, AwsCallError> {
        self.enter("GetFunction", String::new()).await?;
        let tags = self.state().tags.clone();
        let arn = ARN.to_string();
        Ok(FunctionTags { arn, tags })
    }
    async fn reserved_concurrency(&self, _: &str) -> Result<Option<i32>, AwsCallError> {
        self.enter("GetFunctionConcurrency", String::new()).await?;
        Ok(self.state().concurrency)
    }
    async fn put_reserved_concurrency(&self, _: &str, n: i32) -> Result<(), AwsCallError> {
        self.enter("PutFunctionConcurrency", n.to_string()).await?;
        self.state().concurrency = Some(n);
        Ok(())
    }
    async fn delete_reserved_concurrency(&self, _: &str) -> Result<(), AwsCallError> {
        self.enter("DeleteFunctionConcurrency", String::new())
            .await?;
        self.state().concurrency = None;
        Ok(())
    }
    async fn tag(&self, _: &str, tags: &BTreeMap<String, String>) -> Result<(), AwsCallError> {
        let keys: Vec<&str> = tags.keys().map(String::as_str).collect();
        self.enter("TagResource", keys.join(",")).await?;
        self.state().tags.extend(tags.clone());
        Ok(())
    }
    async fn untag(&self, _: &str, keys: &[&str]) -> Result<(), AwsCallError> {
        self.enter("UntagResource", keys.join(",")).await?;
        let mut state = self.state();
        keys.iter().for_each(|k| {
            state.tags.remove(*k);
        });
        Ok(())
    }
}

impl Deployments for World {
    async fn in_flight_deployments(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Vec<InFlight>, AwsCallError> {
        self.enter("ListDeployments", format!("{application}/{group}"))
            .await?;
        Ok(self.state().deployments.clone())
    }
    async fn stop_deployment(&self, id: &str, auto_rollback: bool) -> Result<(), AwsCallError> {
        self.enter("StopDeployment", format!("{id} rollback={auto_rollback}"))
            .await?;
        let mut state = self.state();
        if state.completed.contains(id) {
            return Err(AwsCallError {
                operation: "StopDeployment",
                code: Some("DeploymentAlreadyCompletedException".into()),
                message: format!("{id} is complete"),
            });
        }
        state.deployments.retain(|d| d.id != id);
        Ok(())
    }
}

impl Schedules for World {
    async fn set_enabled(
        &self,
        _: Option<&str>,
        name: &str,
        enabled: bool,
        for_function: Option<&str>,
    ) -> Result<StateChange, AwsCallError> {
        let target = self.state().schedule_targets.get(name).cloned();
        if for_function.is_some_and(|f| f != target.as_deref().unwrap_or(BOT)) {
            return Ok(StateChange::OtherTarget);
        }
        self.enter("UpdateSchedule", format!("{name}={enabled}"))
            .await?;
        let was = self.state().schedules.insert(name.to_string(), enabled);
        Ok(match was == Some(enabled) {
            true => StateChange::AlreadySo,
            false => StateChange::Changed,
        })
    }
}

impl Alerts for World {
    async fn publish(&self, topic: &str, p: &Publication) -> Result<String, AwsCallError> {
        self.enter("Publish", String::new()).await?;
        let mut state = self.state();
        state.alerts.push(p.clone());
        state.alert_topics.push(topic.to_string());
        Ok("message-id".into())
    }
}

impl Backlog for World {
    async fn depth(&self, queue_url: &str) -> Result<QueueDepth, AwsCallError> {
        self.enter("GetQueueAttributes", queue_url.to_string())
            .await?;
        let visible = self.state().dlq_visible;
        Ok(QueueDepth {
            visible,
            ..QueueDepth::default()
        })
    }
}
