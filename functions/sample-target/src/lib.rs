//! A small stand-in for the guarded workload (a scheduled trading bot). It answers the
//! smoke test `{"smoke_test": true}` with `{"status":"ok","version":...}` and no side
//! effects, and can be told by `FAILURE_MODE` to behave like a bad build so the drill and
//! the tests can watch the guardian stop it.

use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};

/// How this build misbehaves (env `FAILURE_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureMode {
    /// A good build.
    None,
    /// Every invocation fails (the runtime reports `FunctionError: Unhandled`).
    Fail,
    /// Every invocation hangs until Lambda's timeout.
    Hang,
    /// Smoke tests get a well-formed but wrong answer.
    WrongJson,
    /// Smoke tests pass, every real run fails: the bad build only a canary's alarms catch.
    FailLive,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error(
        "environment variable FAILURE_MODE is malformed: {0:?}; use none, fail, hang, wrong-json or fail-live"
    )]
    BadFailureMode(String),
    #[error("bad build: this version fails (FAILURE_MODE=fail or fail-live)")]
    BadBuild,
}

impl From<TargetError> for Diagnostic {
    fn from(e: TargetError) -> Self {
        let error_type = match e {
            TargetError::BadFailureMode(_) => "SampleTarget.Config",
            TargetError::BadBuild => "SampleTarget.BadBuild",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

impl FailureMode {
    pub fn parse(raw: Option<&str>) -> Result<Self, TargetError> {
        match raw.map(str::trim).unwrap_or("") {
            "" | "none" => Ok(FailureMode::None),
            "fail" => Ok(FailureMode::Fail),
            "hang" => Ok(FailureMode::Hang),
            "wrong-json" => Ok(FailureMode::WrongJson),
            "fail-live" => Ok(FailureMode::FailLive),
            other => Err(TargetError::BadFailureMode(other.to_string())),
        }
    }
}

/// Configuration read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub mode: FailureMode,
    /// `AWS_LAMBDA_FUNCTION_VERSION` (the numbered version Lambda runs).
    pub version: String,
}

pub fn is_smoke_test(event: &Value) -> bool {
    event.get("smoke_test").and_then(Value::as_bool) == Some(true)
}

/// The pure decision: what this build answers to `event`. `Hang` is handled by the caller.
pub fn respond(target: &Target, event: &Value) -> Result<Value, TargetError> {
    match target.mode {
        FailureMode::Fail => Err(TargetError::BadBuild),
        FailureMode::FailLive if !is_smoke_test(event) => Err(TargetError::BadBuild),
        FailureMode::WrongJson if is_smoke_test(event) => {
            Ok(json!({"status": "degraded", "version": target.version}))
        }
        _ if is_smoke_test(event) => Ok(json!({"status": "ok", "version": target.version})),
        // A real tick would trade here; the stand-in only acknowledges it.
        _ => Ok(json!({"status": "ok", "handled": "tick", "version": target.version})),
    }
}

pub async fn handler(target: &Target, event: LambdaEvent<Value>) -> Result<Value, TargetError> {
    if target.mode == FailureMode::Hang {
        // Sleep past any Lambda timeout (max 15 minutes): the runtime is killed first.
        tokio::time::sleep(Duration::from_secs(16 * 60)).await;
    }
    let smoke = is_smoke_test(&event.payload);
    let out = respond(target, &event.payload);
    tracing::info!(smoke, mode = ?target.mode, ok = out.is_ok(), "sample target answered");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(mode: FailureMode) -> Target {
        Target {
            mode,
            version: "7".into(),
        }
    }

    #[test]
    fn smoke_test_answers_ok_with_version() {
        let out = respond(&target(FailureMode::None), &json!({"smoke_test": true})).unwrap();
        assert_eq!(out, json!({"status": "ok", "version": "7"}));
    }

    #[test]
    fn smoke_flag_must_be_true() {
        let out = respond(&target(FailureMode::None), &json!({"smoke_test": "yes"})).unwrap();
        assert_eq!(out["handled"], "tick");
    }

    #[test]
    fn bad_builds_misbehave_as_configured() {
        assert_eq!(
            respond(&target(FailureMode::Fail), &json!({"smoke_test": true})),
            Err(TargetError::BadBuild)
        );
        let wrong = respond(
            &target(FailureMode::WrongJson),
            &json!({"smoke_test": true}),
        )
        .unwrap();
        assert_eq!(wrong["status"], "degraded");
        // wrong-json only lies to smoke tests; ticks still look fine, as real bad builds do.
        let tick = respond(
            &target(FailureMode::WrongJson),
            &json!({"source": "aws.scheduler"}),
        )
        .unwrap();
        assert_eq!(tick["status"], "ok");
    }

    #[test]
    fn fail_live_passes_smoke_tests_and_fails_real_runs() {
        let smoke = respond(&target(FailureMode::FailLive), &json!({"smoke_test": true})).unwrap();
        assert_eq!(smoke["status"], "ok");
        assert_eq!(
            respond(&target(FailureMode::FailLive), &json!({"source": "tick"})),
            Err(TargetError::BadBuild)
        );
    }

    #[test]
    fn failure_mode_parsing_names_the_variable() {
        assert_eq!(FailureMode::parse(None), Ok(FailureMode::None));
        assert_eq!(FailureMode::parse(Some("hang")), Ok(FailureMode::Hang));
        let err = FailureMode::parse(Some("explode")).unwrap_err().to_string();
        assert!(
            err.contains("FAILURE_MODE") && err.contains("explode"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn handler_returns_error_for_failing_build() {
        let event = LambdaEvent::new(
            json!({"smoke_test": true}),
            lambda_runtime::Context::default(),
        );
        let err = handler(&target(FailureMode::Fail), event)
            .await
            .unwrap_err();
        let d: Diagnostic = err.into();
        assert_eq!(d.error_type, "SampleTarget.BadBuild");
    }
}
