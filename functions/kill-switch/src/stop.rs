//! `stop`: record, then reserved concurrency 0, then everything else.

use guardian::guarded::account_of;
use guardian::killswitch::outcome::Outcome;
use guardian::killswitch::record::{self, Concurrency, StopRecord};
use guardian::killswitch::request::{Action, Request};
use guardian::killswitch::settle::{self, MAX_SETTLE_ROUNDS};

use crate::error::KillSwitchError;
use crate::guarded::Guarded;
use crate::ports::{FunctionSettings, Ports};
use crate::side_effects;

pub async fn stop<P: Ports>(
    ports: &P,
    f: &Guarded<'_, P::Lambda>,
    req: &Request,
) -> Result<Outcome, KillSwitchError> {
    let read_err = |source| KillSwitchError::Read {
        function: f.name.to_string(),
        source,
    };
    let mut outcome = Outcome::new(Action::Stop, f.name);
    let reason = req.reason.clone().unwrap_or_default();
    let tags = f.tags().await.map_err(read_err)?;
    outcome.account = account_of(&tags.arn).map(str::to_string);
    let mut existing = tags.record()?;
    let mut observed = None;
    let mut last_restored = None;
    if existing.is_none() {
        observed = f.concurrency().await.map_err(read_err)?;
        if settle::must_recheck_record(observed) {
            let again = f.tags().await.map_err(read_err)?;
            existing = again.record()?;
            last_restored = record::last_restored(&again.tags);
        }
    }
    let kept = match existing {
        Some(first) => {
            outcome.note(format!(
                "already stopped since {} by {}: kept the first record",
                first.stopped_at, first.stopped_by
            ));
            first
        }
        None => {
            let new = StopRecord {
                stopped_at: now_rfc3339(),
                stopped_by: req.requested_by.clone(),
                reason: reason.clone(),
                previous: settle::previous_to_record(observed, last_restored),
            };
            if let Err(source) = f.write_record(&tags.arn, &new).await {
                // Stopping comes first: halt even though the record could not be kept.
                zero(f).await?;
                return Err(KillSwitchError::RecordFailed {
                    function: f.name.to_string(),
                    previous: new.previous.to_string(),
                    source,
                });
            }
            outcome.did(format!(
                "recorded previous reserved concurrency {}",
                new.previous
            ));
            new
        }
    };
    zero(f).await?;
    outcome.did("set reserved concurrency to 0");
    tracing::warn!(function = f.name, by = %req.requested_by, "trading stopped");

    side_effects::stop_deployments(ports, &f.deadline, &mut outcome).await;
    side_effects::set_schedules(ports, &f.deadline, false, &mut outcome).await;
    settle_stopped(f, &tags.arn, &kept, &mut outcome).await;
    side_effects::alert(ports, &f.deadline, &mut outcome, &req.requested_by, &reason).await;
    Ok(outcome)
}

async fn zero(f: &Guarded<'_, impl FunctionSettings>) -> Result<(), KillSwitchError> {
    f.set_concurrency(Concurrency::Reserved(0))
        .await
        .map_err(|source| KillSwitchError::StopFailed {
            function: f.name.to_string(),
            source,
        })
}

/// Reads back until record and 0 are both there, repairing what a racing resume undid.
async fn settle_stopped(
    f: &Guarded<'_, impl FunctionSettings>,
    arn: &str,
    kept: &StopRecord,
    outcome: &mut Outcome,
) {
    for _ in 0..MAX_SETTLE_ROUNDS {
        let seen = match f.snapshot().await {
            Ok(seen) => seen,
            Err(e) => return outcome.fail("verify", e),
        };
        let repair = settle::stop_repair(&seen);
        outcome.seen = Some(seen);
        if repair.is_settled() {
            outcome.did("verified: reserved concurrency is 0 and the record is in place");
            return;
        }
        if repair.rewrite_record {
            if let Err(e) = f.write_record(arn, kept).await {
                return outcome.fail("verify", e);
            }
            outcome.note("a concurrent resume removed the record: wrote it again");
        }
        if repair.zero_concurrency {
            if let Err(e) = f.set_concurrency(Concurrency::Reserved(0)).await {
                return outcome.fail("verify", e);
            }
            outcome.note("a concurrent resume restored concurrency: set 0 again");
        }
    }
    outcome.fail(
        "verify",
        format!(
            "state still changing after {MAX_SETTLE_ROUNDS} read-backs; invoke status to check"
        ),
    );
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests;
