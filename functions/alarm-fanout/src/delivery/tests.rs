//! Delivery through an in-memory SNS: its invariants without the emulator, in milliseconds.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use guardian::fanout::outgoing::Outgoing;
use guardian::publication::Publication;
use guardian_aws::deadline::{DEADLINE_REACHED, Deadline};
use guardian_aws::error::AwsCallError;
use guardian_aws::sns::RejectedEntry;

use super::*;

/// What the fake does with an entry on its `attempt`-th send (1 = first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Accept,
    /// The whole call fails (decided by the call's first entry).
    FailCall,
    /// Refused as the sender's fault: SNS would refuse it again.
    Refuse,
    /// Rejected as SNS's fault: may pass later.
    Reject,
    /// The call never answers.
    Hang,
}

type Script = Box<dyn Fn(usize, u32) -> Fate + Send + Sync>;

/// An in-memory SNS: records every call and every entry that went out.
struct FakeSns {
    script: Script,
    /// Per call: topic and entry ids (publication indices).
    calls: Mutex<Vec<(String, Vec<usize>)>>,
    /// How often each index was accepted.
    accepted: Mutex<BTreeMap<usize, u32>>,
    attempts: Mutex<BTreeMap<usize, u32>>,
}

impl FakeSns {
    fn new(script: impl Fn(usize, u32) -> Fate + Send + Sync + 'static) -> Self {
        FakeSns {
            script: Box::new(script),
            calls: Mutex::default(),
            accepted: Mutex::default(),
            attempts: Mutex::default(),
        }
    }

    fn calls(&self) -> Vec<(String, Vec<usize>)> {
        self.calls.lock().unwrap().clone()
    }

    fn accepted(&self) -> BTreeMap<usize, u32> {
        self.accepted.lock().unwrap().clone()
    }
}

impl Publisher for FakeSns {
    async fn publish_batch(
        &self,
        topic: &str,
        entries: &[(String, Publication)],
    ) -> Result<Vec<RejectedEntry>, AwsCallError> {
        let ids: Vec<usize> = entries.iter().map(|(id, _)| id.parse().unwrap()).collect();
        self.calls
            .lock()
            .unwrap()
            .push((topic.to_string(), ids.clone()));
        let fates: Vec<(usize, Fate)> = {
            let mut attempts = self.attempts.lock().unwrap();
            ids.iter()
                .map(|&i| {
                    let n = attempts.entry(i).or_default();
                    *n += 1;
                    (i, (self.script)(i, *n))
                })
                .collect()
        };
        match fates.first().map(|(_, f)| *f) {
            Some(Fate::Hang) => std::future::pending::<()>().await,
            Some(Fate::FailCall) => {
                return Err(AwsCallError {
                    operation: "PublishBatch",
                    code: Some("InternalError".into()),
                    message: "try again".into(),
                });
            }
            _ => {}
        }
        let mut rejected = Vec::new();
        for (i, fate) in fates {
            match fate {
                Fate::Refuse | Fate::Reject => rejected.push(RejectedEntry {
                    id: i.to_string(),
                    code: if fate == Fate::Refuse {
                        "InvalidParameter".into()
                    } else {
                        "InternalError".into()
                    },
                    message: "entry".into(),
                    sender_fault: fate == Fate::Refuse,
                }),
                _ => *self.accepted.lock().unwrap().entry(i).or_default() += 1,
            }
        }
        Ok(rejected)
    }
}

/// `n` small publications spread over `topics` topics, interleaved.
fn outgoing(n: usize, topics: usize) -> Vec<Outgoing> {
    (0..n)
        .map(|i| Outgoing {
            topic: format!("topic-{}", i % topics),
            publication: Publication {
                subject: Some(format!("alert {i}")),
                message: format!("body {i}"),
                ..Publication::default()
            },
            alert: i,
        })
        .collect()
}

fn quick(rounds: u32) -> RetryPolicy {
    RetryPolicy {
        rounds,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
        concurrency: 4,
        deadline_margin: Duration::from_millis(50),
    }
}

fn far() -> Deadline {
    Deadline::after(Duration::from_secs(30))
}

/// Conservation: every publication went out exactly once or is reported undelivered, never
/// both, and `published` counts exactly those that went out.
fn assert_conserved(fake: &FakeSns, out: &[Outgoing], report: &DeliveryReport) {
    let accepted = fake.accepted();
    for i in 0..out.len() {
        let sent = accepted.get(&i).copied().unwrap_or(0);
        let reported = report.undelivered.iter().filter(|u| u.index == i).count() as u32;
        assert_eq!(
            sent + reported,
            1,
            "publication {i}: sent {sent}, reported {reported}"
        );
    }
    assert_eq!(report.published, accepted.len());
    assert_eq!(report.batch_calls, fake.calls().len());
    for u in &report.undelivered {
        assert_eq!(u.topic, out[u.index].topic);
    }
    assert!(
        report
            .undelivered
            .windows(2)
            .all(|w| w[0].index < w[1].index)
    );
}

#[tokio::test]
async fn each_topic_gets_batches_of_at_most_ten() {
    let fake = FakeSns::new(|_, _| Fate::Accept);
    let out = outgoing(23, 3);

    let report = deliver(&fake, &out, &far(), &quick(5)).await;

    assert_conserved(&fake, &out, &report);
    assert!(report.undelivered.is_empty());
    let calls = fake.calls();
    // 8, 8 and 7 per topic: one call each.
    assert_eq!(calls.len(), 3, "{calls:?}");
    for (topic, ids) in &calls {
        assert!(ids.len() <= 10);
        assert!(ids.iter().all(|&i| &out[i].topic == topic), "{calls:?}");
    }
    let many = outgoing(25, 1);
    let fake = FakeSns::new(|_, _| Fate::Accept);
    let report = deliver(&fake, &many, &far(), &quick(5)).await;
    let sizes: Vec<usize> = fake.calls().iter().map(|(_, ids)| ids.len()).collect();
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(report.published, 25);
}

#[tokio::test]
async fn a_failed_call_is_retried_and_the_rest_is_not_sent_again() {
    // topic-0's first call fails; topic-1 goes through at once.
    let out = outgoing(6, 2);
    let fake = FakeSns::new(|i, attempt| {
        if i % 2 == 0 && attempt == 1 {
            Fate::FailCall
        } else {
            Fate::Accept
        }
    });

    let report = deliver(&fake, &out, &far(), &quick(5)).await;

    assert_conserved(&fake, &out, &report);
    assert!(report.undelivered.is_empty());
    let calls = fake.calls();
    assert_eq!(calls.len(), 3, "two in round one, topic-0 again: {calls:?}");
    assert_eq!(calls[2], ("topic-0".to_string(), vec![0, 2, 4]));
}

#[tokio::test]
async fn only_rejected_entries_are_retried() {
    let out = outgoing(10, 1);
    let fake = FakeSns::new(|i, attempt| {
        if (i == 3 || i == 7) && attempt == 1 {
            Fate::Reject
        } else {
            Fate::Accept
        }
    });

    let report = deliver(&fake, &out, &far(), &quick(5)).await;

    assert_conserved(&fake, &out, &report);
    assert_eq!(report.published, 10);
    assert_eq!(fake.calls()[1].1, [3, 7]);
}

#[tokio::test]
async fn an_entry_refused_as_malformed_is_reported_not_retried() {
    let out = outgoing(4, 1);
    let fake = FakeSns::new(|i, _| if i == 2 { Fate::Refuse } else { Fate::Accept });

    let report = deliver(&fake, &out, &far(), &quick(5)).await;

    assert_conserved(&fake, &out, &report);
    assert_eq!(fake.calls().len(), 1, "nothing resent");
    assert_eq!(report.undelivered.len(), 1);
    assert_eq!(report.undelivered[0].index, 2);
    assert_eq!(
        report.undelivered[0].error,
        "PublishBatch entry rejected: InvalidParameter: entry"
    );
}

#[tokio::test]
async fn a_publish_failing_every_round_is_reported_after_the_round_limit() {
    let out = outgoing(12, 1);
    let fake = FakeSns::new(|_, _| Fate::FailCall);

    let report = deliver(&fake, &out, &far(), &quick(3)).await;

    assert_conserved(&fake, &out, &report);
    // Two batches (10 + 2), three rounds each.
    assert_eq!(fake.calls().len(), 6);
    assert_eq!(report.undelivered.len(), 12);
    assert!(
        report.undelivered[0]
            .error
            .contains("PublishBatch failed: InternalError: try again"),
        "{:?}",
        report.undelivered[0]
    );
    let once = FakeSns::new(|_, _| Fate::FailCall);
    let report = deliver(&once, &out, &far(), &quick(0)).await;
    assert_eq!(once.calls().len(), 2, "zero rounds still tries once");
    assert_eq!(report.undelivered.len(), 12);
}

#[tokio::test]
async fn retries_stop_before_the_deadline() {
    let out = outgoing(3, 1);
    let fake = FakeSns::new(|_, _| Fate::FailCall);
    let policy = RetryPolicy {
        rounds: 1_000,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(10),
        ..quick(0)
    };
    let started = Instant::now();

    let report = deliver(
        &fake,
        &out,
        &Deadline::after(Duration::from_millis(150)),
        &policy,
    )
    .await;

    assert_conserved(&fake, &out, &report);
    assert_eq!(report.undelivered.len(), 3);
    assert!(fake.calls().len() < 20, "{} calls", fake.calls().len());
    assert!(started.elapsed() < Duration::from_millis(150));
}

#[tokio::test]
async fn a_call_that_never_answers_is_cut_off_by_the_deadline_and_reported() {
    let out = outgoing(2, 1);
    let fake = FakeSns::new(|_, _| Fate::Hang);
    let started = Instant::now();

    let report = deliver(
        &fake,
        &out,
        &Deadline::after(Duration::from_millis(100)),
        &quick(5),
    )
    .await;

    assert!(started.elapsed() < Duration::from_millis(100));
    assert_eq!(report.published, 0);
    assert_eq!(report.undelivered.len(), 2);
    let error = &report.undelivered[0].error;
    assert!(
        error.contains("PublishBatch failed") && error.contains(DEADLINE_REACHED),
        "{error}"
    );
}

/// Conservation under many fault schedules: calls failing, entries rejected or refused, in
/// any mix, over up to 4 topics and 5 rounds. On a paused clock, so the backoff pauses cost
/// nothing.
#[tokio::test(start_paused = true)]
async fn nothing_is_lost_or_sent_twice_under_any_fault_schedule() {
    for seed in 0..300u64 {
        let n = 1 + (mix(seed, 0, 0) % 40) as usize;
        let topics = 1 + (mix(seed, 1, 0) % 4) as usize;
        let rounds = 1 + (mix(seed, 2, 0) % 5) as u32;
        let out = outgoing(n, topics);
        let fake = FakeSns::new(move |i, attempt| match mix(seed, i as u64, attempt) % 10 {
            0 | 1 => Fate::FailCall,
            2 => Fate::Refuse,
            3 | 4 => Fate::Reject,
            _ => Fate::Accept,
        });

        let report = deliver(&fake, &out, &far(), &quick(rounds)).await;

        assert_conserved(&fake, &out, &report);
        let attempts = fake.attempts.lock().unwrap().clone();
        assert!(
            attempts.values().all(|&a| a <= rounds),
            "seed {seed}: an entry sent more than {rounds} times"
        );
        assert!(fake.calls().iter().all(|(_, ids)| ids.len() <= 10));
    }
}

/// A small deterministic hash (splitmix64) for fault schedules.
fn mix(seed: u64, a: u64, b: u32) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(a.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(u64::from(b).wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
