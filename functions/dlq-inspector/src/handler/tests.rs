//! The invocation around the pass: requests refused before any AWS call, a redrive into a
//! stopped function refused before reading, the report published when there is one.

use std::time::Duration;

use guardian_aws::deadline::DEADLINE_REACHED;
use guardian_aws::error::ErrorType;
use serde_json::json;

use crate::error::DlqError;
use crate::fakes::World;

#[tokio::test]
async fn a_redrive_into_a_stopped_function_is_refused_before_reading_a_message() {
    let w = World::new(5, &[]);
    w.state().concurrency = Some(0);
    let err = w.invoke(json!({"action": "redrive"})).await.unwrap_err();
    assert!(matches!(err, DlqError::TargetStopped { .. }), "{err}");
    let ops: Vec<&str> = w.state().calls.iter().map(|c| c.operation).collect();
    assert_eq!(ops, ["GetFunctionConcurrency"]);
    // A dry run re-sends nothing, so it goes ahead.
    let out = w
        .invoke(json!({"action": "redrive", "dry_run": true}))
        .await
        .unwrap();
    assert_eq!(out["outcome"]["dry_run_selected"], 5);
}

#[tokio::test]
async fn bad_requests_touch_nothing() {
    let w = World::new(5, &[("SOURCE_QUEUE_URL", "")]);
    for payload in [
        json!({"action": "redrive", "to": "queue"}),
        json!({"action": "purge", "confirm": "other-queue"}),
        json!({"action": "replay"}),
    ] {
        let err = w.invoke(payload.clone()).await.unwrap_err();
        assert!(matches!(err, DlqError::Request(_)), "{payload}: {err}");
    }
    assert!(w.state().calls.is_empty());
}

#[tokio::test]
async fn the_report_is_published_only_when_the_queue_holds_messages() {
    let empty = World::new(0, &[]);
    empty.invoke(json!({})).await.unwrap();
    assert!(empty.state().published.is_empty());
    let w = World::new(3, &[]);
    let out = w.invoke(json!({})).await.unwrap();
    assert_eq!(out["examined"], 3);
    let s = w.state();
    assert_eq!(s.published.len(), 1);
    assert_eq!(s.published[0].attributes["source"], "dlq-inspector");
}

#[tokio::test]
async fn a_lost_inspect_report_fails_the_run_a_lost_redrive_report_does_not() {
    let w = World::new(3, &[]);
    w.state().failing.insert("Publish");
    let err = w.invoke(json!({})).await.unwrap_err();
    assert!(matches!(err, DlqError::AlertNotPublished(_)), "{err}");
    assert_eq!(w.state().visible(), 3, "inspect consumed nothing");
    let out = w.invoke(json!({"action": "redrive"})).await.unwrap();
    assert_eq!(out["outcome"]["redriven"], 3);
    assert!(
        out["alert_error"]
            .as_str()
            .unwrap()
            .contains("Publish failed"),
        "{out}"
    );
}

#[tokio::test]
async fn a_depth_read_cut_off_by_the_deadline_is_out_of_time_with_the_one_code() {
    let w = World::new(3, &[("DEADLINE_MARGIN_MS", "100")]);
    w.state().hanging.insert("GetQueueAttributes");
    let budget = Duration::from_millis(150);
    let err = w.invoke_within(json!({}), budget).await.unwrap_err();
    assert_eq!(err.error_type(), "Dlq.OutOfTime", "{err}");
    let DlqError::OutOfTime(source) = &err else {
        panic!("{err}");
    };
    assert_eq!(source.code.as_deref(), Some(DEADLINE_REACHED));
    w.state().hanging.clear();
    w.state().failing.insert("GetQueueAttributes");
    let err = w.invoke(json!({})).await.unwrap_err();
    assert_eq!(err.error_type(), "Dlq.QueueUnreadable", "{err}");
}

#[tokio::test]
async fn with_several_guarded_functions_a_request_acts_on_the_named_functions_queue() {
    let several = [
        ("GUARDED_FUNCTIONS", "trading-bot,pricer"),
        (
            "DLQ_URL",
            "https://sqs.us-east-1.amazonaws.com/123456789012/trading-dlq,arn:aws:sqs:us-east-1:123456789012:pricer-dlq",
        ),
        ("REDRIVE_QUALIFIER", "live"),
    ];
    let w = World::new(2, &several);
    let err = w.invoke(json!({"action": "redrive"})).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("`function` is required for redrive"),
        "{err}"
    );
    assert!(w.state().calls.is_empty(), "refused before any call");
    let out = w
        .invoke(json!({"action": "redrive", "function": "pricer", "dry_run": true}))
        .await
        .unwrap();
    assert_eq!(out["queue"], "pricer-dlq");
    assert!(
        out["destination"].to_string().contains("pricer:live"),
        "{out:#}"
    );
    let all = w.invoke(json!({"action": "inspect"})).await.unwrap();
    let queues: Vec<_> = all["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["queue"].as_str().unwrap())
        .collect();
    assert_eq!(queues, ["trading-dlq", "pricer-dlq"]);
    let unknown = w
        .invoke(json!({"action": "inspect", "function": "other"}))
        .await
        .unwrap_err();
    assert_eq!(unknown.error_type(), "Dlq.BadRequest");
}
