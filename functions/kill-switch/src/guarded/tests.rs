//! Every call on the guarded function is bounded by the deadline, with the one code.

use std::time::{Duration, Instant};

use guardian_aws::deadline::DEADLINE_REACHED;
use serde_json::json;

use crate::KillSwitchError;
use crate::fakes::World;
use crate::guarded::DEADLINE_MARGIN;

#[tokio::test]
async fn a_call_that_never_answers_is_cut_off_at_the_margin_with_the_one_code() {
    let w = World::new(Some(1));
    w.state().hanging.insert("GetFunction");
    let started = Instant::now();
    let budget = DEADLINE_MARGIN + Duration::from_millis(50);
    let err = w
        .invoke_within(json!({"action": "status"}), budget)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < budget,
        "ran into the margin: {:?}",
        started.elapsed()
    );
    let KillSwitchError::Read { source, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(
        (source.operation, source.code.as_deref()),
        ("GetFunction", Some(DEADLINE_REACHED))
    );
}
