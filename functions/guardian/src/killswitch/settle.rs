//! Keeping record and concurrency in agreement when stops and resumes race.
//!
//! Tags and reserved concurrency are two separate, last-writer-wins settings: there is no
//! transaction over both. The order of writes makes each state a reader can see meaningful
//! (stop writes the record before setting 0; resume restores before clearing it), and every
//! stop or resume ends by reading both back and repairing toward its goal until they agree.
//! Each invocation makes no write after its last read, so the invocation that reads last
//! sees the final state, and it only finishes on a consistent one.

use super::record::{Concurrency, StopRecord};

/// How many read-back-and-repair rounds an invocation makes before reporting that the state
/// has not settled (only a storm of concurrent stops and resumes needs more than one).
pub const MAX_SETTLE_ROUNDS: usize = 8;

/// The guarded function as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub record: Option<StopRecord>,
    /// Reserved concurrency: `None` when unreserved.
    pub concurrency: Option<i32>,
}

impl Snapshot {
    /// Stopped when trading cannot run (reserved concurrency 0) or a stop record says so.
    pub fn is_stopped(&self) -> bool {
        self.record.is_some() || self.concurrency == Some(0)
    }

    pub fn state(&self) -> &'static str {
        if self.is_stopped() {
            "stopped"
        } else {
            "running"
        }
    }

    /// Record and concurrency agree: stopped with a record at 0, or running without one.
    pub fn is_consistent(&self) -> bool {
        match self.record {
            Some(_) => self.concurrency == Some(0),
            None => self.concurrency != Some(0),
        }
    }
}

/// A stop that found no record must re-read the record before trusting a reserved
/// concurrency of 0: another stop may have recorded the real value and set 0 meanwhile.
pub fn must_recheck_record(concurrency: Option<i32>) -> bool {
    concurrency == Some(0)
}

/// The value a new record keeps. A 0 with no record is what a resume racing a stop leaves
/// for a moment; the value that resume restored (its `last-restored` note) is the truth
/// then. Without such a note, 0 was set by hand and is recorded as it is.
pub fn previous_to_record(
    concurrency: Option<i32>,
    last_restored: Option<Concurrency>,
) -> Concurrency {
    match (concurrency, last_restored) {
        (Some(0), Some(restored)) => restored,
        (observed, _) => Concurrency::from_reserved(observed),
    }
}

/// What a stop does after reading the function back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopRepair {
    /// A racing resume cleared the record: write it again (same previous value).
    pub rewrite_record: bool,
    /// A racing resume restored concurrency: set 0 again.
    pub zero_concurrency: bool,
}

impl StopRepair {
    pub fn is_settled(&self) -> bool {
        !self.rewrite_record && !self.zero_concurrency
    }
}

/// A stop ends stopped: record present and concurrency 0.
pub fn stop_repair(seen: &Snapshot) -> StopRepair {
    StopRepair {
        rewrite_record: seen.record.is_none(),
        zero_concurrency: seen.concurrency != Some(0),
    }
}

/// What a resume does after reading the function back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeCheck {
    /// Running without a record.
    Running,
    /// A stop that came after this resume holds the function: it stays stopped.
    StoppedAgain,
    /// A racing stop set 0 after the restore and its record was cleared: restore again.
    RestoreAgain,
    /// A newer stop's record is there but its 0 is not (yet): honour the record.
    CompleteNewerStop,
}

pub fn resume_check(seen: &Snapshot, restored: Concurrency) -> ResumeCheck {
    match (&seen.record, seen.concurrency) {
        (Some(_), Some(0)) => ResumeCheck::StoppedAgain,
        (Some(_), _) => ResumeCheck::CompleteNewerStop,
        (None, Some(0)) if restored != Concurrency::Reserved(0) => ResumeCheck::RestoreAgain,
        (None, _) => ResumeCheck::Running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_record() -> StopRecord {
        StopRecord {
            stopped_at: "2026-03-01T03:04:05Z".into(),
            stopped_by: "alice".into(),
            reason: "r".into(),
            previous: Concurrency::Reserved(5),
        }
    }

    fn snap(record: bool, concurrency: Option<i32>) -> Snapshot {
        Snapshot {
            record: record.then(sample_record),
            concurrency,
        }
    }

    #[test]
    fn state_and_consistency() {
        assert_eq!(snap(true, Some(0)).state(), "stopped");
        assert!(snap(true, Some(0)).is_consistent());
        assert_eq!(snap(false, None).state(), "running");
        assert!(snap(false, Some(5)).is_consistent());
        // Half-done stop (record, not yet 0) and the stop/resume race leftover (0, no record).
        assert!(!snap(true, Some(5)).is_consistent());
        assert!(!snap(false, Some(0)).is_consistent());
        assert_eq!(snap(false, Some(0)).state(), "stopped");
    }

    #[test]
    fn a_zero_without_record_records_what_the_last_resume_restored() {
        assert!(must_recheck_record(Some(0)));
        assert!(!must_recheck_record(None));
        assert_eq!(
            previous_to_record(Some(0), Some(Concurrency::Unreserved)),
            Concurrency::Unreserved
        );
        assert_eq!(previous_to_record(Some(0), None), Concurrency::Reserved(0));
        // A non-zero value is the truth even when an older note says otherwise.
        assert_eq!(
            previous_to_record(Some(3), Some(Concurrency::Reserved(5))),
            Concurrency::Reserved(3)
        );
        assert_eq!(previous_to_record(None, None), Concurrency::Unreserved);
    }

    #[test]
    fn a_stop_repairs_until_recorded_and_zero() {
        assert!(stop_repair(&snap(true, Some(0))).is_settled());
        assert_eq!(
            stop_repair(&snap(false, Some(5))),
            StopRepair {
                rewrite_record: true,
                zero_concurrency: true
            }
        );
        assert_eq!(
            stop_repair(&snap(true, None)),
            StopRepair {
                rewrite_record: false,
                zero_concurrency: true
            }
        );
    }

    #[test]
    fn a_resume_settles_running_or_yields_to_a_newer_stop() {
        let five = Concurrency::Reserved(5);
        assert_eq!(
            resume_check(&snap(false, Some(5)), five),
            ResumeCheck::Running
        );
        assert_eq!(
            resume_check(&snap(true, Some(0)), five),
            ResumeCheck::StoppedAgain
        );
        assert_eq!(
            resume_check(&snap(false, Some(0)), five),
            ResumeCheck::RestoreAgain
        );
        assert_eq!(
            resume_check(&snap(true, Some(5)), five),
            ResumeCheck::CompleteNewerStop
        );
        // Restoring a hand-set 0 is exact, not a race.
        assert_eq!(
            resume_check(&snap(false, Some(0)), Concurrency::Reserved(0)),
            ResumeCheck::Running
        );
    }
}
