//! DLQ inspector against the emulator (issue #5): inspect consumes nothing, redrive loses
//! nothing (faults, deadline), filters/max_age/dry_run move exactly what they should, and
//! the API calls per 10 messages stay within budget.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use e2e::handlers::{BOT as FUNCTION, DLQ, DlqWorld};
use e2e::{drain, notifications, reserve_concurrency, visible_messages};
use guardian_aws::error::ErrorType;
use serde_json::{Value, json};

/// The world, its DLQ holding `n` runs that timed out (`seq` 0..n), the inspector configured
/// with `extra` variables.
async fn timed_out(n: u64, extra: &[(&str, &str)]) -> DlqWorld {
    let f = DlqWorld::new(extra).await;
    f.fill_timed_out(n).await;
    f
}

/// A redrive with `options`, given 15 minutes: its report.
async fn redrive(f: &DlqWorld, mut options: Value) -> Value {
    options["action"] = json!("redrive");
    f.call(options, Duration::from_secs(900)).await.unwrap()
}

/// `seq` of every event the function was invoked with asynchronously (with repeats).
async fn invoked_seqs(f: &DlqWorld) -> Vec<u64> {
    f.invoked()
        .await
        .iter()
        .map(|event| event["seq"].as_u64().unwrap())
        .collect()
}

fn seqs_of(bodies: &[String]) -> Vec<u64> {
    bodies
        .iter()
        .map(|b| {
            serde_json::from_str::<Value>(b).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

/// Conservation: each of the `n` messages is at the target or still in the DLQ.
fn every_message_is_somewhere(target: &BTreeSet<u64>, in_dlq: &BTreeSet<u64>, n: u64) {
    let everywhere: BTreeSet<u64> = target.union(in_dlq).copied().collect();
    assert_eq!(everywhere, (0..n).collect(), "every message is somewhere");
}

/// Nothing reached the function and all `n` messages are still visible in the DLQ.
async fn nothing_moved(f: &DlqWorld, n: i64, why: &str) {
    assert!(invoked_seqs(f).await.is_empty(), "{why}");
    assert_eq!(visible_messages(&f.cfg, &f.dlq).await, n);
}

fn unique(seqs: &[u64]) -> BTreeSet<u64> {
    let set: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(
        set.len(),
        seqs.len(),
        "a message reached the same place twice"
    );
    set
}

/// Calls made between two `call_counts()` snapshots, printed per operation and per 10
/// messages; returns the calls to the SQS batch/receive APIs per 10 messages.
fn print_calls_per_10(
    label: &str,
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
    messages: u64,
    per_message_ops: &[&str],
) -> f64 {
    let mut made: BTreeMap<&str, u64> = BTreeMap::new();
    for (op, n) in after {
        let d = n - before.get(op).copied().unwrap_or(0);
        if d > 0 {
            made.insert(op, d);
        }
    }
    let per_batch: u64 = per_message_ops
        .iter()
        .map(|op| made.get(op).copied().unwrap_or(0))
        .sum();
    let total: u64 = made.values().sum();
    let per_10 = per_batch as f64 * 10.0 / messages as f64;
    println!(
        "[{label}] {messages} messages: {made:?}; {} per 10 messages = {per_10:.2}; all calls per 10 = {:.2}",
        per_message_ops.join("+"),
        total as f64 * 10.0 / messages as f64
    );
    per_10
}

fn outcome(report: &Value, field: &str) -> u64 {
    report["outcome"][field].as_u64().unwrap()
}

fn group_counts(report: &Value) -> BTreeMap<(String, String), u64> {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                (
                    g["key"].as_str().unwrap().to_string(),
                    g["error_message"].as_str().unwrap_or("").to_string(),
                ),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn inspect_of_1000_messages_consumes_nothing_and_groups_them() {
    let f = DlqWorld::new(&[]).await;
    f.fill(1000, |seq| match seq % 10 {
        0..=5 => (
            json!({"symbol": "EURUSD", "password": "hunter2"}),
            Some("200"),
            "Task timed out after 30.00 seconds",
        ),
        6..=8 => (
            json!({"symbol": "GBPUSD", "password": "hunter2"}),
            Some("200"),
            "Broker unavailable",
        ),
        _ => (
            json!({"symbol": "USDJPY", "password": "hunter2"}),
            Some("429"),
            "Rate exceeded",
        ),
    })
    .await;
    let scheduled: Value =
        serde_json::from_str(include_str!("../../events/dlq-scheduled.json")).unwrap();

    let before = f.calls().await;
    let report = f.call(scheduled, Duration::from_secs(900)).await.unwrap();
    let after = f.calls().await;

    assert_eq!(
        visible_messages(&f.cfg, &f.dlq).await,
        1000,
        "inspect must leave every message visible"
    );
    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(report["examined"], 1000);
    assert_eq!(report["released"], 1000);
    assert_eq!(report["depth"]["visible"], 1000);
    assert_eq!(
        group_counts(&report),
        BTreeMap::from([
            (
                ("200".into(), "Task timed out after 30.00 seconds".into()),
                600
            ),
            (("200".into(), "Broker unavailable".into()), 300),
            (("429".into(), "Rate exceeded".into()), 100),
        ])
    );
    assert_eq!(report["receive_counts"], json!({"1": 1000}));
    assert_eq!(report["samples"].as_array().unwrap().len(), 3);

    let alerts = notifications(&f.cfg, &f.inbox).await;
    assert_eq!(alerts.len(), 1, "one report published");
    let subject = alerts[0]["Subject"].as_str().unwrap();
    assert!(
        subject.starts_with("DLQ trading-bot-dlq: 1000 messages"),
        "{subject}"
    );
    let body = alerts[0]["Message"].as_str().unwrap();
    assert!(
        body.contains("600 x ErrorCode 200: Task timed out"),
        "{body}"
    );
    assert!(
        !body.contains("hunter2") && body.contains("[redacted]"),
        "secrets must be redacted"
    );

    let per_10 = print_calls_per_10(
        "inspect",
        &before,
        &after,
        1000,
        &["ReceiveMessage", "ChangeMessageVisibilityBatch"],
    );
    assert!(
        per_10 <= 2.0,
        "inspect made {per_10} receive/visibility calls per 10 messages"
    );
    // Nothing consumed, nothing sent.
    for op in [
        "DeleteMessage",
        "DeleteMessageBatch",
        "SendMessageBatch",
        "Invoke",
    ] {
        assert_eq!(after.get(op), before.get(op), "{op} called by inspect");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redrive_to_the_function_with_faults_loses_nothing_and_counts_duplicates() {
    let f = timed_out(1000, &[]).await;
    let control = &f.acct.control;
    // Not retryable: each fault fails one re-send for good.
    control
        .inject_fault("Invoke", 5, 400, "InvalidRequestContentException")
        .await;
    // One whole delete batch fails after its messages were re-sent: duplicates.
    control
        .inject_fault("DeleteMessageBatch", 1, 403, "AccessDenied")
        .await;

    let report = redrive(&f, json!({})).await;

    let at_target = invoked_seqs(&f).await;
    let target = unique(&at_target);
    let in_dlq = unique(&seqs_of(&drain(&f.cfg, &f.dlq).await));
    every_message_is_somewhere(&target, &in_dlq, 1000);
    let both: BTreeSet<u64> = target.intersection(&in_dlq).copied().collect();

    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(outcome(&report, "resend_failed"), 5);
    let duplicates = outcome(&report, "duplicates");
    assert!(
        duplicates > 0 && duplicates <= 10,
        "one delete batch failed: {duplicates}"
    );
    assert_eq!(
        both.len() as u64,
        duplicates,
        "duplicates are exactly the failed deletes"
    );
    assert_eq!(
        report["outcome"]["duplicate_message_ids"]
            .as_array()
            .unwrap()
            .len() as u64,
        duplicates
    );
    assert_eq!(in_dlq.len() as u64, 5 + duplicates);
    assert_eq!(target.len() as u64, 1000 - 5);
    assert_eq!(outcome(&report, "redriven"), 1000 - 5 - duplicates);
}

#[tokio::test(flavor = "multi_thread")]
async fn redrive_to_a_queue_with_faults_loses_nothing() {
    let f = timed_out(1000, &[]).await;
    let control = &f.acct.control;
    control
        .inject_fault(
            "SendMessageBatch",
            1,
            400,
            "AWS.SimpleQueueService.BatchRequestTooLong",
        )
        .await;
    control
        .inject_fault("DeleteMessageBatch", 1, 403, "AccessDenied")
        .await;

    let report = redrive(&f, json!({"to": "queue"})).await;

    let target = unique(&seqs_of(&drain(&f.cfg, &f.source).await));
    let in_dlq = unique(&seqs_of(&drain(&f.cfg, &f.dlq).await));
    every_message_is_somewhere(&target, &in_dlq, 1000);
    let both = target.intersection(&in_dlq).count() as u64;
    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(
        outcome(&report, "resend_failed"),
        10,
        "one send batch failed"
    );
    assert_eq!(
        outcome(&report, "duplicates"),
        10,
        "one delete batch failed"
    );
    assert_eq!(both, 10);
    assert_eq!(in_dlq.len(), 20);
    assert_eq!(outcome(&report, "redriven"), 980);
    assert!(
        invoked_seqs(&f).await.is_empty(),
        "to=queue never invokes the function"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redrive_to_a_queue_makes_at_most_3_calls_per_10_messages() {
    let f = timed_out(500, &[]).await;
    let before = f.calls().await;
    let report = redrive(&f, json!({"to": "queue"})).await;
    let after = f.calls().await;
    assert_eq!(outcome(&report, "redriven"), 500);
    assert_eq!(drain(&f.cfg, &f.source).await.len(), 500);
    assert_eq!(visible_messages(&f.cfg, &f.dlq).await, 0);
    let per_10 = print_calls_per_10(
        "redrive to SQS",
        &before,
        &after,
        500,
        &[
            "ReceiveMessage",
            "SendMessageBatch",
            "DeleteMessageBatch",
            "ChangeMessageVisibilityBatch",
        ],
    );
    assert!(
        per_10 <= 3.0,
        "redrive made {per_10} SQS calls per 10 messages"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redrive_cut_off_by_the_deadline_stops_cleanly_and_loses_nothing() {
    let f = timed_out(1000, &[("DEADLINE_MARGIN_MS", "1000")]).await;

    // 1000 messages at 200/s need 5 s; the invocation has 3 s.
    let report = f
        .call(
            json!({"action": "redrive", "rate_per_second": 200}),
            Duration::from_secs(3),
        )
        .await
        .unwrap();

    assert_eq!(report["complete"], false, "{report}");
    let reason = report["stopped_early"].as_str().unwrap();
    assert!(reason.contains("deadline"), "{reason}");
    let redriven = outcome(&report, "redriven");
    assert!(
        redriven < 1000,
        "the run was cut off, yet redrove {redriven}"
    );
    assert_eq!(outcome(&report, "duplicates"), 0);

    let target = unique(&invoked_seqs(&f).await);
    let in_dlq = unique(&seqs_of(&drain(&f.cfg, &f.dlq).await));
    assert!(
        target.is_disjoint(&in_dlq),
        "no duplicates without a failed delete"
    );
    every_message_is_somewhere(&target, &in_dlq, 1000);
    assert_eq!(target.len() as u64, redriven);
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_max_age_and_dry_run_move_exactly_what_they_should() {
    let f = DlqWorld::new(&[]).await;
    // seq 0..10: ErrorCode 200 EURUSD; 10..20: 200 GBPUSD; 20..30: 429 EURUSD.
    f.fill(30, |seq| match seq / 10 {
        0 => (json!({"symbol": "EURUSD"}), Some("200"), "Task timed out"),
        1 => (json!({"symbol": "GBPUSD"}), Some("200"), "Task timed out"),
        _ => (json!({"symbol": "EURUSD"}), Some("429"), "Rate exceeded"),
    })
    .await;

    // dry run: reports what it would move, moves nothing.
    let dry: Value =
        serde_json::from_str(include_str!("../../events/dlq-redrive-dry-run.json")).unwrap();
    let report = f.call(dry, Duration::from_secs(60)).await.unwrap();
    assert_eq!(outcome(&report, "dry_run_selected"), 20, "{report}");
    assert_eq!(outcome(&report, "not_selected"), 10);
    nothing_moved(&f, 30, "dry run invoked the function").await;

    // max_age 0: every selected message is stale, skipped and kept.
    let report = f
        .call(
            json!({"action": "redrive", "error_code": "200", "max_age_seconds": 0}),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(
        (outcome(&report, "stale"), outcome(&report, "not_selected")),
        (20, 10)
    );
    nothing_moved(&f, 30, "stale messages were replayed").await;

    // Both filters together, fresh enough: exactly seq 0..10.
    let report = f
        .call(
            json!({"action": "redrive", "error_code": "200", "body_pointer": "/symbol",
                   "body_equals": "EURUSD", "max_age_seconds": 3600}),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(outcome(&report, "redriven"), 10);
    assert_eq!(unique(&invoked_seqs(&f).await), (0..10).collect());

    // Purge of the 429s, confirmed: exactly seq 20..30 gone, 10..20 kept.
    let report = f
        .call(
            json!({"action": "purge", "error_code": "429", "confirm": DLQ}),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(outcome(&report, "purged"), 10);
    let left = unique(&seqs_of(&drain(&f.cfg, &f.dlq).await));
    assert_eq!(left, (10..20).collect());
    assert_eq!(invoked_seqs(&f).await.len(), 10, "purge never invokes");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_refused_before_any_aws_call() {
    let f = DlqWorld::new(&[]).await;
    f.fill(5, |_| (json!({}), Some("200"), "boom")).await;
    let before = f.calls().await;
    for (payload, error_type, mentions) in [
        (json!({"action": "replay"}), "Dlq.UnknownAction", "replay"),
        (
            json!({"action": "redrive", "max_mesages": 5}),
            "Dlq.BadRequest",
            "`max_mesages`",
        ),
        (
            json!({"action": "redrive", "max_messages": "5"}),
            "Dlq.BadRequest",
            "`max_messages`",
        ),
        (
            json!({"action": "redrive", "dry_run": "no"}),
            "Dlq.BadRequest",
            "`dry_run`",
        ),
        (json!({"action": "purge"}), "Dlq.PurgeNotConfirmed", DLQ),
        (
            json!({"action": "purge", "confirm": "trading-bot"}),
            "Dlq.PurgeNotConfirmed",
            DLQ,
        ),
    ] {
        let err = f
            .call(payload.clone(), Duration::from_secs(30))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), error_type, "{payload}: {err}");
        assert!(err.to_string().contains(mentions), "{payload}: {err}");
    }
    assert_eq!(f.calls().await, before, "a refused request made AWS calls");
    assert_eq!(visible_messages(&f.cfg, &f.dlq).await, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_queue_publishes_nothing() {
    let f = DlqWorld::new(&[]).await;
    let report = f.call(json!({}), Duration::from_secs(30)).await.unwrap();
    assert_eq!(report["examined"], 0);
    assert!(notifications(&f.cfg, &f.inbox).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn redrive_refused_while_stopped_nothing_consumed() {
    let f = timed_out(25, &[]).await;
    // The kill switch's stop: reserved concurrency 0.
    reserve_concurrency(&f.cfg, FUNCTION, 0).await;
    let before = f.calls().await;

    let err = f
        .call(json!({"action": "redrive"}), Duration::from_secs(60))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "Dlq.TargetStopped", "{err}");
    let text = err.to_string();
    assert!(
        text.contains(FUNCTION) && text.contains("nothing was moved"),
        "{text}"
    );
    let after = f.calls().await;
    let made = |now: &BTreeMap<String, u64>, op: &str| {
        now.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0)
    };
    for op in ["ReceiveMessage", "DeleteMessageBatch", "Invoke"] {
        assert_eq!(made(&after, op), 0, "{op} made while refusing: {after:?}");
    }
    assert_eq!(
        made(&after, "GetFunctionConcurrency"),
        1,
        "the one read it needs"
    );
    assert!(invoked_seqs(&f).await.is_empty());
    assert_eq!(visible_messages(&f.cfg, &f.dlq).await, 25);

    // A dry run reads but moves nothing: still allowed while stopped.
    let report = f
        .call(
            json!({"action": "redrive", "dry_run": true}),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(outcome(&report, "dry_run_selected"), 25, "{report}");
    let after_dry_run = f.calls().await;
    assert_eq!(made(&after_dry_run, "Invoke"), 0);
    assert_eq!(made(&after_dry_run, "DeleteMessageBatch"), 0);
    assert!(
        invoked_seqs(&f).await.is_empty(),
        "dry run invoked the function"
    );
    assert_eq!(
        unique(&seqs_of(&drain(&f.cfg, &f.dlq).await)),
        (0..25).collect(),
        "every message is still in the DLQ"
    );
}
