//! The guarded function's record and concurrency, every call bounded by the deadline.

use std::collections::BTreeMap;
use std::time::Duration;

use guardian::killswitch::record::{self, Concurrency, StopRecord};
use guardian::killswitch::settle::Snapshot;
use guardian_aws::deadline::Deadline;
use guardian_aws::error::AwsCallError;

use crate::error::KillSwitchError;
use crate::ports::FunctionSettings;

/// Kept free before Lambda's deadline so the invocation can still answer.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(500);

pub struct Guarded<'a, L> {
    pub lambda: &'a L,
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

impl<L: FunctionSettings> Guarded<'_, L> {
    pub async fn tags(&self) -> Result<Tags, AwsCallError> {
        let read = self.lambda.function_tags(self.name);
        let t = self
            .deadline
            .call(DEADLINE_MARGIN, "GetFunction", read)
            .await?;
        Ok(Tags {
            arn: t.arn,
            tags: t.tags,
        })
    }

    pub async fn concurrency(&self) -> Result<Option<i32>, AwsCallError> {
        let read = self.lambda.reserved_concurrency(self.name);
        self.deadline
            .call(DEADLINE_MARGIN, "GetFunctionConcurrency", read)
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
        let (d, name) = (&self.deadline, self.name);
        match value {
            Concurrency::Reserved(n) => {
                let put = self.lambda.put_reserved_concurrency(name, n);
                d.call(DEADLINE_MARGIN, "PutFunctionConcurrency", put).await
            }
            Concurrency::Unreserved => {
                let delete = self.lambda.delete_reserved_concurrency(name);
                d.call(DEADLINE_MARGIN, "DeleteFunctionConcurrency", delete)
                    .await
            }
        }
    }

    pub async fn write_record(&self, arn: &str, record: &StopRecord) -> Result<(), AwsCallError> {
        let tags = record.to_tags();
        let tag = self.lambda.tag(arn, &tags);
        self.deadline
            .call(DEADLINE_MARGIN, "TagResource", tag)
            .await
    }

    /// Leaves the note of what was restored, then removes the record (in that order, so a
    /// stop never sees neither).
    pub async fn clear_record(&self, arn: &str, restored: Concurrency) -> Result<(), AwsCallError> {
        let note = BTreeMap::from([(record::LAST_RESTORED.to_string(), restored.to_string())]);
        let tag = self.lambda.tag(arn, &note);
        self.deadline
            .call(DEADLINE_MARGIN, "TagResource", tag)
            .await?;
        let untag = self.lambda.untag(arn, &record::RECORD_KEYS);
        self.deadline
            .call(DEADLINE_MARGIN, "UntagResource", untag)
            .await
    }
}

#[cfg(test)]
mod tests;
