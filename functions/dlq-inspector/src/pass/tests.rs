//! The pass against the in-memory DLQ: every message received ends in exactly one place,
//! two failed batches in a row stop it, the time reserve keeps every batch inside the
//! deadline margin, stale messages are never replayed, a dry run moves nothing.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use guardian::dlq::report::Report;
use guardian::dlq::request::Action;
use guardian_aws::deadline::DEADLINE_REACHED;
use serde_json::json;

use crate::fakes::World;

const MINUTE: Duration = Duration::from_secs(60);

/// Every message received ends in exactly one place, and the report counts it once.
fn assert_conserved(w: &World, report: &Report, total: u64) {
    let s = w.state();
    let in_dlq = s.in_dlq();
    let delivered: Vec<u64> = s.invoked.iter().chain(&s.sent).copied().collect();
    let resent: BTreeSet<u64> = delivered.iter().copied().collect();
    assert_eq!(
        resent.len(),
        delivered.len(),
        "re-sent twice: {delivered:?}"
    );
    let o = report.outcome.clone().unwrap_or_default();
    if report.action != Action::Inspect {
        let counts = [
            o.not_selected,
            o.stale,
            o.dry_run_selected,
            o.redriven,
            o.purged,
            o.resend_failed,
            o.delete_failed,
            o.duplicates,
            o.not_attempted,
        ];
        assert_eq!(counts.iter().sum::<u64>(), report.examined, "{o:?}");
    }
    // Deleted from the DLQ only after its re-send got through, or by a purge.
    let deleted: BTreeSet<u64> = (0..total).filter(|n| !in_dlq.contains(n)).collect();
    assert_eq!(deleted.len() as u64, o.redriven + o.purged, "{o:?}");
    if report.action == Action::Redrive {
        assert!(deleted.is_subset(&resent), "deleted without a re-send");
    }
    // Re-sent and still in the DLQ: exactly the duplicates the report names.
    let twice: BTreeSet<String> = resent
        .intersection(&in_dlq)
        .map(|n| format!("m-{n}"))
        .collect();
    let named: BTreeSet<String> = o.duplicate_message_ids.iter().cloned().collect();
    assert_eq!((o.duplicates as usize, &named), (twice.len(), &twice));
    // Everything examined and not deleted was held, then made visible again.
    let held = report.examined - o.redriven - o.purged;
    assert_eq!(report.released + report.release_failed, held);
    assert_eq!(
        s.visible() as u64,
        in_dlq.len() as u64 - report.release_failed
    );
}

fn redrive() -> serde_json::Value {
    json!({"action": "redrive"})
}

#[tokio::test]
async fn inspect_consumes_nothing_and_releases_everything() {
    let w = World::new(25, &[]);
    let r = w.pass(json!({}), MINUTE).await;
    assert_eq!((r.examined, r.released, r.complete), (25, 25, true));
    assert!(r.outcome.is_none());
    assert_conserved(&w, &r, 25);
    let s = w.state();
    assert_eq!((s.count("Invoke"), s.count("DeleteMessageBatch")), (0, 0));
}

#[tokio::test]
async fn a_redrive_under_faults_puts_every_message_in_exactly_one_place() {
    let w = World::new(45, &[]);
    {
        let mut s = w.state();
        s.failing_invokes = [3, 17, 30].into();
        s.failing_deletes = [5, 22].into();
        // The third batch (20..30) is re-sent whole, then its delete fails whole.
        s.failing_delete_calls = [3].into();
    }
    let r = w.pass(redrive(), MINUTE).await;
    assert!(r.complete, "{:?}", r.stopped_early);
    let o = r.outcome.clone().unwrap();
    assert_eq!(
        (o.resend_failed, o.duplicates, o.redriven),
        (3, 11, 31),
        "{o:?}"
    );
    assert_conserved(&w, &r, 45);
}

#[tokio::test]
async fn a_redrive_to_the_queue_checks_every_entry() {
    let w = World::new(23, &[]);
    {
        let mut s = w.state();
        s.failing_sends = [1, 12].into();
        s.failing_deletes = [2].into();
    }
    let r = w
        .pass(json!({"action": "redrive", "to": "queue"}), MINUTE)
        .await;
    let o = r.outcome.clone().unwrap();
    assert_eq!(
        (o.resend_failed, o.duplicates, o.redriven),
        (2, 1, 20),
        "{o:?}"
    );
    assert_eq!(
        r.destination.as_deref(),
        Some("queue:https://sqs.us-east-1.amazonaws.com/123456789012/source")
    );
    assert_conserved(&w, &r, 23);
    let s = w.state();
    assert_eq!((s.count("SendMessageBatch"), s.count("Invoke")), (3, 0));
}

#[tokio::test]
async fn two_failed_batches_in_a_row_stop_the_pass() {
    let w = World::new(50, &[]);
    w.state().failing_invokes = (0..50).collect();
    let r = w.pass(redrive(), MINUTE).await;
    let reason = r.stopped_early.clone().unwrap_or_default();
    assert!(
        reason.contains("two batches in a row") && reason.contains("TooManyRequestsException"),
        "{reason}"
    );
    assert_eq!((r.examined, w.state().count("Invoke")), (20, 20));
    assert_conserved(&w, &r, 50);
    assert_eq!(w.state().visible(), 50);
}

#[tokio::test]
async fn one_batch_getting_through_resets_the_count() {
    let w = World::new(60, &[]);
    w.state().failing_invokes = (0..10).chain(20..30).chain(40..50).collect();
    let r = w.pass(redrive(), MINUTE).await;
    assert!(r.complete, "{:?}", r.stopped_early);
    let o = r.outcome.clone().unwrap();
    assert_eq!((o.resend_failed, o.redriven), (30, 30));
    assert_conserved(&w, &r, 60);
}

#[tokio::test]
async fn a_purge_deletes_what_is_selected_and_keeps_what_it_could_not_delete() {
    let w = World::new(10, &[]);
    w.add(10..20, "Unhandled", MINUTE);
    w.state().failing_deletes = [12].into();
    let payload = json!({"action": "purge", "confirm": "trading-dlq", "error_code": "Unhandled"});
    let r = w.pass(payload, MINUTE).await;
    let o = r.outcome.clone().unwrap();
    assert_eq!(
        (o.not_selected, o.purged, o.delete_failed),
        (10, 9, 1),
        "{o:?}"
    );
    assert_conserved(&w, &r, 20);
    let kept: BTreeSet<u64> = (0..10).chain([12]).collect();
    assert_eq!(w.state().in_dlq(), kept);
    assert_eq!(w.state().count("Invoke"), 0);
}

#[tokio::test]
async fn stale_messages_are_skipped_and_never_replayed() {
    let w = World::new(10, &[]);
    w.add(10..25, "200", Duration::from_secs(3600));
    let r = w
        .pass(json!({"action": "redrive", "max_age_seconds": 600}), MINUTE)
        .await;
    let o = r.outcome.clone().unwrap();
    assert_eq!((o.stale, o.redriven), (15, 10), "{o:?}");
    assert_conserved(&w, &r, 25);
    let s = w.state();
    assert_eq!(
        s.invoked.iter().copied().collect::<BTreeSet<_>>(),
        (0..10).collect()
    );
    assert_eq!(s.in_dlq(), (10..25).collect());
}

#[tokio::test]
async fn a_dry_run_moves_nothing() {
    for payload in [
        json!({"action": "redrive", "dry_run": true}),
        json!({"action": "purge", "confirm": "trading-dlq", "dry_run": true}),
    ] {
        let w = World::new(15, &[]);
        let r = w.pass(payload.clone(), MINUTE).await;
        assert_eq!(r.outcome.clone().unwrap().dry_run_selected, 15, "{payload}");
        assert_conserved(&w, &r, 15);
        let s = w.state();
        let moved = ["Invoke", "SendMessageBatch", "DeleteMessageBatch"].map(|op| s.count(op));
        assert_eq!((moved, s.visible()), ([0, 0, 0], 15), "{payload}");
    }
}

#[tokio::test]
async fn the_time_reserve_starts_no_batch_that_cannot_finish_before_the_margin() {
    let (budget, margin) = (Duration::from_millis(500), Duration::from_millis(100));
    let w = World::new(200, &[("DEADLINE_MARGIN_MS", "100")]);
    w.state().latency = Duration::from_millis(20);
    let started = Instant::now();
    let r = w.pass(redrive(), budget).await;
    // Stopped by the reserve, not by a call running into the margin.
    let reason = r.stopped_early.clone().unwrap_or_default();
    assert!(
        reason.starts_with("stopped before the Lambda deadline"),
        "{reason}"
    );
    assert!(r.examined >= 10 && r.examined < 200, "{}", r.examined);
    let o = r.outcome.clone().unwrap();
    assert_eq!(
        (o.resend_failed, o.duplicates, o.not_attempted),
        (0, 0, 0),
        "{o:?}"
    );
    let s = w.state();
    assert_eq!(s.begun, s.calls.len(), "a call was cut off by the deadline");
    let batches = ["ReceiveMessage", "Invoke", "DeleteMessageBatch"];
    for c in s.calls.iter().filter(|c| batches.contains(&c.operation)) {
        let at = c.ended - started;
        assert!(
            at <= budget - margin,
            "{} ended {at:?} in, inside the margin",
            c.operation
        );
    }
    drop(s);
    assert_eq!(r.release_failed, 0);
    assert_conserved(&w, &r, 200);
}

#[tokio::test]
async fn a_receive_that_never_answers_is_cut_off_with_the_one_code() {
    let budget = Duration::from_millis(400);
    let w = World::new(30, &[("DEADLINE_MARGIN_MS", "200")]);
    w.state().hanging_receive = Some(2);
    let started = Instant::now();
    let r = w.pass(redrive(), budget).await;
    assert!(started.elapsed() < budget, "{:?}", started.elapsed());
    let reason = r.stopped_early.clone().unwrap_or_default();
    assert!(
        reason.starts_with(&format!("ReceiveMessage failed: {DEADLINE_REACHED}:")),
        "{reason}"
    );
    assert_eq!((r.examined, r.outcome.clone().unwrap().redriven), (10, 10));
    assert_conserved(&w, &r, 30);
}

#[tokio::test]
async fn an_invoke_cut_off_by_the_deadline_keeps_its_message() {
    let w = World::new(30, &[("DEADLINE_MARGIN_MS", "200")]);
    w.state().hanging_invokes = [4].into();
    let r = w.pass(redrive(), Duration::from_millis(400)).await;
    let o = r.outcome.clone().unwrap();
    assert_eq!(
        (o.resend_failed, o.redriven, o.duplicates),
        (1, 9, 0),
        "{o:?}"
    );
    // The cut-off batch took most of the time left: no other one starts.
    assert_eq!(r.examined, 10);
    assert!(r.stopped_early.unwrap_or_default().contains("deadline"));
    assert!(w.state().in_dlq().contains(&4));
}
