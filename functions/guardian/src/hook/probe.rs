//! Judging one probe: does an invoke's answer meet the plan's expectations?

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::plan::{JsonCheck, JsonTest, Probe};
use crate::invoke::InvokeOutcome;
use crate::preview::preview;

/// Longest excerpt of a response payload quoted in a failure reason.
const PAYLOAD_EXCERPT_CHARS: usize = 200;

/// One attempt as seen by the hook: the answer and how long it took, or why there was none.
pub type Attempt = Result<Answered, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub outcome: InvokeOutcome,
    pub latency: Duration,
}

/// A row of the verdict's probe table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    pub name: String,
    pub passed: bool,
    pub attempts: u32,
    pub latency_ms: Option<u64>,
    pub executed_version: Option<String>,
    pub function_error: Option<String>,
    /// Why the last attempt failed; empty when the probe passed.
    pub failures: Vec<String>,
    /// The last attempt's log tail, as Lambda returned it.
    pub log_tail: Option<String>,
}

/// Every unmet expectation of `attempt` (empty: it passed). The version that ran must be the
/// one under test: an alias or `$LATEST` answering means the probe tested something else.
pub fn failures(probe: &Probe, target_version: &str, attempt: &Attempt) -> Vec<String> {
    let answered = match attempt {
        Ok(a) => a,
        Err(why) => return vec![why.clone()],
    };
    let out = &answered.outcome;
    let mut found = Vec::new();
    if out.status_code != 200 {
        found.push(format!("invoke status {} (expected 200)", out.status_code));
    }
    match out.executed_version.as_deref() {
        Some(v) if v == target_version => {}
        Some(v) => found.push(format!("version {v} answered, expected {target_version}")),
        None => found.push("Lambda did not say which version ran (no ExecutedVersion)".into()),
    }
    if probe.expect.no_function_error
        && let Some(kind) = &out.function_error
    {
        found.push(format!(
            "FunctionError {kind}: {}",
            preview(
                &String::from_utf8_lossy(&out.payload),
                PAYLOAD_EXCERPT_CHARS
            )
        ));
    }
    if let Some(budget) = probe.expect.max_latency
        && answered.latency > budget
    {
        found.push(format!(
            "took {} ms, budget {} ms",
            answered.latency.as_millis(),
            budget.as_millis()
        ));
    }
    if !probe.expect.json.is_empty() {
        match serde_json::from_slice::<Value>(&out.payload) {
            Ok(body) => found.extend(
                probe
                    .expect
                    .json
                    .iter()
                    .filter_map(|check| json_failure(check, &body)),
            ),
            Err(e) => found.push(format!(
                "response is not JSON ({e}): {}",
                preview(
                    &String::from_utf8_lossy(&out.payload),
                    PAYLOAD_EXCERPT_CHARS
                )
            )),
        }
    }
    found
}

fn json_failure(check: &JsonCheck, body: &Value) -> Option<String> {
    let actual = body.pointer(&check.pointer);
    let shown = || {
        actual.map_or_else(
            || "nothing".to_string(),
            |v| preview(&v.to_string(), PAYLOAD_EXCERPT_CHARS),
        )
    };
    let ok = match &check.test {
        JsonTest::Equals(want) => actual == Some(want),
        JsonTest::Exists(want) => actual.is_some() == *want,
        JsonTest::Matches(re) => actual.is_some_and(|v| match v {
            Value::String(s) => re.is_match(s),
            other => re.is_match(&other.to_string()),
        }),
    };
    (!ok).then(|| format!("expected {check}, got {}", shown()))
}

/// Wait before retry number `retry` (1-based): the probe's backoff, doubled each time.
pub fn backoff_before(probe: &Probe, retry: u32) -> Duration {
    probe
        .backoff
        .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
}

/// First wait after a throttled probe; doubled per throttle up to [`BUSY_BACKOFF_MAX`].
pub const BUSY_BACKOFF_START: Duration = Duration::from_millis(250);
pub const BUSY_BACKOFF_MAX: Duration = Duration::from_secs(4);

/// Wait after the `throttles`-th throttled attempt (1-based) of a probe.
pub fn busy_backoff(throttles: u32) -> Duration {
    BUSY_BACKOFF_START
        .saturating_mul(2u32.saturating_pow(throttles.saturating_sub(1).min(16)))
        .min(BUSY_BACKOFF_MAX)
}

/// The failure a probe ends with when the target stayed throttled (`busy`) until the hook
/// had to report: reserved concurrency in use, e.g. a scheduled run holding the only slot.
pub fn busy_failure(busy: Duration, throttles: u32) -> String {
    format!(
        "target busy for {} s: all {throttles} invoke(s) were throttled (TooManyRequestsException: its reserved concurrency is in use, e.g. a scheduled run holds the slot); gave up to report before the hook's deadline",
        busy.as_secs()
    )
}

/// The table row for `probe` after `attempts` tries ending with `last`.
pub fn report(probe: &Probe, attempts: u32, last: &Attempt, failures: Vec<String>) -> ProbeReport {
    let answered = last.as_ref().ok();
    ProbeReport {
        name: probe.name.clone(),
        passed: failures.is_empty(),
        attempts,
        latency_ms: answered.map(|a| a.latency.as_millis() as u64),
        executed_version: answered.and_then(|a| a.outcome.executed_version.clone()),
        function_error: answered.and_then(|a| a.outcome.function_error.clone()),
        failures,
        log_tail: answered.and_then(|a| a.outcome.log_tail.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::plan::SmokePlan;
    use serde_json::json;

    fn answer(payload: Value, version: &str, error: Option<&str>, ms: u64) -> Attempt {
        Ok(Answered {
            outcome: InvokeOutcome {
                status_code: 200,
                function_error: error.map(str::to_string),
                executed_version: Some(version.into()),
                payload: payload.to_string().into_bytes(),
                log_tail: Some("START\nEND\n".into()),
            },
            latency: Duration::from_millis(ms),
        })
    }

    fn plan_probe(text: &str) -> Probe {
        SmokePlan::parse(text).unwrap().probes.remove(0)
    }

    #[test]
    fn a_healthy_answer_passes_the_default_probe() {
        let probe = SmokePlan::default().probes.remove(0);
        let ok = answer(json!({"status": "ok", "version": "2"}), "2", None, 5);
        assert!(failures(&probe, "2", &ok).is_empty());
    }

    #[test]
    fn function_errors_of_both_kinds_fail() {
        let probe = SmokePlan::default().probes.remove(0);
        for kind in ["Handled", "Unhandled"] {
            let bad = answer(
                json!({"errorType": "Boom", "errorMessage": "bad build"}),
                "2",
                Some(kind),
                5,
            );
            let f = failures(&probe, "2", &bad);
            assert_eq!(f.len(), 1);
            assert!(
                f[0].starts_with(&format!("FunctionError {kind}")) && f[0].contains("bad build"),
                "{f:?}"
            );
        }
    }

    #[test]
    fn another_version_answering_fails() {
        let probe = SmokePlan::default().probes.remove(0);
        let f = failures(&probe, "2", &answer(json!({}), "1", None, 5));
        assert_eq!(f, ["version 1 answered, expected 2"]);
    }

    #[test]
    fn json_expectations_name_what_failed() {
        let probe = plan_probe(
            r#"{"probes": [{"name": "p", "expect": {"json": [
                {"pointer": "/status", "equals": "ok"},
                {"pointer": "/version", "matches": "^2$"},
                {"pointer": "/missing", "exists": true}]}}]}"#,
        );
        let f = failures(
            &probe,
            "2",
            &answer(json!({"status": "degraded", "version": 2}), "2", None, 5),
        );
        assert_eq!(
            f,
            [
                r#"expected /status equals "ok", got "degraded""#,
                "expected /missing exists, got nothing"
            ]
        );
        let not_json = Ok(Answered {
            outcome: InvokeOutcome {
                status_code: 200,
                function_error: None,
                executed_version: Some("2".into()),
                payload: b"<html>".to_vec(),
                log_tail: None,
            },
            latency: Duration::ZERO,
        });
        assert!(failures(&probe, "2", &not_json)[0].starts_with("response is not JSON"));
    }

    #[test]
    fn latency_budget_and_invoke_errors_fail() {
        let probe = plan_probe(r#"{"probes": [{"name": "p", "expect": {"max_latency_ms": 100}}]}"#);
        let slow = failures(&probe, "2", &answer(json!({}), "2", None, 150));
        assert_eq!(slow, ["took 150 ms, budget 100 ms"]);
        let throttled: Attempt =
            Err("Invoke failed: TooManyRequestsException: Rate Exceeded.".into());
        assert_eq!(failures(&probe, "2", &throttled).len(), 1);
    }

    #[test]
    fn a_function_error_may_be_expected() {
        let probe = plan_probe(
            r#"{"probes": [{"name": "rejects-bad-input", "payload": {"bogus": 1},
                "expect": {"no_function_error": false, "json": [{"pointer": "/errorType", "equals": "BadInput"}]}}]}"#,
        );
        let a = answer(json!({"errorType": "BadInput"}), "2", Some("Handled"), 5);
        assert!(failures(&probe, "2", &a).is_empty());
    }

    #[test]
    fn busy_backoff_doubles_and_is_capped() {
        let waits: Vec<u128> = (1..=7).map(|n| busy_backoff(n).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 4000, 4000]);
        assert!(busy_failure(Duration::from_secs(42), 9).starts_with("target busy for 42 s"));
    }

    #[test]
    fn backoff_doubles_per_retry() {
        let probe = plan_probe(r#"{"probes": [{"name": "p", "retries": 3, "backoff_ms": 100}]}"#);
        let waits: Vec<u128> = (1..=3)
            .map(|r| backoff_before(&probe, r).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 400]);
    }
}
