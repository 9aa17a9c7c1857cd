//! Stop after two failed batches in a row: when not one re-send of two batches in a row got
//! through, the target is down or throttled (stopped by the kill switch, say). The pass
//! stops rather than hammer it; the rest stays in the DLQ for a later run.

/// What the pass does after re-sending a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterBatch {
    Continue,
    /// Every re-send of two batches in a row failed.
    StopFailing,
    /// Nothing was sent and nothing failed: the time reserve left no room to try.
    StopOutOfTime,
}

/// Batches in a row in which every re-send failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureStreak {
    in_a_row: u32,
}

impl FailureStreak {
    /// Failing batches in a row that stop the pass.
    pub const LIMIT: u32 = 2;

    /// After a batch whose re-sends `sent` got through and `failed` were refused (the rest
    /// were not attempted).
    pub fn after(&mut self, sent: usize, failed: usize) -> AfterBatch {
        if sent > 0 {
            self.in_a_row = 0;
            return AfterBatch::Continue;
        }
        if failed == 0 {
            return AfterBatch::StopOutOfTime;
        }
        self.in_a_row += 1;
        if self.in_a_row >= Self::LIMIT {
            AfterBatch::StopFailing
        } else {
            AfterBatch::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_failed_batches_in_a_row_stop() {
        let mut s = FailureStreak::default();
        assert_eq!(s.after(0, 10), AfterBatch::Continue);
        assert_eq!(s.after(0, 3), AfterBatch::StopFailing);
    }

    #[test]
    fn one_message_through_resets_the_streak() {
        let mut s = FailureStreak::default();
        for _ in 0..5 {
            assert_eq!(s.after(0, 10), AfterBatch::Continue);
            assert_eq!(s.after(1, 9), AfterBatch::Continue);
        }
    }

    #[test]
    fn a_batch_with_nothing_tried_is_out_of_time_and_keeps_the_streak() {
        let mut s = FailureStreak::default();
        assert_eq!(s.after(0, 10), AfterBatch::Continue);
        assert_eq!(s.after(0, 0), AfterBatch::StopOutOfTime);
        assert_eq!(s.after(0, 1), AfterBatch::StopFailing);
    }
}
