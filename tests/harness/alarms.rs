//! CloudWatch alarms as the tests make and move them.

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, HistoryItemType, MetricDatum, StateValue, Statistic,
};

/// PutMetricAlarm of alarm `name` on a function's errors: `AWS/Lambda` `Errors`, Sum over 60 s,
/// one period, `> 1`; the caller changes what its alarm needs (operator, period, dimensions,
/// actions) and sends it.
pub fn errors_alarm(cfg: &SdkConfig, name: &str) -> PutMetricAlarmFluentBuilder {
    aws_sdk_cloudwatch::Client::new(cfg)
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/Lambda")
        .metric_name("Errors")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
}

/// PutMetricData of one `AWS/Lambda` `Errors` datapoint with `dimensions`, as Lambda reports
/// a function's errors.
pub async fn put_errors(cfg: &SdkConfig, dimensions: Vec<Dimension>, value: f64) {
    let datum = MetricDatum::builder()
        .metric_name("Errors")
        .set_dimensions((!dimensions.is_empty()).then_some(dimensions))
        .value(value)
        .build();
    aws_sdk_cloudwatch::Client::new(cfg)
        .put_metric_data()
        .namespace("AWS/Lambda")
        .metric_data(datum)
        .send()
        .await
        .expect("PutMetricData");
}

/// SetAlarmState, as an operator (or a drill) forces an alarm.
pub async fn set_alarm_state(cfg: &SdkConfig, name: &str, state: StateValue, reason: &str) {
    aws_sdk_cloudwatch::Client::new(cfg)
        .set_alarm_state()
        .alarm_name(name)
        .state_value(state)
        .state_reason(reason)
        .send()
        .await
        .expect("SetAlarmState");
}

/// The alarm's history summaries of one kind, newest first.
pub async fn alarm_history(
    cfg: &SdkConfig,
    name: &str,
    kind: HistoryItemType,
) -> Result<Vec<String>, String> {
    let out = aws_sdk_cloudwatch::Client::new(cfg)
        .describe_alarm_history()
        .alarm_name(name)
        .history_item_type(kind)
        .send()
        .await
        .map_err(|e| aws_smithy_types::error::display::DisplayErrorContext(&e).to_string())?;
    Ok(out
        .alarm_history_items
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| i.history_summary)
        .collect())
}
