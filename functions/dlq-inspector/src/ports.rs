//! The services a DLQ run calls, each behind a narrow port: the guardian_aws adapters in
//! production, in-memory fakes in the unit tests. A port call is raw; the flows bound each
//! one by the deadline.

use std::time::Duration;

use guardian::publication::Publication;
use guardian::queue::{QueueDepth, ReceivedMessage};
use guardian_aws::error::AwsCallError;
use guardian_aws::lambda::Lambda;
use guardian_aws::sns::Sns;
use guardian_aws::sqs::{BatchEntry, BatchEntryFailure, Sqs};

use crate::config::Config;

/// What the flows work with: the configuration and each service behind its port.
pub trait Ports {
    type Sqs: Queues;
    type Lambda: Functions;
    type Sns: Topics;
    fn config(&self) -> &Config;
    fn sqs(&self) -> &Self::Sqs;
    fn lambda(&self) -> &Self::Lambda;
    fn sns(&self) -> &Self::Sns;
}

/// The dead-letter queue, and the source queue a redrive may send to.
pub trait Queues {
    async fn depth(&self, queue_url: &str) -> Result<QueueDepth, AwsCallError>;
    async fn receive(
        &self,
        queue_url: &str,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, AwsCallError>;
    async fn change_visibility_batch(
        &self,
        queue_url: &str,
        entries: &[BatchEntry],
        visibility: Duration,
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError>;
    async fn delete_batch(
        &self,
        queue_url: &str,
        entries: &[BatchEntry],
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError>;
    async fn send_batch(
        &self,
        queue_url: &str,
        entries: &[BatchEntry],
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError>;
}

/// The function a redrive re-invokes.
pub trait Functions {
    async fn invoke_async(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &[u8],
    ) -> Result<(), AwsCallError>;
    async fn reserved_concurrency(&self, function: &str) -> Result<Option<i32>, AwsCallError>;
}

/// The topic the report goes to.
pub trait Topics {
    async fn publish(&self, topic_arn: &str, p: &Publication) -> Result<String, AwsCallError>;
}

impl Queues for Sqs {
    async fn depth(&self, queue_url: &str) -> Result<QueueDepth, AwsCallError> {
        Sqs::depth(self, queue_url).await
    }
    async fn receive(
        &self,
        queue_url: &str,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, AwsCallError> {
        Sqs::receive(self, queue_url, max, visibility, wait).await
    }
    async fn change_visibility_batch(
        &self,
        queue_url: &str,
        entries: &[BatchEntry],
        visibility: Duration,
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError> {
        Sqs::change_visibility_batch(self, queue_url, entries, visibility).await
    }
    async fn delete_batch(
        &self,
        queue_url: &str,
        entries: &[BatchEntry],
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError> {
        Sqs::delete_batch(self, queue_url, entries).await
    }
    async fn send_batch(
        &self,
        queue_url: &str,
        entries: &[BatchEntry],
    ) -> Result<Vec<BatchEntryFailure>, AwsCallError> {
        Sqs::send_batch(self, queue_url, entries).await
    }
}

impl Functions for Lambda {
    async fn invoke_async(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &[u8],
    ) -> Result<(), AwsCallError> {
        Lambda::invoke_async(self, function, qualifier, payload).await
    }
    async fn reserved_concurrency(&self, function: &str) -> Result<Option<i32>, AwsCallError> {
        Lambda::reserved_concurrency(self, function).await
    }
}

impl Topics for Sns {
    async fn publish(&self, topic_arn: &str, p: &Publication) -> Result<String, AwsCallError> {
        Sns::publish(self, topic_arn, p).await
    }
}
