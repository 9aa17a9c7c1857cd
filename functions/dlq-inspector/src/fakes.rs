//! An in-memory dead-letter queue, redrive target and topic behind the inspector's ports,
//! for the unit tests of the pass: messages are numbered, every call is logged with when it
//! ran, and faults (refused entries, failed or hanging calls, latency) are set per test.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use guardian::config::Env;
use guardian::dlq::message::now_ms;
use guardian::dlq::report::Report;
use guardian::dlq::request::{self, Request};
use guardian::publication::Publication;
use guardian_aws::deadline::Deadline;
use guardian_aws::error::AwsCallError;
use serde_json::Value;

use crate::config::Config;
use crate::error::DlqError;
use crate::handler::handle;
use crate::observe::Observed;
use crate::pass;
use services::refused;

const DLQ_URL: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/trading-dlq";

/// A message in the fake DLQ, known by its number (`{"seq": n}` is its body).
#[derive(Debug, Clone)]
pub struct Stored {
    pub error_code: &'static str,
    pub sent_ms: u64,
    /// The receipt handle of its current receive; `None` while visible.
    pub receipt: Option<String>,
}

/// One call that answered, and when.
#[derive(Debug, Clone)]
pub struct Call {
    pub operation: &'static str,
    pub ended: Instant,
}

#[derive(Debug, Default)]
pub struct State {
    pub dlq: BTreeMap<u64, Stored>,
    /// Messages re-invoked, and sent to the source queue, in order.
    pub invoked: Vec<u64>,
    pub sent: Vec<u64>,
    pub published: Vec<Publication>,
    pub concurrency: Option<i32>,
    pub calls: Vec<Call>,
    /// Calls begun: more than `calls` when one was cut off before it answered.
    pub begun: usize,
    receipts: u64,
    receives: usize,
    deletes: usize,
    /// How long every call takes.
    pub latency: Duration,
    /// Messages whose invoke, source-queue send or delete fails.
    pub failing_invokes: BTreeSet<u64>,
    pub failing_sends: BTreeSet<u64>,
    pub failing_deletes: BTreeSet<u64>,
    /// Which `DeleteMessageBatch` calls (counting from 1) fail whole.
    pub failing_delete_calls: BTreeSet<usize>,
    /// Operations that always fail, and that never answer.
    pub failing: BTreeSet<&'static str>,
    pub hanging: BTreeSet<&'static str>,
    /// Which `ReceiveMessage` call (counting from 1) never answers.
    pub hanging_receive: Option<usize>,
    /// Messages whose invoke never answers.
    pub hanging_invokes: BTreeSet<u64>,
}

impl State {
    /// Messages in the DLQ, visible or not.
    pub fn in_dlq(&self) -> BTreeSet<u64> {
        self.dlq.keys().copied().collect()
    }

    pub fn visible(&self) -> usize {
        self.dlq.values().filter(|m| m.receipt.is_none()).count()
    }

    pub fn count(&self, operation: &str) -> usize {
        self.calls
            .iter()
            .filter(|c| c.operation == operation)
            .count()
    }
}

pub struct World {
    config: Config,
    state: Mutex<State>,
}

impl World {
    /// `messages` failed events (ErrorCode `200`, a minute old) and the inspector configured
    /// with a source queue and `extra` variables.
    pub fn new(messages: u64, extra: &[(&str, &str)]) -> World {
        let mut vars = vec![
            ("DLQ_URL", DLQ_URL),
            ("GUARDED_FUNCTIONS", "trading-bot"),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:alerts",
            ),
            (
                "SOURCE_QUEUE_URL",
                "https://sqs.us-east-1.amazonaws.com/123456789012/source",
            ),
        ];
        vars.extend_from_slice(extra);
        let config = Config::from_env(&Env::from_pairs(vars)).unwrap_or_else(|e| panic!("{e}"));
        let w = World {
            config,
            state: Mutex::new(State::default()),
        };
        w.add(0..messages, "200", Duration::from_secs(60));
        w
    }

    /// Adds messages `seqs` with `error_code`, which entered the DLQ `age` ago.
    pub fn add(&self, seqs: std::ops::Range<u64>, error_code: &'static str, age: Duration) {
        let sent_ms = now_ms() - age.as_millis() as u64;
        let stored = Stored {
            error_code,
            sent_ms,
            receipt: None,
        };
        self.state().dlq.extend(seqs.map(|n| (n, stored.clone())));
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One pass for `payload`, `budget` before the deadline.
    pub async fn pass(&self, payload: Value, budget: Duration) -> Report {
        let request: Request = request::parse(&payload, self.config.max_messages_limit)
            .unwrap_or_else(|e| panic!("{e}"));
        pass::run(self, &request, Deadline::after(budget))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// One whole invocation with `payload`, a minute before the deadline.
    pub async fn invoke(&self, payload: Value) -> Result<Value, DlqError> {
        self.invoke_within(payload, Duration::from_secs(60)).await
    }

    pub async fn invoke_within(&self, payload: Value, budget: Duration) -> Result<Value, DlqError> {
        let deadline = Deadline::after(budget);
        handle(self, &payload, deadline, &mut Observed::default()).await
    }

    /// Waits the latency, then runs `work` on the state and logs the call.
    async fn call<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&mut State) -> Result<T, AwsCallError>,
    ) -> Result<T, AwsCallError> {
        let (latency, hangs) = {
            let mut state = self.state();
            state.begun += 1;
            (state.latency, state.hanging.contains(operation))
        };
        if hangs {
            std::future::pending::<()>().await;
        }
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut state = self.state();
        let ended = Instant::now();
        state.calls.push(Call { operation, ended });
        match state.failing.contains(operation) {
            true => Err(refused(operation)),
            false => work(&mut state),
        }
    }
}

mod services;
