//! The verdict flow through in-memory ports: whatever the verdict work does (here: panics, or
//! never finishes), CodeDeploy gets exactly one report, Failed, and the verdict is published
//! saying why.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use guardian::config::Env;
use guardian::publication::Publication;
use guardian_aws::codedeploy::HookStatus;
use guardian_aws::error::AwsCallError;

use super::*;
use crate::config::Config;
use crate::ports::HookStatuses;

const EXECUTION: &str = "hook-execution-1";

/// CodeDeploy and the alert topic in memory: every report and every publication kept.
struct Fake {
    config: Config,
    recorded: Mutex<Vec<(String, String, HookStatus)>>,
    published: Mutex<Vec<Publication>>,
}

impl Fake {
    /// A hook configured with `REPORT_MARGIN_MS` = `margin_ms`.
    fn new(margin_ms: &str) -> Fake {
        let env = Env::from_pairs([
            ("GUARDED_FUNCTIONS", "trading-bot"),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:hook-alerts",
            ),
            ("REPORT_MARGIN_MS", margin_ms),
        ]);
        Fake {
            config: Config::from_env(&env).unwrap(),
            recorded: Mutex::default(),
            published: Mutex::default(),
        }
    }

    fn recorded(&self) -> MutexGuard<'_, Vec<(String, String, HookStatus)>> {
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The one verdict published: its message.
    fn alert(&self) -> String {
        let published = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        assert_eq!(published.len(), 1, "exactly one verdict published");
        published[0].message.clone()
    }
}

impl Ports for Fake {
    type CodeDeploy = Fake;
    type Sns = Fake;
    fn config(&self) -> &Config {
        &self.config
    }
    fn codedeploy(&self) -> &Fake {
        self
    }
    fn sns(&self) -> &Fake {
        self
    }
}

/// As CodeDeploy: the first status of an execution is recorded, a later one refused.
impl HookStatuses for Fake {
    async fn report_hook_status(
        &self,
        deployment: &str,
        execution: &str,
        status: HookStatus,
    ) -> Result<Reported, AwsCallError> {
        let mut recorded = self.recorded();
        if recorded.iter().any(|(_, e, _)| e == execution) {
            return Ok(Reported::AlreadyCompleted);
        }
        recorded.push((deployment.into(), execution.into(), status));
        Ok(Reported::Recorded)
    }
}

impl Alerts for Fake {
    async fn publish(&self, _: &str, p: &Publication) -> Result<String, AwsCallError> {
        let mut published = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        published.push(p.clone());
        Ok(format!("message-{}", published.len()))
    }
}

fn ids() -> HookEvent {
    HookEvent {
        deployment_id: "d-TEST12345".into(),
        execution_id: EXECUTION.into(),
    }
}

fn invocation() -> Invocation<'static> {
    Invocation {
        request_id: Some("req-test"),
        started: Instant::now(),
    }
}

#[tokio::test]
async fn a_panic_while_deciding_reports_failed() {
    let fake = Fake::new("1000");
    let decision = async { panic!("index out of bounds in the decision") };

    let out = conclude(
        &fake,
        &ids(),
        invocation(),
        Deadline::after(Duration::from_secs(30)),
        decision,
    )
    .await
    .unwrap();

    assert_eq!(
        *fake.recorded(),
        [("d-TEST12345".into(), EXECUTION.into(), HookStatus::Failed)]
    );
    assert!(
        fake.alert()
            .contains("the hook panicked (index out of bounds in the decision)"),
        "{}",
        fake.alert()
    );
    assert_eq!(out["status"], "Failed");
}

#[tokio::test]
async fn checks_that_never_finish_are_cut_off_and_reported_failed() {
    let fake = Fake::new("1000");
    let stuck = futures::future::pending();
    let started = Instant::now();

    let out = conclude(
        &fake,
        &ids(),
        invocation(),
        Deadline::after(Duration::from_millis(1500)),
        stuck,
    )
    .await
    .unwrap();

    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "answered in time"
    );
    assert_eq!(
        *fake.recorded(),
        [("d-TEST12345".into(), EXECUTION.into(), HookStatus::Failed)]
    );
    assert!(fake.alert().contains("out of time"), "{}", fake.alert());
    assert_eq!(out["report"], "recorded");
    assert_eq!(out["published"], true);
}

#[test]
fn panic_messages_are_kept() {
    let caught = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
    assert_eq!(panic_text(&*caught), "boom 7");
    let opaque = std::panic::catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
    assert_eq!(panic_text(&*opaque), "no message");
}
