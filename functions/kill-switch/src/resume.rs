//! `resume`: restore exactly, then clear the record, then everything else.

use guardian::guarded::account_of;
use guardian::killswitch::outcome::Outcome;
use guardian::killswitch::record::Concurrency;
use guardian::killswitch::request::{Action, Request};
use guardian::killswitch::settle::{self, MAX_SETTLE_ROUNDS, ResumeCheck};

use crate::error::KillSwitchError;
use crate::guarded::Guarded;
use crate::ports::{FunctionSettings, Ports};
use crate::side_effects;

pub async fn resume<P: Ports>(
    ports: &P,
    f: &Guarded<'_, P::Lambda>,
    req: &Request,
) -> Result<Outcome, KillSwitchError> {
    let read_err = |source| KillSwitchError::Read {
        function: f.name.to_string(),
        source,
    };
    let mut outcome = Outcome::new(Action::Resume, f.name);
    let tags = f.tags().await.map_err(read_err)?;
    outcome.account = account_of(&tags.arn).map(str::to_string);
    let Some(record) = tags.record()? else {
        let seen = f.snapshot().await?;
        outcome.note(if seen.concurrency == Some(0) {
            "no stop record: reserved concurrency is 0 but the kill switch did not set it, so there \
             is nothing to restore; set it by hand with aws lambda put-function-concurrency"
        } else {
            "not stopped: nothing to resume, nothing changed"
        });
        outcome.seen = Some(seen);
        return Ok(outcome);
    };
    let previous = record.previous;
    let restore_err = |source| KillSwitchError::RestoreFailed {
        function: f.name.to_string(),
        previous: previous.to_string(),
        source,
    };
    f.set_concurrency(previous).await.map_err(restore_err)?;
    outcome.did(match previous {
        Concurrency::Reserved(n) => format!("restored reserved concurrency {n}"),
        Concurrency::Unreserved => "removed the reservation (it was unreserved)".to_string(),
    });
    f.clear_record(&tags.arn, previous)
        .await
        .map_err(|source| KillSwitchError::ClearFailed {
            function: f.name.to_string(),
            previous: previous.to_string(),
            source,
        })?;
    outcome.did(format!(
        "removed the stop record ({} by {})",
        record.stopped_at, record.stopped_by
    ));
    outcome.resumed_from = Some(record);
    tracing::warn!(function = f.name, by = %req.requested_by, "trading resumed");

    settle_resumed(f, previous, &mut outcome).await;
    let running = outcome.seen.as_ref().is_some_and(|s| !s.is_stopped());
    if running {
        side_effects::set_schedules(ports, &f.deadline, true, &mut outcome).await;
    }
    let reason = req.reason.clone().unwrap_or_default();
    side_effects::alert(ports, &f.deadline, &mut outcome, &req.requested_by, &reason).await;
    side_effects::report_dlq(ports, &f.deadline, &mut outcome).await;
    Ok(outcome)
}

/// Reads back until running without a record, or stopped by a newer stop.
async fn settle_resumed(
    f: &Guarded<'_, impl FunctionSettings>,
    previous: Concurrency,
    outcome: &mut Outcome,
) {
    for _ in 0..MAX_SETTLE_ROUNDS {
        let seen = match f.snapshot().await {
            Ok(seen) => seen,
            Err(e) => return outcome.fail("verify", e),
        };
        let check = settle::resume_check(&seen, previous);
        outcome.seen = Some(seen);
        let fix = match check {
            ResumeCheck::Running => {
                outcome.did("verified: reserved concurrency restored and no record left");
                return;
            }
            ResumeCheck::StoppedAgain => {
                outcome.note("a newer stop holds the function: it stays stopped");
                return;
            }
            ResumeCheck::RestoreAgain => {
                outcome.note("a concurrent stop set 0 after the restore: restored again");
                previous
            }
            ResumeCheck::CompleteNewerStop => {
                outcome.note("a newer stop recorded itself: honoured it with concurrency 0");
                Concurrency::Reserved(0)
            }
        };
        if let Err(e) = f.set_concurrency(fix).await {
            return outcome.fail("verify", e);
        }
    }
    outcome.fail(
        "verify",
        format!(
            "state still changing after {MAX_SETTLE_ROUNDS} read-backs; invoke status to check"
        ),
    );
}

#[cfg(test)]
mod tests;
