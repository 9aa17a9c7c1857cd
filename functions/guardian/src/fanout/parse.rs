//! Normalising the four input shapes (DESIGN §3) into [`Alert`]s. Payloads are read as
//! loose JSON, field by field, because real ones are messy: `AlarmDescription: null`,
//! `reasonData` that is not JSON, timestamps with stray spaces. Nothing is ever dropped: what
//! no parser recognises becomes an `unparsed` alert carrying the raw payload.

use serde_json::Value;

use super::alert::{Alert, Source};
use crate::guarded::alarm_function;

const ALARM_STATE_CHANGE: &str = "CloudWatch Alarm State Change";
const DEPLOYMENT_STATE_CHANGE: &str = "CodeDeploy Deployment State-change Notification";

/// Identifying fields longer than this are cut: real ones are short (alarm names are at most
/// 255 characters), and rendering can only shorten the long free-text fields.
pub const MAX_IDENTITY_CHARS: usize = 1024;
/// Children listed for a composite alarm; the rest are counted.
pub const MAX_TRIGGERING_ALARMS: usize = 50;

/// One alert per SNS record, or one alert for any other event.
pub fn normalise(event: &Value) -> Vec<Alert> {
    let alerts = match event.get("Records").and_then(Value::as_array) {
        Some(records) if !records.is_empty() => records.iter().map(from_record).collect(),
        _ => vec![from_document(event).unwrap_or_else(|| unparsed(raw_text(event)))],
    };
    alerts.into_iter().map(bounded).collect()
}

/// `alert` with its identifying fields and child list cut to sizes any rendering can hold
/// (found by the property tests: a 300 KB `AlarmName` made a message SNS refuses).
fn bounded(alert: Alert) -> Alert {
    let cut = |s: String| {
        if s.chars().count() <= MAX_IDENTITY_CHARS {
            return s;
        }
        let mut kept: String = s.chars().take(MAX_IDENTITY_CHARS - 3).collect();
        kept.push_str("...");
        kept
    };
    let cut_opt = |s: Option<String>| s.map(cut);
    let mut children = alert.triggering_alarms;
    if children.len() > MAX_TRIGGERING_ALARMS {
        let more = children.len() - (MAX_TRIGGERING_ALARMS - 1);
        children.truncate(MAX_TRIGGERING_ALARMS - 1);
        children.push(format!("... and {more} more"));
    }
    Alert {
        name: cut(alert.name),
        state: cut(alert.state),
        previous_state: cut_opt(alert.previous_state),
        arn: cut_opt(alert.arn),
        account: cut_opt(alert.account),
        region: cut_opt(alert.region),
        time: cut_opt(alert.time),
        actions_suppressed_by: cut_opt(alert.actions_suppressed_by),
        deployment_id: cut_opt(alert.deployment_id),
        original_subject: cut_opt(alert.original_subject),
        triggering_alarms: children.into_iter().map(cut).collect(),
        ..alert
    }
}

/// An SNS record's `Message` (the classic alarm JSON, an EventBridge event routed via SNS, a
/// CodeDeploy trigger); any other record is kept raw, with the subject it was sent with.
fn from_record(record: &Value) -> Alert {
    let Some(message) = record.pointer("/Sns/Message").and_then(Value::as_str) else {
        return unparsed(raw_text(record));
    };
    serde_json::from_str::<Value>(message)
        .ok()
        .and_then(|doc| from_document(&doc))
        .unwrap_or_else(|| Alert {
            original_subject: text(record, "/Sns/Subject"),
            ..unparsed(message.to_string())
        })
}

/// A single document in one of the known shapes, or `None`.
pub fn from_document(doc: &Value) -> Option<Alert> {
    if doc.get("AlarmName").is_some() {
        return Some(classic_alarm(doc));
    }
    // The Lambda alarm action puts the alarm under `alarmData`; EventBridge under `detail`.
    if let Some(data) = doc.get("alarmData").filter(|d| d.is_object()) {
        return Some(alarm_data(doc, data));
    }
    if doc.get("eventTriggerName").is_some() && doc.get("deploymentId").is_some() {
        return Some(trigger(doc));
    }
    match text(doc, "/detail-type").as_deref() {
        Some(ALARM_STATE_CHANGE) => doc.get("detail").map(|d| alarm_data(doc, d)),
        Some(DEPLOYMENT_STATE_CHANGE) => doc.get("detail").map(|d| deployment(doc, d)),
        _ => None,
    }
}

/// The payload as text: strings as they are, anything else as compact JSON.
pub fn raw_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn unparsed(raw: String) -> Alert {
    Alert {
        source: Source::Unparsed,
        name: "unparsed".into(),
        state: "UNKNOWN".into(),
        reason: "rollout-guardian received a payload it does not recognise; it is attached raw"
            .into(),
        raw: Some(raw),
        ..Alert::default()
    }
}

/// The JSON CloudWatch publishes to an SNS alarm action.
fn classic_alarm(doc: &Value) -> Alert {
    let trigger = doc.get("Trigger");
    Alert {
        source: Source::Cloudwatch,
        name: text(doc, "/AlarmName").unwrap_or_else(|| "unnamed alarm".into()),
        state: text(doc, "/NewStateValue").unwrap_or_else(|| "UNKNOWN".into()),
        previous_state: text(doc, "/OldStateValue"),
        reason: text(doc, "/NewStateReason").unwrap_or_default(),
        description: text(doc, "/AlarmDescription"),
        arn: text(doc, "/AlarmArn"),
        account: text(doc, "/AWSAccountId"),
        region: text(doc, "/Region"),
        time: text(doc, "/StateChangeTime"),
        trigger: trigger
            .and_then(classic_trigger)
            .or_else(|| text(doc, "/AlarmRule").map(|r| format!("rule: {r}"))),
        function: trigger.and_then(classic_function),
        triggering_alarms: doc
            .get("TriggeringChildren")
            .and_then(Value::as_array)
            .map(|children| {
                children
                    .iter()
                    .filter_map(|c| text(c, "/Arn").or_else(|| text(c, "/arn")))
                    .map(|arn| alarm_name_from_arn(&arn))
                    .collect()
            })
            .unwrap_or_default(),
        ..Alert::default()
    }
}

/// `Trigger` of a classic alarm: a single metric, or `Metrics` (metric math).
fn classic_trigger(trigger: &Value) -> Option<String> {
    let condition = match (
        text(trigger, "/ComparisonOperator"),
        text(trigger, "/Threshold"),
    ) {
        (Some(op), Some(threshold)) => format!(" {op} {threshold}"),
        _ => String::new(),
    };
    if let Some(metric) = text(trigger, "/MetricName") {
        let namespace = text(trigger, "/Namespace").unwrap_or_default();
        let stat = text(trigger, "/Statistic")
            .or_else(|| text(trigger, "/ExtendedStatistic"))
            .unwrap_or_default();
        let dims = dimensions(trigger.get("Dimensions"));
        return Some(
            format!("{namespace} {metric}{dims} {stat}{condition}")
                .trim()
                .to_string(),
        );
    }
    let metrics = trigger.get("Metrics")?.as_array()?;
    let parts: Vec<String> = metrics
        .iter()
        .map(|m| {
            let id = text(m, "/Id").unwrap_or_default();
            match text(m, "/Expression") {
                Some(expr) => format!("{id} = {expr}"),
                None => {
                    let metric = m.pointer("/MetricStat/Metric");
                    let ns = metric
                        .and_then(|x| text(x, "/Namespace"))
                        .unwrap_or_default();
                    let name = metric
                        .and_then(|x| text(x, "/MetricName"))
                        .unwrap_or_default();
                    let dims = dimensions(metric.and_then(|x| x.get("Dimensions")));
                    let stat = text(m, "/MetricStat/Stat").unwrap_or_default();
                    format!("{id} = {ns} {name}{dims} {stat}")
                        .trim()
                        .to_string()
                }
            }
        })
        .collect();
    Some(format!("metric math: {}{condition}", parts.join("; ")))
}

/// `alarmData` of the Lambda alarm action, or `detail` of the EventBridge event.
fn alarm_data(envelope: &Value, data: &Value) -> Alert {
    let reason_data = text(data, "/state/reasonData");
    Alert {
        source: Source::Cloudwatch,
        name: text(data, "/alarmName").unwrap_or_else(|| "unnamed alarm".into()),
        state: text(data, "/state/value").unwrap_or_else(|| "UNKNOWN".into()),
        previous_state: text(data, "/previousState/value"),
        reason: text(data, "/state/reason").unwrap_or_default(),
        description: text(data, "/configuration/description"),
        arn: text(envelope, "/alarmArn").or_else(|| text(envelope, "/resources/0")),
        account: text(envelope, "/accountId").or_else(|| text(envelope, "/account")),
        region: text(envelope, "/region"),
        time: text(data, "/state/timestamp").or_else(|| text(envelope, "/time")),
        trigger: text(data, "/configuration/alarmRule")
            .map(|rule| format!("rule: {rule}"))
            .or_else(|| {
                data.pointer("/configuration/metrics")
                    .and_then(Value::as_array)
                    .map(|m| modern_metrics(m))
            }),
        // `reasonData` is a JSON string that is sometimes not valid JSON: then there are
        // simply no children to list; the reason text still says what happened.
        triggering_alarms: reason_data
            .and_then(|raw| serde_json::from_str::<Value>(&raw).ok())
            .and_then(|rd| rd.get("triggeringAlarms").cloned())
            .and_then(|t| t.as_array().cloned())
            .map(|children| {
                children
                    .iter()
                    .filter_map(|c| text(c, "/arn"))
                    .map(|arn| alarm_name_from_arn(&arn))
                    .collect()
            })
            .unwrap_or_default(),
        actions_suppressed_by: text(data, "/state/actionsSuppressedBy"),
        function: alarm_function(data),
        ..Alert::default()
    }
}

/// `configuration.metrics` of the alarm action / EventBridge shapes.
fn modern_metrics(metrics: &[Value]) -> String {
    let parts: Vec<String> = metrics
        .iter()
        .map(|m| {
            let id = text(m, "/id").unwrap_or_default();
            match text(m, "/expression") {
                Some(expr) => format!("{id} = {expr}"),
                None => {
                    let metric = m.pointer("/metricStat/metric");
                    let ns = metric
                        .and_then(|x| text(x, "/namespace"))
                        .unwrap_or_default();
                    let name = metric.and_then(|x| text(x, "/name")).unwrap_or_default();
                    let dims = metric
                        .and_then(|x| x.get("dimensions"))
                        .and_then(Value::as_object)
                        .map(|d| {
                            let kv: Vec<String> = d
                                .iter()
                                .map(|(k, v)| format!("{k}={}", raw_text(v)))
                                .collect();
                            format!(" [{}]", kv.join(", "))
                        })
                        .unwrap_or_default();
                    let stat = text(m, "/metricStat/stat").unwrap_or_default();
                    format!("{id} = {ns} {name}{dims} {stat}")
                        .trim()
                        .to_string()
                }
            }
        })
        .collect();
    if metrics.len() == 1 {
        // A single metric: the id is noise.
        parts[0]
            .split_once(" = ")
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_else(|| parts[0].clone())
    } else {
        format!("metric math: {}", parts.join("; "))
    }
}

/// The `FunctionName` dimension of a classic trigger's metric (or of its first metric-math
/// metric that has one); dimensions are `{"name", "value"}` there, as `dimensions` reads them.
fn classic_function(trigger: &Value) -> Option<String> {
    let of = |dims: Option<&Value>| {
        dims.and_then(Value::as_array)?
            .iter()
            .find(|d| text(d, "/name").as_deref() == Some("FunctionName"))
            .and_then(|d| text(d, "/value"))
    };
    of(trigger.get("Dimensions")).or_else(|| {
        trigger
            .get("Metrics")?
            .as_array()?
            .iter()
            .find_map(|m| of(m.pointer("/MetricStat/Metric/Dimensions")))
    })
}

/// Classic dimensions `[{"name","value"}]` as ` [name=value, ...]`.
fn dimensions(dims: Option<&Value>) -> String {
    let Some(list) = dims.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        return String::new();
    };
    let kv: Vec<String> = list
        .iter()
        .map(|d| {
            format!(
                "{}={}",
                text(d, "/name").unwrap_or_default(),
                text(d, "/value").unwrap_or_default()
            )
        })
        .collect();
    format!(" [{}]", kv.join(", "))
}

/// `arn:aws:cloudwatch:region:account:alarm:Name` -> `Name` (names may contain colons).
pub fn alarm_name_from_arn(arn: &str) -> String {
    arn.split_once(":alarm:")
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| arn.to_string())
}

/// A non-empty scalar at `pointer`, as text (`null` and `""` count as absent).
fn text(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

mod deployment;
use deployment::{deployment, trigger};

#[cfg(test)]
mod tests;
