//! The resume flow against the in-memory function: the exact restore (none, 0, n), restore
//! before clearing, and the settle loop against a racing stop, within MAX_SETTLE_ROUNDS.

use guardian::killswitch::record::{self, Concurrency};
use guardian::killswitch::settle::MAX_SETTLE_ROUNDS;
use serde_json::json;

use crate::fakes::{State, World, resume, stop};

#[tokio::test]
async fn stop_then_resume_restores_exactly_none_zero_and_n() {
    for (before, restore) in [
        (None, "DeleteFunctionConcurrency"),
        (Some(0), "PutFunctionConcurrency 0"),
        (Some(7), "PutFunctionConcurrency 7"),
    ] {
        let w = World::new(before);
        w.invoke(stop("alice")).await.unwrap();
        assert_eq!(w.state().concurrency, Some(0));
        let out = w.invoke(resume("bob")).await.unwrap();
        assert_eq!(out["failed"], json!([]), "{before:?}: {out:#}");
        let s = w.state();
        assert_eq!(s.concurrency, before, "{:?}", s.calls);
        assert!(s.record().is_none());
        let spelled = Concurrency::from_reserved(before).to_string();
        assert_eq!(s.tags[record::LAST_RESTORED], spelled);
        assert_eq!(out["resumed_from"]["previous_concurrency"], spelled);
        // Restore first, then the note, then the record goes: a stop never sees neither.
        let order = [restore, "TagResource guardian:last", "UntagResource"];
        let at: Vec<usize> = order.iter().map(|p| s.position(p).unwrap()).collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "{before:?}: {:?}",
            s.calls
        );
    }
}

#[tokio::test]
async fn a_resume_of_a_running_function_changes_nothing() {
    let w = World::new(Some(5));
    let out = w.invoke(resume("bob")).await.unwrap();
    assert_eq!(out["done"], json!([]));
    assert!(out["notes"][0].to_string().contains("nothing to resume"));
    let s = w.state();
    assert!(
        s.calls.iter().all(|c| c.starts_with("Get")),
        "{:?}",
        s.calls
    );
}

#[tokio::test]
async fn a_restore_that_fails_keeps_the_record() {
    let w = World::stopped(Some(5));
    w.state()
        .failing
        .insert("PutFunctionConcurrency", "ThrottlingException");
    let err = w.invoke(resume("bob")).await.unwrap_err();
    assert!(
        matches!(err, crate::KillSwitchError::RestoreFailed { .. }),
        "{err}"
    );
    let s = w.state();
    assert_eq!((s.concurrency, s.record().is_some()), (Some(0), true));
}

#[tokio::test]
async fn a_stop_setting_zero_after_the_restore_is_restored_again() {
    // The racing stop found the record still there, kept it, and set 0 just after our restore.
    let w = World::stopped(Some(5)).racing(|op, s| {
        if op == "TagResource" && s.count("TagResource") == 0 {
            s.concurrency = Some(0);
        }
    });
    let out = w.invoke(resume("bob")).await.unwrap();
    assert_eq!(out["failed"], json!([]), "{out:#}");
    assert_eq!(out["state"], "running");
    assert!(
        out["notes"].to_string().contains("restored again"),
        "{out:#}"
    );
    assert_eq!(w.state().concurrency, Some(5));
}

#[tokio::test]
async fn a_newer_stop_recorded_during_the_resume_is_honoured() {
    // The newer stop wrote its record after ours was cleared, but not yet its 0.
    let w = World::stopped(Some(5)).racing(|op, s| {
        if op == "GetFunction" && s.position("UntagResource").is_some() && s.record().is_none() {
            s.record_stop("carol");
        }
    });
    let out = w.invoke(resume("bob")).await.unwrap();
    assert_eq!(out["failed"], json!([]), "{out:#}");
    assert_eq!(
        (out["state"].clone(), out["consistent"].clone()),
        (json!("stopped"), json!(true))
    );
    assert!(out["notes"].to_string().contains("newer stop"), "{out:#}");
    let s = w.state();
    assert_eq!(s.concurrency, Some(0));
    assert_eq!(s.record().unwrap().stopped_by, "carol");
    // Stopped again: the schedules stay off.
    assert_eq!(s.count("UpdateSchedule"), 0, "{:?}", s.calls);
}

/// A stop that keeps setting 0 (without a record) before each of the resume's read-backs.
fn zeroing(races: usize) -> impl FnMut(&str, &mut State) + Send + 'static {
    let mut raced = 0;
    move |op, s| {
        if op == "GetFunction" && s.position("UntagResource").is_some() && raced < races {
            raced += 1;
            s.concurrency = Some(0);
        }
    }
}

#[tokio::test]
async fn a_resume_settles_within_the_rounds_or_says_it_did_not() {
    for races in 0..=MAX_SETTLE_ROUNDS {
        let w = World::stopped(Some(5)).racing(zeroing(races));
        let out = w.invoke(resume("bob")).await.unwrap();
        let read_backs = w.state().count("GetFunction") - 1;
        if races < MAX_SETTLE_ROUNDS {
            assert_eq!(out["failed"], json!([]), "{races} races: {out:#}");
            assert_eq!(out["state"], "running");
            assert_eq!(read_backs, races + 1);
        } else {
            assert_eq!(out["failed"][0]["step"], "verify", "{out:#}");
            assert_eq!(read_backs, MAX_SETTLE_ROUNDS);
        }
    }
}
