//! What an invocation asks for: an operator's `{"action", "reason", "requested_by",
//! "function"}`, or an alarm event, which means `stop` (auto-halt).

use serde::Deserialize;
use serde_json::Value;

use crate::guarded::GuardedFunctions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Stop,
    Resume,
    Status,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Stop => "stop",
            Action::Resume => "resume",
            Action::Status => "status",
        }
    }
}

/// A valid request, naming a guarded function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: Action,
    /// Bare function name, from the allow-list.
    pub function: String,
    /// Required for stop and resume; `None` only for status.
    pub reason: Option<String>,
    pub requested_by: String,
}

/// What to do with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Act(Request),
    /// An alarm event that does not ask for a halt (not entering ALARM): nothing to do.
    Ignore(String),
}

pub const DEFAULT_REQUESTED_BY: &str = "unspecified";

/// Limits on operator input: a request is a few hundred bytes; anything near these is a
/// mistake (a pasted log, a script gone wrong), refused before any side effect.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
pub const MAX_REASON_CHARS: usize = 1024;
pub const MAX_REQUESTED_BY_CHARS: usize = 256;
pub const MAX_FUNCTION_CHARS: usize = 256;

/// Bad input: each says what was wrong and how to fix it. None has side effects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error(
        "the request is not valid: {0}; send {{\"action\": \"stop\"|\"resume\"|\"status\", \
         \"reason\": \"...\", \"requested_by\": \"...\", \"function\": \"...\"}}"
    )]
    Malformed(String),
    #[error("unknown action {0:?}; use \"stop\", \"resume\" or \"status\"")]
    UnknownAction(String),
    #[error(
        "field \"reason\" is required for {0}; say why, e.g. \"reason\": \"bad fills since 03:00\""
    )]
    MissingReason(&'static str),
    #[error("function {requested:?} is not guarded by this kill switch; use one of: {allowed}")]
    UnknownFunction { requested: String, allowed: String },
    #[error("field \"function\" is required: this kill switch guards several functions ({0})")]
    FunctionRequired(String),
    #[error(
        "unrecognised event from {0:?}: expected an operator request or a CloudWatch alarm \
         state change"
    )]
    UnrecognisedEvent(String),
    #[error("field \"{field}\" is {got}; use a string")]
    WrongType {
        field: &'static str,
        got: &'static str,
    },
    #[error("the request is {bytes} bytes; send at most {limit} (a request is a few short fields)")]
    TooLarge { bytes: usize, limit: usize },
    #[error("field \"{field}\" is {chars} characters long; use at most {limit}")]
    TooLong {
        field: &'static str,
        chars: usize,
        limit: usize,
    },
}

impl RequestError {
    pub fn kind(&self) -> &'static str {
        match self {
            RequestError::Malformed(_) => "KillSwitch.MalformedRequest",
            RequestError::UnknownAction(_) => "KillSwitch.UnknownAction",
            RequestError::MissingReason(_) => "KillSwitch.MissingReason",
            RequestError::UnknownFunction { .. } => "KillSwitch.UnknownFunction",
            RequestError::FunctionRequired(_) => "KillSwitch.FunctionRequired",
            RequestError::UnrecognisedEvent(_) => "KillSwitch.UnrecognisedEvent",
            RequestError::WrongType { .. } => "KillSwitch.MalformedRequest",
            RequestError::TooLarge { .. } => "KillSwitch.RequestTooLarge",
            RequestError::TooLong { .. } => "KillSwitch.FieldTooLong",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorRequest {
    action: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    requested_by: Option<String>,
    #[serde(default)]
    function: Option<String>,
}

/// The request in `event`, checked against the allow-list.
pub fn parse(event: &Value, guarded: &GuardedFunctions) -> Result<Parsed, RequestError> {
    let Some(object) = event.as_object() else {
        return Err(RequestError::Malformed(format!(
            "expected a JSON object, got {}",
            kind_of(event)
        )));
    };
    if object.contains_key("source") && !object.contains_key("action") {
        return parse_alarm(event, guarded);
    }
    check_operator_input(event, object)?;
    let req: OperatorRequest = serde_json::from_value(event.clone())
        .map_err(|e| RequestError::Malformed(e.to_string()))?;
    let action = match req.action.trim().to_ascii_lowercase().as_str() {
        "stop" => Action::Stop,
        "resume" => Action::Resume,
        "status" => Action::Status,
        _ => return Err(RequestError::UnknownAction(req.action)),
    };
    let reason = req
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason.is_none() && action != Action::Status {
        return Err(RequestError::MissingReason(action.as_str()));
    }
    let function = choose_function(req.function.as_deref(), guarded)?;
    let requested_by = req
        .requested_by
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| DEFAULT_REQUESTED_BY.to_string());
    Ok(Parsed::Act(Request {
        action,
        function,
        reason,
        requested_by,
    }))
}

/// Size and type checks serde cannot phrase: its type errors do not name the field.
fn check_operator_input(
    event: &Value,
    object: &serde_json::Map<String, Value>,
) -> Result<(), RequestError> {
    let bytes = event.to_string().len();
    if bytes > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLarge {
            bytes,
            limit: MAX_REQUEST_BYTES,
        });
    }
    for (field, limit) in [
        ("action", MAX_REASON_CHARS),
        ("reason", MAX_REASON_CHARS),
        ("requested_by", MAX_REQUESTED_BY_CHARS),
        ("function", MAX_FUNCTION_CHARS),
    ] {
        match object.get(field) {
            None => {}
            // `action` is required: serde names it as a missing field.
            Some(Value::Null) if field != "action" => {}
            Some(Value::String(s)) => {
                let chars = s.chars().count();
                if chars > limit {
                    return Err(RequestError::TooLong {
                        field,
                        chars,
                        limit,
                    });
                }
            }
            Some(other) => {
                return Err(RequestError::WrongType {
                    field,
                    got: kind_of(other),
                });
            }
        }
    }
    Ok(())
}

/// An EventBridge "CloudWatch Alarm State Change" or a CloudWatch Lambda alarm action.
fn parse_alarm(event: &Value, guarded: &GuardedFunctions) -> Result<Parsed, RequestError> {
    let source = event["source"].as_str().unwrap_or_default();
    let alarm = if event["detail-type"] == "CloudWatch Alarm State Change" {
        &event["detail"]
    } else if source == "aws.cloudwatch" && event["alarmData"].is_object() {
        &event["alarmData"]
    } else {
        return Err(RequestError::UnrecognisedEvent(source.to_string()));
    };
    let name = alarm["alarmName"].as_str().unwrap_or("unnamed alarm");
    let state = alarm["state"]["value"].as_str().unwrap_or_default();
    if state != "ALARM" {
        return Ok(Parsed::Ignore(format!(
            "alarm {name} is {state:?}, not ALARM: nothing to halt"
        )));
    }
    let dimension = alarm_function(alarm).and_then(|f| guarded.resolve(&f));
    let function = match dimension {
        Some(f) => f,
        None => choose_function(None, guarded)?,
    };
    let why = alarm["state"]["reason"]
        .as_str()
        .unwrap_or("no reason given");
    Ok(Parsed::Act(Request {
        action: Action::Stop,
        function,
        reason: Some(format!("auto-halt: alarm {name} entered ALARM: {why}")),
        requested_by: format!("alarm:{name}"),
    }))
}

/// The `FunctionName` dimension of the alarm's first metric that has one.
fn alarm_function(alarm: &Value) -> Option<String> {
    alarm["configuration"]["metrics"]
        .as_array()?
        .iter()
        .find_map(|m| m["metricStat"]["metric"]["dimensions"]["FunctionName"].as_str())
        .map(str::to_string)
}

fn choose_function(
    requested: Option<&str>,
    guarded: &GuardedFunctions,
) -> Result<String, RequestError> {
    let allowed = || guarded.names().collect::<Vec<_>>().join(", ");
    match requested.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => guarded
            .resolve(f)
            .ok_or_else(|| RequestError::UnknownFunction {
                requested: f.to_string(),
                allowed: allowed(),
            }),
        None => guarded
            .single()
            .map(str::to_string)
            .ok_or_else(|| RequestError::FunctionRequired(allowed())),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one() -> GuardedFunctions {
        GuardedFunctions::new(["trading-bot"])
    }

    fn act(event: Value) -> Request {
        match parse(&event, &one()).unwrap() {
            Parsed::Act(r) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn operator_stop_names_who_and_why() {
        let r = act(json!({"action": "stop", "reason": " bad fills ", "requested_by": "alice"}));
        assert_eq!(r.action, Action::Stop);
        assert_eq!(r.function, "trading-bot");
        assert_eq!(r.reason.as_deref(), Some("bad fills"));
        assert_eq!(r.requested_by, "alice");
    }

    #[test]
    fn status_needs_no_reason_and_by_defaults() {
        let r = act(json!({"action": "status"}));
        assert_eq!((r.action, r.reason), (Action::Status, None));
        assert_eq!(r.requested_by, DEFAULT_REQUESTED_BY);
    }

    #[test]
    fn bad_inputs_are_named_errors() {
        let g = one();
        let cases = [
            (
                json!({"action": "halt", "reason": "x"}),
                "KillSwitch.UnknownAction",
            ),
            (json!({"action": "stop"}), "KillSwitch.MissingReason"),
            (
                json!({"action": "resume", "reason": "  "}),
                "KillSwitch.MissingReason",
            ),
            (
                json!({"action": "stop", "reason": "x", "force": true}),
                "KillSwitch.MalformedRequest",
            ),
            (
                json!({"action": "stop", "reason": "x", "function": "other"}),
                "KillSwitch.UnknownFunction",
            ),
            (json!("stop"), "KillSwitch.MalformedRequest"),
            (json!({"source": "aws.s3"}), "KillSwitch.UnrecognisedEvent"),
        ];
        for (event, kind) in cases {
            let err = parse(&event, &g).unwrap_err();
            assert_eq!(err.kind(), kind, "{event}: {err}");
        }
        let unknown_field = parse(&json!({"action": "stop", "reason": "x", "force": true}), &g)
            .unwrap_err()
            .to_string();
        assert!(
            unknown_field.contains("unknown field `force`"),
            "{unknown_field}"
        );
    }

    #[test]
    fn several_guarded_functions_need_a_function() {
        let g = GuardedFunctions::new(["a", "b"]);
        let err = parse(&json!({"action": "status"}), &g).unwrap_err();
        assert_eq!(err.kind(), "KillSwitch.FunctionRequired");
        let ok = parse(&json!({"action": "status", "function": "b"}), &g).unwrap();
        assert!(matches!(ok, Parsed::Act(Request { ref function, .. }) if function == "b"));
    }

    fn eventbridge_alarm(state: &str) -> Value {
        serde_json::from_str(include_str!("../../../../events/kill-switch-alarm.json"))
            .map(|mut v: Value| {
                v["detail"]["state"]["value"] = json!(state);
                v
            })
            .unwrap()
    }

    #[test]
    fn an_alarm_entering_alarm_is_a_stop() {
        let r = act(eventbridge_alarm("ALARM"));
        assert_eq!(r.action, Action::Stop);
        assert_eq!(r.requested_by, "alarm:trading-bot-errors");
        assert!(
            r.reason.unwrap().starts_with(
                "auto-halt: alarm trading-bot-errors entered ALARM: Threshold Crossed"
            )
        );
    }

    #[test]
    fn an_alarm_going_ok_is_ignored() {
        assert!(matches!(
            parse(&eventbridge_alarm("OK"), &one()),
            Ok(Parsed::Ignore(_))
        ));
    }

    #[test]
    fn the_lambda_alarm_action_shape_is_a_stop_too() {
        let r = act(json!({
            "source": "aws.cloudwatch",
            "alarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:halt",
            "alarmData": {"alarmName": "halt", "state": {"value": "ALARM", "reason": "r"}}
        }));
        assert_eq!(
            r.reason.as_deref(),
            Some("auto-halt: alarm halt entered ALARM: r")
        );
    }

    #[test]
    fn the_fanout_payload_is_an_operator_request() {
        let fanout: Value = serde_json::from_str(include_str!(
            "../../../../events/kill-switch-fanout-stop.json"
        ))
        .unwrap();
        let r = act(fanout);
        assert_eq!(
            (r.action, r.requested_by.as_str()),
            (Action::Stop, "alarm-fanout")
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        // Shrunk from the property tests: serde's "invalid type" errors named no field.
        for (event, field) in [
            (json!({"action": null, "reason": "x"}), "action"),
            (json!({"action": 1, "reason": "x"}), "action"),
            (json!({"action": "stop", "reason": ["x"]}), "reason"),
            (
                json!({"action": "stop", "reason": "x", "requested_by": 0}),
                "requested_by",
            ),
            (json!({"action": "status", "function": {}}), "function"),
        ] {
            let err = parse(&event, &one()).unwrap_err();
            assert_eq!(err.kind(), "KillSwitch.MalformedRequest", "{event}");
            assert!(err.to_string().contains(&format!("\"{field}\"")), "{err}");
        }
    }

    #[test]
    fn oversized_input_is_refused_with_the_limit() {
        let g = one();
        for (field, limit) in [
            ("reason", MAX_REASON_CHARS),
            ("requested_by", MAX_REQUESTED_BY_CHARS),
            ("function", MAX_FUNCTION_CHARS),
        ] {
            let mut event = json!({"action": "stop", "reason": "x"});
            event[field] = json!("é".repeat(limit));
            assert!(
                !matches!(parse(&event, &g), Err(RequestError::TooLong { .. })),
                "{field} at the limit is accepted"
            );
            event[field] = json!("é".repeat(limit + 1));
            let err = parse(&event, &g).unwrap_err();
            assert_eq!(err.kind(), "KillSwitch.FieldTooLong");
            assert_eq!(
                err.to_string(),
                format!(
                    "field \"{field}\" is {} characters long; use at most {limit}",
                    limit + 1
                )
            );
        }
        let padded = json!({"action": "stop", "reason": "x", "pad": "x".repeat(MAX_REQUEST_BYTES)});
        let err = parse(&padded, &g).unwrap_err();
        assert_eq!(err.kind(), "KillSwitch.RequestTooLarge");
        assert!(err.to_string().contains("at most 65536"), "{err}");
    }

    #[test]
    fn a_long_alarm_reason_still_halts() {
        // Auto-halt must not be refused for size: the alarm's text is trimmed into tags later.
        let mut alarm = eventbridge_alarm("ALARM");
        alarm["detail"]["state"]["reason"] = json!("x".repeat(100_000));
        assert_eq!(act(alarm).action, Action::Stop);
    }
}
