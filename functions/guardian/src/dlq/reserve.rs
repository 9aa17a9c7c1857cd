//! The time reserve: a pass starts another batch only while the time left still covers the
//! deadline margin, one more batch, and making visible again every message it holds.

use std::time::Duration;

/// Visibility-reset batches in flight at once when the pass releases what it held.
pub const RELEASE_CONCURRENCY: usize = 4;

/// What a pass has learned about how long its calls take, priced in time to keep in hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeReserve {
    margin: Duration,
    longest_call: Duration,
    longest_batch: Duration,
}

impl TimeReserve {
    /// `margin`: kept before the deadline for the report and the invocation's answer.
    pub fn new(margin: Duration) -> Self {
        TimeReserve {
            margin,
            longest_call: Duration::ZERO,
            longest_batch: Duration::ZERO,
        }
    }

    /// A receive took `took`: the slowest call prices each round of releases.
    pub fn call_took(&mut self, took: Duration) {
        self.longest_call = self.longest_call.max(took);
    }

    /// A whole batch (receive, re-send, delete) took `took`.
    pub fn batch_took(&mut self, took: Duration) {
        self.longest_batch = self.longest_batch.max(took);
    }

    /// Time to keep in hand before starting another batch while `release_batches` batch
    /// calls' worth of messages wait to be released: the margin, room for one more batch
    /// (twice the slowest so far, so a slower one still fits), and one slowest call per
    /// round of releases, plus a round for the batch about to start.
    pub fn before_next_batch(&self, release_batches: usize) -> Duration {
        let rounds = release_batches.div_ceil(RELEASE_CONCURRENCY) + 1;
        let rounds = u32::try_from(rounds).unwrap_or(u32::MAX);
        self.margin
            .saturating_add(self.longest_batch.saturating_mul(2))
            .saturating_add(self.longest_call.saturating_mul(rounds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn before_any_batch_only_the_margin_and_nothing_measured_is_kept() {
        assert_eq!(TimeReserve::new(2000 * MS).before_next_batch(0), 2000 * MS);
    }

    #[test]
    fn keeps_two_slowest_batches_and_a_slowest_call_per_release_round() {
        let mut r = TimeReserve::new(1000 * MS);
        r.call_took(30 * MS);
        r.call_took(50 * MS);
        r.call_took(40 * MS);
        r.batch_took(200 * MS);
        r.batch_took(120 * MS);
        // Nothing held: one round for the batch about to start.
        assert_eq!(r.before_next_batch(0), (1000 + 400 + 50) * MS);
        // 4 release batches go in one round of RELEASE_CONCURRENCY, the fifth needs another.
        assert_eq!(r.before_next_batch(4), (1000 + 400 + 2 * 50) * MS);
        assert_eq!(r.before_next_batch(5), (1000 + 400 + 3 * 50) * MS);
    }

    #[test]
    fn the_reserve_grows_with_what_is_held_and_never_overflows() {
        let mut r = TimeReserve::new(Duration::MAX);
        r.call_took(Duration::MAX);
        r.batch_took(Duration::MAX);
        assert_eq!(r.before_next_batch(usize::MAX), Duration::MAX);
        let mut r = TimeReserve::new(MS);
        r.call_took(10 * MS);
        let held: Vec<Duration> = [0, 40, 400, 4000].map(|n| r.before_next_batch(n)).to_vec();
        assert!(held.windows(2).all(|w| w[0] < w[1]), "{held:?}");
    }
}
