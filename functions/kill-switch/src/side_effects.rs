//! The steps around the stop itself: deployments, schedules, the alert, the DLQ depth.
//! Each one's failure is reported in the outcome and never undoes or blocks the stop.

use guardian_aws::deadline::Deadline;
use guardian_aws::scheduler::StateChange;

use crate::app::App;
use crate::guarded::bounded;
use crate::outcome::Outcome;

/// Stops every in-flight deployment of the configured group, rolling it back, so no canary
/// is promoted while trading is halted. CodeDeploy's own rollbacks are left to finish: they
/// move `live` back to the last good version, and stopping one could leave the bad version
/// live (a repeated stop, or an alarm firing the kill switch mid-rollback, meets them).
pub async fn stop_deployments(app: &App, deadline: &Deadline, outcome: &mut Outcome) {
    let Some(d) = &app.config.deployment else {
        return;
    };
    let listed = bounded(
        deadline,
        "ListDeployments",
        app.codedeploy
            .in_flight_deployments(&d.application, &d.group),
    )
    .await;
    let deployments = match listed {
        Ok(found) => found,
        Err(e) => return outcome.fail("stop_deployments", e),
    };
    for deployment in deployments {
        let id = deployment.id;
        if deployment.rollback {
            outcome.note(format!(
                "left rollback deployment {id} running: it returns live to the last good version"
            ));
            continue;
        }
        let stopped = bounded(
            deadline,
            "StopDeployment",
            app.codedeploy.stop_deployment(&id, true),
        )
        .await;
        match stopped {
            Ok(()) => outcome.did(format!("stopped deployment {id} with rollback")),
            // It finished between listing and stopping: nothing left to promote.
            Err(e) if e.is_code("DeploymentAlreadyCompletedException") => {
                outcome.note(format!("deployment {id} had already finished"))
            }
            Err(e) => outcome.fail(format!("stop_deployment:{id}"), e),
        }
    }
}

/// Enables or disables every configured schedule.
pub async fn set_schedules(app: &App, deadline: &Deadline, enabled: bool, outcome: &mut Outcome) {
    let verb = if enabled { "enabled" } else { "disabled" };
    for s in &app.config.schedules {
        let changed = bounded(
            deadline,
            "UpdateSchedule",
            app.scheduler
                .set_enabled(s.group.as_deref(), &s.name, enabled),
        )
        .await;
        match changed {
            Ok(StateChange::Changed) => outcome.did(format!("{verb} schedule {s}")),
            Ok(StateChange::AlreadySo) => outcome.did(format!("schedule {s} was already {verb}")),
            Err(e) => outcome.fail(format!("schedule:{s}"), e),
        }
    }
}

/// Publishes the critical alert; a failure is recorded, never raised.
pub async fn alert(
    app: &App,
    deadline: &Deadline,
    outcome: &mut Outcome,
    requested_by: &str,
    reason: &str,
) {
    let publication = outcome.alert(requested_by, reason);
    let sent = bounded(
        deadline,
        "Publish",
        app.sns.publish(&app.config.alert_topic_arn, &publication),
    )
    .await;
    match sent {
        Ok(_) => {
            outcome.alert_sent = Some(true);
            outcome.did("sent critical alert");
        }
        Err(e) => {
            tracing::error!(error = %e, function = %outcome.function, "kill-switch alert failed");
            outcome.alert_sent = Some(false);
            outcome.fail("alert", e);
        }
    }
}

/// How many messages wait in the DLQ (they piled up while stopped; nothing is replayed).
pub async fn report_dlq(app: &App, deadline: &Deadline, outcome: &mut Outcome) {
    let Some(url) = &app.config.dlq_url else {
        return;
    };
    match bounded(deadline, "GetQueueAttributes", app.sqs.depth(url))
        .await
        .map(|depth| depth.visible)
    {
        Ok(n) => {
            outcome.dlq_messages = Some(n);
            if n > 0 {
                outcome.note(format!(
                    "{n} message(s) wait in the DLQ; they were not replayed: inspect them with the dlq-inspector before redriving"
                ));
            }
        }
        Err(e) => outcome.fail("dlq_depth", e),
    }
}
