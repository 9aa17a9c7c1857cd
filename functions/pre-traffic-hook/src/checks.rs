//! Everything that decides the verdict, in order, stopping at the first blocker so no call
//! is made that cannot change the outcome.

use guardian::hook::appspec::DeploymentTarget;
use guardian::hook::event::HookEvent;
use guardian::hook::verdict::{Phase, Verdict, decide};
use guardian_aws::deadline::Deadline;

use crate::alarms::rollback_alarm_blockers;
use crate::app::App;
use crate::error::HookError;
use crate::probes;
use crate::target::{self, Resolution};

pub(crate) async fn examine(
    app: &App,
    ids: &HookEvent,
    deadline: Deadline,
) -> Result<Verdict, HookError> {
    let cfg = &app.config;
    let failed = |target: Option<DeploymentTarget>, reason: String| {
        Ok(decide(
            cfg.phase,
            &ids.deployment_id,
            &ids.execution_id,
            target,
            vec![reason],
            vec![],
        ))
    };
    let plan = match &cfg.plan {
        Ok(plan) => plan,
        Err(why) => return failed(None, why.clone()),
    };
    let target = match target::resolve(
        &app.codedeploy,
        &ids.deployment_id,
        cfg.fallback_target.as_ref(),
    )
    .await
    {
        Resolution::Found(t) => t,
        Resolution::Unresolved(why) => return failed(None, why),
        Resolution::UnknownDeployment(source) => {
            return Err(HookError::UnknownDeployment {
                deployment_id: ids.deployment_id.clone(),
                source,
            });
        }
    };
    if cfg.guarded.resolve(&target.function).is_none() {
        let why = format!(
            "{} is not in GUARDED_FUNCTIONS; the hook only tests functions it guards",
            target.function
        );
        return failed(Some(target), why);
    }
    match app.lambda.reserved_concurrency(&target.function).await {
        Ok(Some(0)) => {
            return failed(
                Some(target),
                "trading is stopped: the kill switch set reserved concurrency 0; resume it before deploying".into(),
            );
        }
        Ok(_) => {}
        Err(e) => {
            return failed(
                Some(target),
                format!("could not check the kill switch: {e}"),
            );
        }
    }
    if cfg.phase == Phase::Post
        && let Some(why) = rollback_alarm_blockers(&app.cloudwatch, cfg, &target.function).await
    {
        return failed(Some(target), why);
    }
    let rows = probes::run_plan(
        &app.lambda,
        plan,
        probes::Target {
            function: &target.function,
            version: &target.version,
        },
        cfg.probe_concurrency,
        deadline,
        cfg.report_margin,
    )
    .await;
    Ok(decide(
        cfg.phase,
        &ids.deployment_id,
        &ids.execution_id,
        Some(target),
        vec![],
        rows,
    ))
}
