//! The stop flow against the in-memory function: record before 0, the first record kept,
//! and the settle loop repairing what a racing resume undoes, within MAX_SETTLE_ROUNDS.

use guardian::killswitch::record::Concurrency;
use guardian::killswitch::settle::MAX_SETTLE_ROUNDS;
use serde_json::json;

use crate::fakes::{State, World, stop};

#[tokio::test]
async fn a_stop_records_before_it_zeroes_then_verifies_and_alerts() {
    let w = World::new(Some(5));
    let out = w.invoke(stop("alice")).await.unwrap();
    assert_eq!(out["state"], "stopped");
    assert_eq!(out["consistent"], true);
    assert_eq!(out["previous_concurrency"], "5");
    assert_eq!(out["failed"], json!([]), "{out:#}");
    let s = w.state();
    assert_eq!(s.concurrency, Some(0));
    assert_eq!(s.record().unwrap().previous, Concurrency::Reserved(5));
    let (tagged, zeroed) = (
        s.position("TagResource"),
        s.position("PutFunctionConcurrency 0"),
    );
    assert!(tagged.unwrap() < zeroed.unwrap(), "{:?}", s.calls);
    // Verified by reading back after the schedules, alerted last.
    assert!(s.position("UpdateSchedule").unwrap() < s.calls.len() - 3);
    assert_eq!(s.calls.last().map(String::as_str), Some("Publish"));
    assert!(!s.schedules["tick"]);
}

#[tokio::test]
async fn a_second_stop_keeps_the_first_record() {
    let w = World::stopped(Some(3));
    let out = w.invoke(stop("bob")).await.unwrap();
    assert_eq!(out["by"], "alice");
    assert!(
        out["notes"][0]
            .to_string()
            .contains("kept the first record")
    );
    let s = w.state();
    assert_eq!(s.count("TagResource"), 0, "{:?}", s.calls);
    assert_eq!(s.record().unwrap().previous, Concurrency::Reserved(3));
}

#[tokio::test]
async fn a_record_that_cannot_be_written_still_stops_trading() {
    let w = World::new(Some(5));
    w.state()
        .failing
        .insert("TagResource", "AccessDeniedException");
    let err = w.invoke(stop("alice")).await.unwrap_err();
    assert!(
        matches!(err, crate::KillSwitchError::RecordFailed { .. }),
        "{err}"
    );
    assert_eq!(w.state().concurrency, Some(0));
}

/// A concurrent resume that runs whole before each of the stop's first `races` read-backs.
fn resume_racing(races: usize) -> impl FnMut(&str, &mut State) + Send + 'static {
    let mut raced = 0;
    move |op, s| {
        let settling = s.position("PutFunctionConcurrency 0").is_some();
        if settling && op == "GetFunction" && raced < races {
            raced += 1;
            s.resume_now();
        }
    }
}

#[tokio::test]
async fn a_stop_settles_against_a_racing_resume_within_the_rounds() {
    for races in 0..MAX_SETTLE_ROUNDS {
        let w = World::new(Some(5)).racing(resume_racing(races));
        let out = w.invoke(stop("alice")).await.unwrap();
        assert_eq!(out["failed"], json!([]), "{races} races: {out:#}");
        assert_eq!(
            (out["state"].clone(), out["consistent"].clone()),
            (json!("stopped"), json!(true))
        );
        let s = w.state();
        assert_eq!(s.concurrency, Some(0), "{races} races");
        // The first record is the one kept: what to restore survives every race.
        assert_eq!(s.record().unwrap().previous, Concurrency::Reserved(5));
        let read_backs = s.count("GetFunction") - 1;
        assert_eq!(read_backs, races + 1, "{:?}", s.calls);
        let repairs = out["notes"].as_array().map_or(0, Vec::len);
        assert_eq!(repairs, 2 * races, "{out:#}");
    }
}

#[tokio::test]
async fn a_stop_racing_without_end_gives_up_after_the_rounds_and_says_so() {
    let w = World::new(Some(5)).racing(resume_racing(usize::MAX));
    let out = w.invoke(stop("alice")).await.unwrap();
    assert_eq!(out["failed"][0]["step"], "verify", "{out:#}");
    let error = out["failed"][0]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("after {MAX_SETTLE_ROUNDS} read-backs")),
        "{error}"
    );
    assert_eq!(w.state().count("GetFunction") - 1, MAX_SETTLE_ROUNDS);
    // Giving up on the read-backs still alerts.
    assert_eq!(w.state().alerts.len(), 1);
}
