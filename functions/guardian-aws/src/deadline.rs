//! Bounding work by the Lambda invocation deadline, so a function can still report,
//! release messages or answer before Lambda kills it.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The moment Lambda ends the invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: SystemTime,
}

#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
#[error("stopped early to keep {margin:?} before the Lambda deadline")]
pub struct DeadlineReached {
    pub margin: Duration,
}

impl Deadline {
    /// From `lambda_runtime::Context::deadline` (milliseconds since the Unix epoch).
    pub fn from_epoch_millis(ms: u64) -> Self {
        Deadline {
            at: UNIX_EPOCH + Duration::from_millis(ms),
        }
    }

    pub fn from_context(ctx: &lambda_runtime::Context) -> Self {
        Self::from_epoch_millis(ctx.deadline)
    }

    pub fn after(duration: Duration) -> Self {
        Deadline {
            at: SystemTime::now() + duration,
        }
    }

    /// Time left before the deadline (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }

    /// Time left before `margin` ahead of the deadline.
    pub fn remaining_before(&self, margin: Duration) -> Duration {
        self.remaining().saturating_sub(margin)
    }

    /// Whether less than `margin` is left.
    pub fn is_near(&self, margin: Duration) -> bool {
        self.remaining_before(margin).is_zero()
    }

    /// Runs `work` until it completes or until `margin` before the deadline, whichever is first.
    pub async fn bound<F: Future>(
        &self,
        margin: Duration,
        work: F,
    ) -> Result<F::Output, DeadlineReached> {
        tokio::time::timeout(self.remaining_before(margin), work)
            .await
            .map_err(|_| DeadlineReached { margin })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_finishing_in_time_returns_its_output() {
        let d = Deadline::after(Duration::from_secs(5));
        assert_eq!(d.bound(Duration::from_secs(1), async { 7 }).await, Ok(7));
    }

    #[tokio::test]
    async fn work_running_into_the_margin_is_cut_off() {
        let d = Deadline::after(Duration::from_millis(300));
        let started = std::time::Instant::now();
        let out = d
            .bound(
                Duration::from_millis(200),
                tokio::time::sleep(Duration::from_secs(10)),
            )
            .await;
        assert_eq!(
            out,
            Err(DeadlineReached {
                margin: Duration::from_millis(200)
            })
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_past_deadline_has_nothing_left() {
        let d = Deadline::from_epoch_millis(1_000);
        assert_eq!(d.remaining(), Duration::ZERO);
        assert!(d.is_near(Duration::from_millis(1)));
    }
}
