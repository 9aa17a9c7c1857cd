//! Bounding work by the Lambda invocation deadline, so a function can still report,
//! release messages or answer before Lambda kills it.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::AwsCallError;

/// The `AwsCallError::code` of an AWS call cut off by the deadline (not an AWS error code:
/// the call may or may not have reached AWS).
pub const DEADLINE_REACHED: &str = "DeadlineReached";

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

    /// The one way to make an AWS call bounded by the deadline: `call`'s own result, or an
    /// `AwsCallError` for `operation` with code [`DEADLINE_REACHED`] once only `margin` is
    /// left.
    pub async fn call<T>(
        &self,
        margin: Duration,
        operation: &'static str,
        call: impl Future<Output = Result<T, AwsCallError>>,
    ) -> Result<T, AwsCallError> {
        self.bound(margin, call).await.unwrap_or_else(|reached| {
            Err(AwsCallError {
                operation,
                code: Some(DEADLINE_REACHED.into()),
                message: reached.to_string(),
            })
        })
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

    #[tokio::test]
    async fn a_call_cut_off_is_an_aws_call_error_with_one_code() {
        let d = Deadline::after(Duration::from_millis(100));
        let slow = async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<_, AwsCallError>(1)
        };
        let err = d
            .call(Duration::from_millis(50), "Publish", slow)
            .await
            .unwrap_err();
        assert_eq!(
            (err.operation, err.code.as_deref()),
            ("Publish", Some(DEADLINE_REACHED))
        );
        let fast = d.call(Duration::ZERO, "Publish", async {
            Ok::<_, AwsCallError>(2)
        });
        assert_eq!(fast.await.unwrap(), 2);
    }

    #[test]
    fn a_past_deadline_has_nothing_left() {
        let d = Deadline::from_epoch_millis(1_000);
        assert_eq!(d.remaining(), Duration::ZERO);
        assert!(d.is_near(Duration::from_millis(1)));
    }
}
