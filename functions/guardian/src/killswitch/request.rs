//! What an invocation asks for: an operator's `{"action", "reason", "requested_by",
//! "function"}`, or an alarm event, which means `stop` (auto-halt).

use serde::Deserialize;
use serde_json::Value;

use crate::guarded::{GuardedFunctions, alarm_function};

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
mod tests;
