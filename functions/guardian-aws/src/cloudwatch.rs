//! CloudWatch alarms: reading the current state of named alarms.

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{AlarmType, Dimension, MetricAlarm};

use crate::error::AwsCallError;
use crate::on_first_use::OnFirstUse;

/// DescribeAlarms accepts at most 100 names per call.
const NAMES_PER_CALL: usize = 100;

/// An alarm's name and state (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmState {
    pub name: String,
    pub state: String,
    /// The Lambda function its metric names (dimension `FunctionName`; for metric math, the
    /// first metric that has one); `None` for composite alarms and other metrics.
    pub function: Option<String>,
}

/// Which kind of alarm to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmKind {
    Metric,
    Composite,
}

#[derive(Debug, Clone)]
pub struct CloudWatch {
    client: OnFirstUse<Client>,
}

impl CloudWatch {
    pub fn new(client: Client) -> Self {
        CloudWatch {
            client: OnFirstUse::ready(client),
        }
    }

    /// The adapter over a client built from the function's shared SDK configuration.
    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        CloudWatch {
            client: OnFirstUse::from_sdk(sdk, "cloudwatch", Client::new),
        }
    }

    /// The states of the alarms among `names` of one kind. Names with no alarm are simply
    /// absent from the answer; callers decide what a missing alarm means. Only the kind asked
    /// for is requested: on AWS, asking for composite alarms needs `cloudwatch:DescribeAlarms`
    /// on `*` (DescribeAlarms API reference), while metric alarms can be read with a grant
    /// scoped to their ARNs.
    pub async fn alarm_states(
        &self,
        names: &[String],
        kind: AlarmKind,
    ) -> Result<Vec<AlarmState>, AwsCallError> {
        let kind = match kind {
            AlarmKind::Metric => AlarmType::MetricAlarm,
            AlarmKind::Composite => AlarmType::CompositeAlarm,
        };
        let mut states = Vec::new();
        for chunk in names.chunks(NAMES_PER_CALL) {
            let mut next_token = None;
            loop {
                let out = self
                    .client
                    .get()
                    .describe_alarms()
                    .set_alarm_names(Some(chunk.to_vec()))
                    .alarm_types(kind.clone())
                    .set_next_token(next_token)
                    .send()
                    .await
                    .map_err(|e| AwsCallError::from_sdk("DescribeAlarms", e))?;
                let metric = out
                    .metric_alarms()
                    .iter()
                    .map(|a| (a.alarm_name(), a.state_value(), metric_function(a)));
                let composite = out
                    .composite_alarms()
                    .iter()
                    .map(|a| (a.alarm_name(), a.state_value(), None));
                states.extend(
                    metric
                        .chain(composite)
                        .filter_map(|(name, state, function)| {
                            Some(AlarmState {
                                name: name?.to_string(),
                                state: state.map(|s| s.as_str().to_string()).unwrap_or_default(),
                                function,
                            })
                        }),
                );
                next_token = out.next_token;
                if next_token.is_none() {
                    break;
                }
            }
        }
        Ok(states)
    }
}

/// The `FunctionName` dimension of a metric alarm's metric, or of its metric math's first
/// metric that has one.
fn metric_function(alarm: &MetricAlarm) -> Option<String> {
    let of = |dims: &[Dimension]| {
        dims.iter()
            .find(|d| d.name() == Some("FunctionName"))
            .and_then(|d| d.value().map(str::to_string))
    };
    of(alarm.dimensions()).or_else(|| {
        alarm.metrics().iter().find_map(|m| {
            m.metric_stat()
                .and_then(|s| s.metric())
                .and_then(|metric| of(metric.dimensions()))
        })
    })
}
