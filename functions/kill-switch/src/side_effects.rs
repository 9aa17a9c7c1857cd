//! The steps around the stop itself: deployments, schedules, the alert, the DLQ depth.
//! Each one's failure is reported in the outcome and never undoes or blocks the stop.

use guardian::killswitch::outcome::Outcome;
use guardian_aws::deadline::Deadline;
use guardian_aws::scheduler::StateChange;

use crate::guarded::DEADLINE_MARGIN;
use crate::ports::{Alerts, Backlog, Deployments, Ports, Schedules};

/// Stops every in-flight deployment of the function's group, rolling it back, so no canary
/// is promoted while trading is halted. CodeDeploy's own rollbacks are left to finish: they
/// move `live` back to the last good version, and stopping one could leave the bad version
/// live (a repeated stop, or an alarm firing the kill switch mid-rollback, meets them).
pub async fn stop_deployments(ports: &impl Ports, deadline: &Deadline, outcome: &mut Outcome) {
    let Some(d) = ports.config().around(&outcome.function).deployment else {
        return;
    };
    let codedeploy = ports.codedeploy();
    let list = codedeploy.in_flight_deployments(&d.application, &d.group);
    let deployments = match deadline
        .call(DEADLINE_MARGIN, "ListDeployments", list)
        .await
    {
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
        let stop = codedeploy.stop_deployment(&id, true);
        match deadline.call(DEADLINE_MARGIN, "StopDeployment", stop).await {
            Ok(()) => outcome.did(format!("stopped deployment {id} with rollback")),
            // It finished between listing and stopping: nothing left to promote.
            Err(e) if e.is_code("DeploymentAlreadyCompletedException") => {
                outcome.note(format!("deployment {id} had already finished"))
            }
            Err(e) => outcome.fail(format!("stop_deployment:{id}"), e),
        }
    }
}

/// Enables or disables every configured schedule of the function.
pub async fn set_schedules(
    ports: &impl Ports,
    deadline: &Deadline,
    enabled: bool,
    outcome: &mut Outcome,
) {
    let verb = if enabled { "enabled" } else { "disabled" };
    let function = outcome.function.clone();
    let owner = ports.config().schedules_must_invoke(&function);
    for s in &ports.config().schedules {
        let set = ports
            .scheduler()
            .set_enabled(s.group.as_deref(), &s.name, enabled, owner);
        match deadline.call(DEADLINE_MARGIN, "UpdateSchedule", set).await {
            Ok(StateChange::Changed) => outcome.did(format!("{verb} schedule {s}")),
            Ok(StateChange::AlreadySo) => outcome.did(format!("schedule {s} was already {verb}")),
            // Another guarded function's schedule: not this request's to touch.
            Ok(StateChange::OtherTarget) => {}
            Err(e) => outcome.fail(format!("schedule:{s}"), e),
        }
    }
}

/// Publishes the critical alert of a stop or resume, then the same to the central topic when
/// one is configured; a failure is recorded, never raised.
pub async fn alert(
    ports: &impl Ports,
    deadline: &Deadline,
    outcome: &mut Outcome,
    requested_by: &str,
    reason: &str,
) {
    let Some(publication) = outcome.alert(requested_by, reason) else {
        return;
    };
    let publish = ports
        .sns()
        .publish(&ports.config().alert_topic_arn, &publication);
    match deadline.call(DEADLINE_MARGIN, "Publish", publish).await {
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
    let Some(central) = &ports.config().central_topic_arn else {
        return;
    };
    let publish = ports.sns().publish(central, &publication);
    match deadline.call(DEADLINE_MARGIN, "Publish", publish).await {
        Ok(_) => outcome.did("sent the alert to the central topic"),
        Err(e) => {
            tracing::error!(error = %e, function = %outcome.function, "central alert failed");
            outcome.fail("central_alert", e);
        }
    }
}

/// How many messages wait in the DLQ (they piled up while stopped; nothing is replayed).
pub async fn report_dlq(ports: &impl Ports, deadline: &Deadline, outcome: &mut Outcome) {
    let Some(url) = ports.config().around(&outcome.function).dlq_url else {
        return;
    };
    let depth = ports.sqs().depth(&url);
    match deadline
        .call(DEADLINE_MARGIN, "GetQueueAttributes", depth)
        .await
    {
        Ok(depth) => {
            let n = depth.visible;
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

#[cfg(test)]
mod tests;
