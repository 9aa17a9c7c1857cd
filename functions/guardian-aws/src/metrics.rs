//! Decision metrics in CloudWatch Embedded Metric Format (EMF): one JSON line on stdout per
//! decision, which CloudWatch Logs turns into metrics with no API call from the function.
//! No maintained Rust EMF crate fits (Powertools has no Rust port), so this is the small
//! piece of the specification we need: one namespace, one low-cardinality dimension set.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value, json};

use crate::telemetry::EMF_TARGET;

pub const NAMESPACE: &str = "RolloutGuardian";
/// The EMF specification's limit on values in one metric array.
const MAX_SAMPLES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
    None,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
            Unit::None => "None",
        }
    }
}

/// One decision's metrics, dimensions and context properties.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    dimensions: Vec<(&'static str, String)>,
    /// A number, or an array of numbers (several samples of one metric).
    values: Vec<(&'static str, Value, Unit)>,
    properties: Map<String, Value>,
}

impl Metrics {
    /// Metrics of `function` (the `Function` dimension: one of our five names).
    pub fn new(function: &str) -> Self {
        Metrics {
            dimensions: vec![("Function", function.to_string())],
            values: Vec::new(),
            properties: Map::new(),
        }
    }

    /// Adds a dimension. Keep values few and fixed (a severity, a verdict), never ids.
    pub fn dimension(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.dimensions.push((name, value.into()));
        self
    }

    pub fn value(mut self, name: &'static str, value: f64, unit: Unit) -> Self {
        self.values.push((name, json!(value), unit));
        self
    }

    /// Several samples of one metric (EMF allows up to 100 values in an array). No samples,
    /// no metric: an empty array is not valid EMF.
    pub fn samples(mut self, name: &'static str, samples: &[f64], unit: Unit) -> Self {
        if !samples.is_empty() {
            let capped: Vec<f64> = samples.iter().take(MAX_SAMPLES).copied().collect();
            self.values.push((name, json!(capped), unit));
        }
        self
    }

    pub fn count(self, name: &'static str, value: u64) -> Self {
        self.value(name, value as f64, Unit::Count)
    }

    /// Searchable context that is not a metric (request id, deployment id, ...).
    pub fn property(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.properties.insert(key.to_string(), value.into());
        self
    }

    /// `ColdStart` = 1 on the first decision of this process, 0 after.
    pub fn with_cold_start(self) -> Self {
        static WARM: AtomicBool = AtomicBool::new(false);
        let cold = !WARM.swap(true, Ordering::Relaxed);
        self.count("ColdStart", u64::from(cold))
    }

    /// The EMF document for `timestamp_ms` (milliseconds since the epoch).
    pub fn document(&self, timestamp_ms: i64) -> Value {
        let mut root = self.properties.clone();
        for (name, value) in &self.dimensions {
            root.insert((*name).to_string(), Value::String(value.clone()));
        }
        for (name, value, _) in &self.values {
            root.insert((*name).to_string(), value.clone());
        }
        let dimension_set: Vec<&str> = self.dimensions.iter().map(|(n, _)| *n).collect();
        let metrics: Vec<Value> = self
            .values
            .iter()
            .map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [dimension_set],
                    "Metrics": metrics,
                }]
            }),
        );
        Value::Object(root)
    }

    /// Writes the document as one bare JSON line on stdout (through the subscriber
    /// `telemetry::init` installs), where Lambda's log capture picks it up.
    pub fn emit(&self) {
        if self.values.is_empty() {
            return;
        }
        let now = chrono::Utc::now().timestamp_millis();
        let document = self.document(now).to_string();
        // The field is `EMF_FIELD` ("emf"); the macro takes a constant name only with a message.
        tracing::info!(target: EMF_TARGET, emf = document.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The EMF specification's required shape: `_aws.Timestamp` (ms) and
    /// `_aws.CloudWatchMetrics[]` of `{Namespace, Dimensions: [[names]], Metrics: [{Name, Unit}]}`,
    /// every dimension and metric name present at the root, metric values numbers.
    fn assert_valid_emf(doc: &Value) {
        let aws = &doc["_aws"];
        assert!(
            aws["Timestamp"].is_i64(),
            "Timestamp is integer milliseconds"
        );
        for directive in aws["CloudWatchMetrics"]
            .as_array()
            .expect("CloudWatchMetrics array")
        {
            assert!(
                directive["Namespace"]
                    .as_str()
                    .is_some_and(|n| !n.is_empty())
            );
            for set in directive["Dimensions"]
                .as_array()
                .expect("Dimensions array")
            {
                let set = set.as_array().expect("a dimension set is an array");
                assert!(!set.is_empty() && set.len() <= 30);
                for name in set {
                    assert!(
                        doc[name.as_str().expect("dimension name")].is_string(),
                        "dimension {name} at root"
                    );
                }
            }
            let metrics = directive["Metrics"].as_array().expect("Metrics array");
            assert!(metrics.len() <= 100);
            for m in metrics {
                let name = m["Name"].as_str().expect("metric Name");
                let value = &doc[name];
                let numbers = value.is_number()
                    || value.as_array().is_some_and(|a| {
                        !a.is_empty() && a.len() <= 100 && a.iter().all(Value::is_number)
                    });
                assert!(numbers, "metric {name} value at root: a number or numbers");
                assert!(m["Unit"].is_string());
            }
        }
    }

    #[test]
    fn document_has_the_emf_shape() {
        let doc = Metrics::new("alarm-fanout")
            .dimension("Severity", "critical")
            .count("AlertsPublished", 3)
            .value("PublishLatency", 12.5, Unit::Milliseconds)
            .property("requestId", "abc")
            .document(1_700_000_000_000);
        assert_valid_emf(&doc);
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function", "Severity"]])
        );
        assert_eq!(doc["AlertsPublished"], json!(3.0));
        assert_eq!(doc["Function"], "alarm-fanout");
        assert_eq!(doc["requestId"], "abc");
    }

    #[test]
    fn samples_are_an_array_and_none_means_no_metric() {
        let doc = Metrics::new("pre-traffic-hook")
            .samples("ProbeLatency", &[12.0, 30.0], Unit::Milliseconds)
            .samples("Nothing", &[], Unit::Milliseconds)
            .document(0);
        assert_valid_emf(&doc);
        assert_eq!(doc["ProbeLatency"], json!([12.0, 30.0]));
        assert!(doc.get("Nothing").is_none());
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "ProbeLatency", "Unit": "Milliseconds"}])
        );
    }

    #[test]
    fn cold_start_is_counted_once_per_process() {
        let first = Metrics::new("kill-switch").with_cold_start().document(0);
        let second = Metrics::new("kill-switch").with_cold_start().document(0);
        assert_eq!(first["ColdStart"], json!(1.0));
        assert_eq!(second["ColdStart"], json!(0.0));
    }
}
