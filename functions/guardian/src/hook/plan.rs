//! The smoke plan: which probes to send to the new version and what each answer must look
//! like. Parsed once at cold start; every error names the probe and the field to fix.

use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Value, json};

/// Retries are for flaky probes, not for hiding a bad build.
pub const MAX_RETRIES: u32 = 10;
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF_MS: u64 = 60_000;

#[derive(Debug, Clone)]
pub struct SmokePlan {
    pub probes: Vec<Probe>,
}

#[derive(Debug, Clone)]
pub struct Probe {
    pub name: String,
    /// Sent as the invoke payload.
    pub payload: Value,
    pub expect: Expectations,
    /// Extra attempts after a failed one; the probe passes if any attempt passes.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
}

#[derive(Debug, Clone)]
pub struct Expectations {
    pub no_function_error: bool,
    pub max_latency: Option<Duration>,
    pub json: Vec<JsonCheck>,
}

/// One check of the response payload at an RFC 6901 JSON pointer.
#[derive(Debug, Clone)]
pub struct JsonCheck {
    pub pointer: String,
    pub test: JsonTest,
}

#[derive(Debug, Clone)]
pub enum JsonTest {
    Equals(Value),
    /// `true`: the pointer must resolve; `false`: it must not.
    Exists(bool),
    /// The value (a string as is, anything else as compact JSON) must match.
    Matches(Regex),
}

/// A plan that cannot be used, located as precisely as the input allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}field {field}: {problem}", probe.as_deref().map(|p| format!("probe {p}, ")).unwrap_or_default())]
pub struct PlanError {
    /// `#1 "smoke"`: position (1-based) and name when known.
    pub probe: Option<String>,
    pub field: String,
    pub problem: String,
}

impl Default for SmokePlan {
    /// One probe `{"smoke_test": true}` expecting no FunctionError (DESIGN.md §2).
    fn default() -> Self {
        SmokePlan {
            probes: vec![Probe {
                name: "smoke".into(),
                payload: default_payload(),
                expect: Expectations {
                    no_function_error: true,
                    max_latency: None,
                    json: Vec::new(),
                },
                retries: 0,
                backoff: DEFAULT_BACKOFF,
            }],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    probes: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    name: String,
    #[serde(default = "default_payload")]
    payload: Value,
    #[serde(default)]
    expect: Option<Value>,
    #[serde(default)]
    retries: u32,
    #[serde(default)]
    backoff_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpectations {
    #[serde(default = "yes")]
    no_function_error: bool,
    #[serde(default)]
    max_latency_ms: Option<u64>,
    #[serde(default)]
    json: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    pointer: String,
    // `"equals": null` is a real expectation, so presence is tracked separately from null.
    #[serde(default, deserialize_with = "present")]
    equals: Option<Value>,
    #[serde(default)]
    exists: Option<bool>,
    #[serde(default)]
    matches: Option<String>,
}

fn default_payload() -> Value {
    json!({"smoke_test": true})
}

fn yes() -> bool {
    true
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl SmokePlan {
    /// Parses and validates a plan document (see docs/readme/pre-traffic-hook.md).
    pub fn parse(text: &str) -> Result<SmokePlan, PlanError> {
        let doc: Value = serde_json::from_str(text).map_err(|e| PlanError {
            probe: None,
            field: "(document)".into(),
            problem: format!("invalid JSON: {e}"),
        })?;
        let raw: RawPlan = serde_json::from_value(doc).map_err(|e| PlanError {
            probe: None,
            field: "(top level)".into(),
            problem: format!("{e}; expected {{\"probes\": [...]}}"),
        })?;
        if raw.probes.is_empty() {
            return Err(PlanError {
                probe: None,
                field: "probes".into(),
                problem: "is empty; list at least one probe".into(),
            });
        }
        let mut probes: Vec<Probe> = Vec::with_capacity(raw.probes.len());
        for (i, value) in raw.probes.into_iter().enumerate() {
            let probe = parse_probe(i, value)?;
            if probes.iter().any(|p| p.name == probe.name) {
                return Err(PlanError {
                    probe: Some(label(i, Some(&probe.name))),
                    field: "name".into(),
                    problem: "is used by an earlier probe; names must be unique".into(),
                });
            }
            probes.push(probe);
        }
        Ok(SmokePlan { probes })
    }
}

fn label(index: usize, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("#{} {n:?}", index + 1),
        None => format!("#{}", index + 1),
    }
}

fn parse_probe(index: usize, value: Value) -> Result<Probe, PlanError> {
    let name_hint = value
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let probe_label = label(index, name_hint.as_deref());
    let err = |field: &str, problem: String| PlanError {
        probe: Some(probe_label.clone()),
        field: field.to_string(),
        problem,
    };
    let raw: RawProbe = serde_json::from_value(value.clone()).map_err(|e| {
        let field = culprit::<RawProbe>(&value, &e).unwrap_or_else(|| "(probe)".into());
        err(&field, e.to_string())
    })?;
    if raw.name.trim().is_empty() {
        return Err(err("name", "is empty; give the probe a name".into()));
    }
    if raw.retries > MAX_RETRIES {
        return Err(err(
            "retries",
            format!("{} is more than {MAX_RETRIES}", raw.retries),
        ));
    }
    let backoff = match raw.backoff_ms {
        None => DEFAULT_BACKOFF,
        Some(ms) if ms <= MAX_BACKOFF_MS => Duration::from_millis(ms),
        Some(ms) => {
            return Err(err(
                "backoff_ms",
                format!("{ms} is more than {MAX_BACKOFF_MS}"),
            ));
        }
    };
    let expect = match raw.expect {
        None => Expectations {
            no_function_error: true,
            max_latency: None,
            json: Vec::new(),
        },
        Some(v) => parse_expectations(v, &err)?,
    };
    Ok(Probe {
        name: raw.name,
        payload: raw.payload,
        expect,
        retries: raw.retries,
        backoff,
    })
}

fn parse_expectations(
    value: Value,
    err: &dyn Fn(&str, String) -> PlanError,
) -> Result<Expectations, PlanError> {
    let raw: RawExpectations = serde_json::from_value(value.clone()).map_err(|e| {
        let field = culprit::<RawExpectations>(&value, &e).map(|k| format!("expect.{k}"));
        err(field.as_deref().unwrap_or("expect"), e.to_string())
    })?;
    if raw.max_latency_ms == Some(0) {
        return Err(err(
            "expect.max_latency_ms",
            "0 would fail every probe; use milliseconds > 0".into(),
        ));
    }
    let json = raw
        .json
        .into_iter()
        .enumerate()
        .map(|(i, v)| parse_check(v, &format!("expect.json[{i}]"), err))
        .collect::<Result<_, _>>()?;
    Ok(Expectations {
        no_function_error: raw.no_function_error,
        max_latency: raw.max_latency_ms.map(Duration::from_millis),
        json,
    })
}

fn parse_check(
    value: Value,
    at: &str,
    err: &dyn Fn(&str, String) -> PlanError,
) -> Result<JsonCheck, PlanError> {
    let raw: RawCheck = serde_json::from_value(value.clone()).map_err(|e| {
        let field = culprit::<RawCheck>(&value, &e).map(|k| format!("{at}.{k}"));
        err(field.as_deref().unwrap_or(at), e.to_string())
    })?;
    if !(raw.pointer.is_empty() || raw.pointer.starts_with('/')) {
        return Err(err(
            &format!("{at}.pointer"),
            format!(
                "{:?} is not a JSON pointer; start it with / (e.g. /status)",
                raw.pointer
            ),
        ));
    }
    let test = match (raw.equals, raw.exists, raw.matches) {
        (Some(v), None, None) => JsonTest::Equals(v),
        (None, Some(b), None) => JsonTest::Exists(b),
        (None, None, Some(pattern)) => JsonTest::Matches(
            Regex::new(&pattern).map_err(|e| err(&format!("{at}.matches"), e.to_string()))?,
        ),
        _ => {
            return Err(err(
                at,
                "needs exactly one of equals, exists or matches".into(),
            ));
        }
    };
    Ok(JsonCheck {
        pointer: raw.pointer,
        test,
    })
}

/// serde's type errors name no field ("invalid type: boolean `true`, expected u64"): the
/// key of `value` without which the rest deserialises is the one to name. Found by the
/// property tests (issue #12).
fn culprit<T: serde::de::DeserializeOwned>(
    value: &Value,
    error: &serde_json::Error,
) -> Option<String> {
    let object = value.as_object()?;
    if error.to_string().contains("field `") {
        return None; // unknown / missing field errors already name it
    }
    object
        .keys()
        .find(|k| {
            let mut rest = object.clone();
            rest.remove(*k);
            match serde_json::from_value::<T>(Value::Object(rest)) {
                Ok(_) => true,
                Err(e) => e.to_string().starts_with(&format!("missing field `{k}`")),
            }
        })
        .cloned()
}

impl std::fmt::Display for JsonCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.test {
            JsonTest::Equals(v) => write!(f, "{} equals {v}", self.pointer),
            JsonTest::Exists(true) => write!(f, "{} exists", self.pointer),
            JsonTest::Exists(false) => write!(f, "{} is absent", self.pointer),
            JsonTest::Matches(r) => write!(f, "{} matches /{}/", self.pointer, r.as_str()),
        }
    }
}

#[cfg(test)]
mod tests;
