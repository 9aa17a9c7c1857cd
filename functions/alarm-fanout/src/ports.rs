//! The one service delivery needs, behind a narrow port: the SNS adapter in production, an
//! in-memory fake in the delivery tests.

use guardian::publication::Publication;
use guardian_aws::error::AwsCallError;
use guardian_aws::sns::{RejectedEntry, Sns};

pub(crate) trait Publisher {
    /// `PublishBatch` of up to 10 `(id, publication)` entries to one topic: the entries SNS
    /// refused (empty when all went out), or the error of the whole call.
    async fn publish_batch(
        &self,
        topic: &str,
        entries: &[(String, Publication)],
    ) -> Result<Vec<RejectedEntry>, AwsCallError>;
}

impl Publisher for Sns {
    async fn publish_batch(
        &self,
        topic: &str,
        entries: &[(String, Publication)],
    ) -> Result<Vec<RejectedEntry>, AwsCallError> {
        Sns::publish_batch(self, topic, entries).await
    }
}
