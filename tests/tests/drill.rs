//! The rollout drill (`make drill`) as a test: every step behaves, including the
//! least-privilege report (every statement of every role is needed by a call the drill made,
//! or carries the template's reason why it cannot be exercised locally).

use e2e::{TestAccount, build_functions, drill};

#[tokio::test(flavor = "multi_thread")]
async fn the_drill_behaves_and_every_grant_is_needed() {
    build_functions(false).unwrap_or_else(|e| panic!("{e}"));
    let run = drill::run(TestAccount::new()).await;
    let failed = run.misbehaved();
    assert!(
        failed.is_empty(),
        "drill steps misbehaved (logs in {}):\n{}",
        run.logs.display(),
        failed.join("\n")
    );
    assert!(run.steps.len() >= 7, "every step ran");
}
