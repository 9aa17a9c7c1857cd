//! What an invocation asks for: the manual JSON `{"action": ...}` or a schedule event
//! (inspect). Every mistake is an error naming the field and the fix, found before any
//! message is touched.

use std::time::Duration;

use serde_json::{Map, Value};

use super::select::Selection;
use crate::guarded::GuardedFunctions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Inspect,
    Redrive,
    Purge,
}

/// Where `redrive` re-sends messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    /// Async `Invoke` of the guarded function with the original event.
    Function,
    /// `SendMessageBatch` to the configured source queue.
    Queue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub action: Action,
    /// Examine at most this many messages (`None`: up to the configured limit).
    pub max_messages: Option<u64>,
    pub selection: Selection,
    /// Re-sends per second (`redrive` only).
    pub rate_per_second: Option<f64>,
    pub dry_run: bool,
    pub to: Destination,
    pub confirm: Option<String>,
    /// The guarded function whose DLQ to act on, as given (`None`: the only one, or every
    /// one for `inspect`).
    pub function: Option<String>,
}

impl Request {
    /// The scheduled run: inspect everything, change nothing.
    pub fn inspect() -> Self {
        Request {
            action: Action::Inspect,
            max_messages: None,
            selection: Selection::default(),
            rate_per_second: None,
            dry_run: false,
            to: Destination::Function,
            confirm: None,
            function: None,
        }
    }
}

/// A request the inspector refuses, before any side effect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the invocation payload must be a JSON object such as {{\"action\": \"inspect\"}}")]
    NotAnObject,
    #[error("unknown action {0:?}: use \"inspect\", \"redrive\" or \"purge\"")]
    UnknownAction(String),
    #[error("field `{field}` {problem}; {fix}")]
    BadField {
        field: String,
        problem: String,
        fix: String,
    },
    #[error(
        "purge deletes messages for good: set `confirm` to the queue name {expected:?} to proceed (got {got})"
    )]
    PurgeNotConfirmed { expected: String, got: String },
    #[error(
        "the request is {bytes} bytes; send at most {limit} (a request is a few short options)"
    )]
    TooLarge { bytes: usize, limit: usize },
}

/// Limits on operator input, refused before any message is touched: a real request is a
/// few hundred bytes, and a selector longer than these is a paste gone wrong.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
pub const MAX_ERROR_CODE_CHARS: usize = 256;
pub const MAX_BODY_POINTER_CHARS: usize = 512;
/// `body_equals` as compact JSON.
pub const MAX_BODY_EQUALS_BYTES: usize = 4 * 1024;
/// SQS queue names are at most 80 characters.
pub const MAX_CONFIRM_CHARS: usize = 256;
/// A function ARN with a qualifier is at most 170 characters.
pub const MAX_FUNCTION_CHARS: usize = 256;
/// Slower than one message per 100 s, or faster than 1,000 per second, is not a pace: the
/// interval (1 / rate) must also stay a representable `Duration`.
pub const MIN_RATE_PER_SECOND: f64 = 0.01;
pub const MAX_RATE_PER_SECOND: f64 = 1000.0;

const FIELDS: &str = "action, function, max_messages, error_code, body_pointer, body_equals, max_age_seconds, rate_per_second, dry_run, to, confirm";

fn bad(field: &str, problem: impl Into<String>, fix: impl Into<String>) -> RequestError {
    RequestError::BadField {
        field: field.to_string(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

/// EventBridge rules and EventBridge Scheduler send events with `source`/`detail-type`.
pub fn is_schedule_event(payload: &Value) -> bool {
    payload.get("source").is_some() || payload.get("detail-type").is_some()
}

/// Parses the invocation payload. `max_messages_limit` is the configured ceiling.
pub fn parse(payload: &Value, max_messages_limit: u64) -> Result<Request, RequestError> {
    let bytes = payload.to_string().len();
    if bytes > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLarge {
            bytes,
            limit: MAX_REQUEST_BYTES,
        });
    }
    if is_schedule_event(payload) {
        return Ok(Request::inspect());
    }
    let Value::Object(fields) = payload else {
        return Err(RequestError::NotAnObject);
    };
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.split(", ").any(|f| f == *k)) {
        return Err(bad(
            unknown,
            "is not a known option",
            format!("remove it; known options: {FIELDS}"),
        ));
    }
    let action = match optional_str(fields, "action")? {
        None | Some("inspect") => Action::Inspect,
        Some("redrive") => Action::Redrive,
        Some("purge") => Action::Purge,
        Some(other) => return Err(RequestError::UnknownAction(other.to_string())),
    };
    let max_messages = optional_count(fields, "max_messages")?;
    if let Some(n) = max_messages
        && (n == 0 || n > max_messages_limit)
    {
        return Err(bad(
            "max_messages",
            format!("is {n}"),
            format!("use 1..={max_messages_limit} (MAX_MESSAGES_LIMIT)"),
        ));
    }
    for (field, limit) in [
        ("error_code", MAX_ERROR_CODE_CHARS),
        ("body_pointer", MAX_BODY_POINTER_CHARS),
        ("confirm", MAX_CONFIRM_CHARS),
        ("function", MAX_FUNCTION_CHARS),
    ] {
        let chars = optional_str(fields, field)?.map_or(0, |s| s.chars().count());
        if chars > limit {
            return Err(bad(
                field,
                format!("is {chars} characters long"),
                format!("use at most {limit}"),
            ));
        }
    }
    let body_pointer = optional_str(fields, "body_pointer")?.map(str::to_string);
    if let Some(p) = &body_pointer
        && !p.is_empty()
        && !p.starts_with('/')
    {
        return Err(bad(
            "body_pointer",
            format!("{p:?} is not a JSON pointer"),
            "start it with '/', e.g. \"/order/symbol\"",
        ));
    }
    let body_equals = fields.get("body_equals").cloned();
    if let Some(bytes) = body_equals.as_ref().map(|v| v.to_string().len())
        && bytes > MAX_BODY_EQUALS_BYTES
    {
        return Err(bad(
            "body_equals",
            format!("is {bytes} bytes as JSON"),
            format!("compare with a value of at most {MAX_BODY_EQUALS_BYTES} bytes"),
        ));
    }
    if body_equals.is_some() && body_pointer.is_none() {
        return Err(bad(
            "body_equals",
            "needs a body_pointer",
            "add \"body_pointer\" naming the value to compare, e.g. \"/symbol\"",
        ));
    }
    let selection = Selection {
        error_code: optional_str(fields, "error_code")?.map(str::to_string),
        body_pointer,
        body_equals,
        max_age: optional_count(fields, "max_age_seconds")?.map(Duration::from_secs),
    };
    let rate_per_second = match fields.get("rate_per_second") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(r) if (MIN_RATE_PER_SECOND..=MAX_RATE_PER_SECOND).contains(&r) => Some(r),
            _ => {
                return Err(bad(
                    "rate_per_second",
                    format!("is {v}"),
                    format!(
                        "use messages per second from {MIN_RATE_PER_SECOND} to {MAX_RATE_PER_SECOND}, e.g. 5"
                    ),
                ));
            }
        },
    };
    let dry_run = match fields.get("dry_run") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => return Err(bad("dry_run", format!("is {v}"), "use true or false")),
    };
    let to = match optional_str(fields, "to")? {
        None | Some("function") => Destination::Function,
        Some("queue") => Destination::Queue,
        Some(other) => {
            return Err(bad(
                "to",
                format!("is {other:?}"),
                "use \"function\" (async Invoke) or \"queue\" (SOURCE_QUEUE_URL)",
            ));
        }
    };
    let confirm = optional_str(fields, "confirm")?.map(str::to_string);
    let function = optional_str(fields, "function")?
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string);

    let only_for = |field: &str, allowed: &[Action]| {
        if fields.contains_key(field) && !allowed.contains(&action) {
            Err(bad(
                field,
                format!("does not apply to {action:?}").to_lowercase(),
                "remove it",
            ))
        } else {
            Ok(())
        }
    };
    only_for("rate_per_second", &[Action::Redrive])?;
    only_for("to", &[Action::Redrive])?;
    only_for("dry_run", &[Action::Redrive, Action::Purge])?;
    only_for("confirm", &[Action::Purge])?;
    only_for("max_age_seconds", &[Action::Inspect, Action::Redrive])?;

    Ok(Request {
        action,
        max_messages,
        selection,
        rate_per_second,
        dry_run,
        to,
        confirm,
        function,
    })
}

/// The guarded functions (bare names) whose DLQs the request acts on: the one it names, else
/// the only one; `inspect` without a name covers every one (the schedule's run), while a
/// redrive or purge must say which queue it changes.
pub fn functions_acted_on(
    request: &Request,
    guarded: &GuardedFunctions,
) -> Result<Vec<String>, RequestError> {
    let allowed = || guarded.names().collect::<Vec<_>>().join(", ");
    if let Some(named) = &request.function {
        return guarded.resolve(named).map(|f| vec![f]).ok_or_else(|| {
            bad(
                "function",
                format!("{named:?} is not a guarded function"),
                format!("use one of: {}", allowed()),
            )
        });
    }
    match (guarded.single(), request.action) {
        (Some(only), _) => Ok(vec![only.to_string()]),
        (None, Action::Inspect) => Ok(guarded.names().map(str::to_string).collect()),
        (None, action) => Err(bad(
            "function",
            format!(
                "is required for {}: this inspector watches the DLQs of several functions",
                format!("{action:?}").to_lowercase()
            ),
            format!("add \"function\": one of {}", allowed()),
        )),
    }
}

/// `purge` goes ahead only when `confirm` names the queue it deletes from.
pub fn check_purge_confirmed(request: &Request, queue_name: &str) -> Result<(), RequestError> {
    if request.action != Action::Purge || request.confirm.as_deref() == Some(queue_name) {
        return Ok(());
    }
    Err(RequestError::PurgeNotConfirmed {
        expected: queue_name.to_string(),
        got: request
            .confirm
            .as_deref()
            .map(|c| format!("{c:?}"))
            .unwrap_or_else(|| "nothing".into()),
    })
}

fn optional_str<'a>(
    fields: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, RequestError> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(v) => Err(bad(field, format!("is {v}"), "use a string")),
    }
}

fn optional_count(fields: &Map<String, Value>, field: &str) -> Result<Option<u64>, RequestError> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(field, format!("is {v}"), "use a whole number >= 0")),
    }
}

#[cfg(test)]
mod tests;
