//! The guarded function's record and concurrency, every call bounded by the deadline.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use guardian::killswitch::record::{self, Concurrency, StopRecord};
use guardian::killswitch::settle::Snapshot;
use guardian_aws::deadline::Deadline;
use guardian_aws::error::AwsCallError;
use guardian_aws::lambda::Lambda;

use crate::error::KillSwitchError;

/// Kept free before Lambda's deadline so the invocation can still answer.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(500);

/// `work`, or a `DeadlineReached` error for `operation` once the margin is reached.
pub async fn bounded<T>(
    deadline: &Deadline,
    operation: &'static str,
    work: impl Future<Output = Result<T, AwsCallError>>,
) -> Result<T, AwsCallError> {
    deadline
        .bound(DEADLINE_MARGIN, work)
        .await
        .unwrap_or_else(|reached| {
            Err(AwsCallError {
                operation,
                code: Some("DeadlineReached".into()),
                message: reached.to_string(),
            })
        })
}

pub struct Guarded<'a> {
    pub lambda: &'a Lambda,
    pub name: &'a str,
    pub deadline: Deadline,
}

/// The function's tags as read, with its ARN for writing them.
pub struct Tags {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
}

impl Tags {
    pub fn record(&self) -> Result<Option<StopRecord>, KillSwitchError> {
        Ok(StopRecord::from_tags(&self.tags)?)
    }
}

impl Guarded<'_> {
    pub async fn tags(&self) -> Result<Tags, AwsCallError> {
        let t = bounded(
            &self.deadline,
            "GetFunction",
            self.lambda.function_tags(self.name),
        )
        .await?;
        Ok(Tags {
            arn: t.arn,
            tags: t.tags,
        })
    }

    pub async fn concurrency(&self) -> Result<Option<i32>, AwsCallError> {
        bounded(
            &self.deadline,
            "GetFunctionConcurrency",
            self.lambda.reserved_concurrency(self.name),
        )
        .await
    }

    /// Record and concurrency, read back.
    pub async fn snapshot(&self) -> Result<Snapshot, KillSwitchError> {
        let read_err = |source| KillSwitchError::Read {
            function: self.name.to_string(),
            source,
        };
        let tags = self.tags().await.map_err(read_err)?;
        let concurrency = self.concurrency().await.map_err(read_err)?;
        Ok(Snapshot {
            record: tags.record()?,
            concurrency,
        })
    }

    pub async fn set_concurrency(&self, value: Concurrency) -> Result<(), AwsCallError> {
        match value {
            Concurrency::Reserved(n) => {
                bounded(
                    &self.deadline,
                    "PutFunctionConcurrency",
                    self.lambda.put_reserved_concurrency(self.name, n),
                )
                .await
            }
            Concurrency::Unreserved => {
                bounded(
                    &self.deadline,
                    "DeleteFunctionConcurrency",
                    self.lambda.delete_reserved_concurrency(self.name),
                )
                .await
            }
        }
    }

    pub async fn write_record(&self, arn: &str, record: &StopRecord) -> Result<(), AwsCallError> {
        bounded(
            &self.deadline,
            "TagResource",
            self.lambda.tag(arn, &record.to_tags()),
        )
        .await
    }

    /// Leaves the note of what was restored, then removes the record (in that order, so a
    /// stop never sees neither).
    pub async fn clear_record(&self, arn: &str, restored: Concurrency) -> Result<(), AwsCallError> {
        let note = BTreeMap::from([(record::LAST_RESTORED.to_string(), restored.to_string())]);
        bounded(&self.deadline, "TagResource", self.lambda.tag(arn, &note)).await?;
        bounded(
            &self.deadline,
            "UntagResource",
            self.lambda.untag(arn, &record::RECORD_KEYS),
        )
        .await
    }
}
