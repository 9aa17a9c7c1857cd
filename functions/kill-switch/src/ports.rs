//! The services the kill switch calls, each behind a narrow port: the guardian_aws adapters
//! in production, in-memory fakes in the unit tests. A port call is raw; `Guarded` and the
//! side effects bound each one by the deadline.

use std::collections::BTreeMap;

use guardian::publication::Publication;
use guardian::queue::QueueDepth;
use guardian_aws::codedeploy::{CodeDeploy, InFlight};
use guardian_aws::error::AwsCallError;
use guardian_aws::lambda::{FunctionTags, Lambda};
use guardian_aws::scheduler::{Scheduler, StateChange};
use guardian_aws::sns::Sns;
use guardian_aws::sqs::Sqs;

use crate::config::Config;

/// What the flows work with: the configuration and each service behind its port.
pub trait Ports {
    type Lambda: FunctionSettings;
    type CodeDeploy: Deployments;
    type Scheduler: Schedules;
    type Sns: Alerts;
    type Sqs: Backlog;
    fn config(&self) -> &Config;
    fn lambda(&self) -> &Self::Lambda;
    fn codedeploy(&self) -> &Self::CodeDeploy;
    fn scheduler(&self) -> &Self::Scheduler;
    fn sns(&self) -> &Self::Sns;
    fn sqs(&self) -> &Self::Sqs;
}

/// The guarded function's two settings: its tags (the stop record) and its reserved
/// concurrency.
pub trait FunctionSettings {
    async fn function_tags(&self, function: &str) -> Result<FunctionTags, AwsCallError>;
    async fn reserved_concurrency(&self, function: &str) -> Result<Option<i32>, AwsCallError>;
    async fn put_reserved_concurrency(&self, function: &str, n: i32) -> Result<(), AwsCallError>;
    async fn delete_reserved_concurrency(&self, function: &str) -> Result<(), AwsCallError>;
    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), AwsCallError>;
    async fn untag(&self, arn: &str, keys: &[&str]) -> Result<(), AwsCallError>;
}

/// The guarded function's CodeDeploy deployments.
pub trait Deployments {
    async fn in_flight_deployments(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Vec<InFlight>, AwsCallError>;
    async fn stop_deployment(&self, id: &str, auto_rollback: bool) -> Result<(), AwsCallError>;
}

/// The guarded functions' EventBridge schedules.
pub trait Schedules {
    /// Only when the schedule invokes `for_function`, if given.
    async fn set_enabled(
        &self,
        group: Option<&str>,
        name: &str,
        enabled: bool,
        for_function: Option<&str>,
    ) -> Result<StateChange, AwsCallError>;
}

/// The critical alert topic.
pub trait Alerts {
    async fn publish(&self, topic_arn: &str, p: &Publication) -> Result<String, AwsCallError>;
}

/// The guarded function's dead-letter queue, whose backlog a resume reports.
pub trait Backlog {
    async fn depth(&self, queue_url: &str) -> Result<QueueDepth, AwsCallError>;
}

impl FunctionSettings for Lambda {
    async fn function_tags(&self, function: &str) -> Result<FunctionTags, AwsCallError> {
        Lambda::function_tags(self, function).await
    }
    async fn reserved_concurrency(&self, function: &str) -> Result<Option<i32>, AwsCallError> {
        Lambda::reserved_concurrency(self, function).await
    }
    async fn put_reserved_concurrency(&self, function: &str, n: i32) -> Result<(), AwsCallError> {
        Lambda::put_reserved_concurrency(self, function, n).await
    }
    async fn delete_reserved_concurrency(&self, function: &str) -> Result<(), AwsCallError> {
        Lambda::delete_reserved_concurrency(self, function).await
    }
    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), AwsCallError> {
        Lambda::tag(self, arn, tags).await
    }
    async fn untag(&self, arn: &str, keys: &[&str]) -> Result<(), AwsCallError> {
        Lambda::untag(self, arn, keys).await
    }
}

impl Deployments for CodeDeploy {
    async fn in_flight_deployments(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Vec<InFlight>, AwsCallError> {
        CodeDeploy::in_flight_deployments(self, application, group).await
    }
    async fn stop_deployment(&self, id: &str, auto_rollback: bool) -> Result<(), AwsCallError> {
        CodeDeploy::stop_deployment(self, id, auto_rollback).await
    }
}

impl Schedules for Scheduler {
    async fn set_enabled(
        &self,
        group: Option<&str>,
        name: &str,
        enabled: bool,
        for_function: Option<&str>,
    ) -> Result<StateChange, AwsCallError> {
        Scheduler::set_enabled(self, group, name, enabled, for_function).await
    }
}

impl Alerts for Sns {
    async fn publish(&self, topic_arn: &str, p: &Publication) -> Result<String, AwsCallError> {
        Sns::publish(self, topic_arn, p).await
    }
}

impl Backlog for Sqs {
    async fn depth(&self, queue_url: &str) -> Result<QueueDepth, AwsCallError> {
        Sqs::depth(self, queue_url).await
    }
}
