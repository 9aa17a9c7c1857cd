use super::*;

fn record(previous: Concurrency) -> StopRecord {
    StopRecord {
        stopped_at: "2026-03-01T03:04:05Z".into(),
        stopped_by: "alice".into(),
        reason: "bad fills".into(),
        previous,
    }
}

fn stopped() -> Outcome {
    let mut o = Outcome::new(Action::Stop, "bot");
    o.seen = Some(Snapshot {
        record: Some(record(Concurrency::Unreserved)),
        concurrency: Some(0),
    });
    o.did("set reserved concurrency to 0");
    o.fail("alert", "Publish failed: InternalError: boom");
    o.alert_sent = Some(false);
    o
}

#[test]
fn stop_answer_says_state_record_and_failures() {
    let out = stopped().to_json();
    assert_eq!(out["action"], "stop");
    assert_eq!(out["state"], "stopped");
    assert_eq!(out["since"], "2026-03-01T03:04:05Z");
    assert_eq!(out["by"], "alice");
    assert_eq!(out["reserved_concurrency"], 0);
    assert_eq!(out["previous_concurrency"], "none");
    assert_eq!(out["alert_failed"], true);
    assert_eq!(out["failed"][0]["step"], "alert");
    assert_eq!(out["consistent"], true);
}

#[test]
fn status_answer_reads_only_and_lists_no_steps() {
    let mut o = Outcome::new(Action::Status, "bot");
    o.seen = Some(Snapshot {
        record: None,
        concurrency: None,
    });
    let out = o.to_json();
    assert_eq!(out["state"], "running");
    assert_eq!(out["reserved_concurrency"], "none");
    assert_eq!(out["since"], Value::Null);
    for absent in ["done", "failed", "consistent", "alert_failed", "notes"] {
        assert!(out.get(absent).is_none(), "{absent} in {out}");
    }
}

#[test]
fn unread_state_is_unknown_and_inconsistent() {
    let mut o = Outcome::new(Action::Resume, "bot");
    o.fail(
        "verify",
        "GetFunction failed: DeadlineReached: stopped early",
    );
    let out = o.to_json();
    assert_eq!(out["state"], "unknown");
    assert_eq!(out["reserved_concurrency"], Value::Null);
    assert_eq!(out["consistent"], false);
}

#[test]
fn resume_answer_names_what_it_restored_and_the_dlq_backlog() {
    let mut o = Outcome::new(Action::Resume, "bot");
    o.seen = Some(Snapshot {
        record: None,
        concurrency: Some(5),
    });
    o.resumed_from = Some(record(Concurrency::Reserved(5)));
    o.dlq_messages = Some(3);
    o.note("3 message(s) wait in the DLQ");
    let out = o.to_json();
    assert_eq!(out["state"], "running");
    assert_eq!(out["resumed_from"]["previous_concurrency"], "5");
    assert_eq!(out["resumed_from"]["stopped_by"], "alice");
    assert_eq!(out["dlq_messages"], 3);
    assert_eq!(out["notes"][0], "3 message(s) wait in the DLQ");
    assert_eq!(out["consistent"], true);
}

#[test]
fn alert_is_critical_and_names_who_and_why() {
    let p = stopped().alert("alice", "bad fills").unwrap();
    assert_eq!(
        p.subject.as_deref(),
        Some("[CRITICAL] STOPPED: bot by alice")
    );
    assert_eq!(p.attributes["severity"], "critical");
    assert_eq!(p.attributes["action"], "stop");
    assert!(p.message.contains("Reason: bad fills") && p.message.contains("FAILED alert"));
    assert!(p.message.contains("Reserved concurrency: 0"));
}

#[test]
fn only_stop_and_resume_alert() {
    let resumed = Outcome::new(Action::Resume, "bot")
        .alert("bob", "fixed")
        .unwrap();
    assert_eq!(
        resumed.subject.as_deref(),
        Some("[CRITICAL] RESUMED: bot by bob")
    );
    assert_eq!(
        Outcome::new(Action::Status, "bot").alert("bob", "look"),
        None
    );
}
