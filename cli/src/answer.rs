//! What an invoke of the kill switch or the DLQ inspector returned: its JSON answer, or the
//! error it raised (`{"errorType", "errorMessage"}` with a `FunctionError`).

use serde_json::Value;

use crate::exit::Exit;
use crate::style::Style;

/// The human summary of an answer and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub text: String,
    pub exit: Exit,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Value(Value),
    Error { error_type: String, message: String },
}

/// Reads an invoke's payload. Err: a successful invoke whose payload is not JSON.
pub fn read(function_error: Option<&str>, payload: &[u8]) -> Result<Answer, String> {
    let parsed = serde_json::from_slice::<Value>(payload);
    match function_error {
        Some(kind) => {
            let text =
                |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
            let (error_type, message) = match &parsed {
                Ok(v) => (text(v, "errorType"), text(v, "errorMessage")),
                Err(_) => (None, None),
            };
            Ok(Answer::Error {
                error_type: error_type.unwrap_or_else(|| kind.to_string()),
                message: message
                    .unwrap_or_else(|| String::from_utf8_lossy(payload).trim().to_string()),
            })
        }
        None => parsed.map(Answer::Value).map_err(|e| {
            format!(
                "{e} (payload starts {:?})",
                String::from_utf8_lossy(&payload[..payload.len().min(80)])
            )
        }),
    }
}

/// The exit code for a function's error, by its `errorType` (docs/kill-switch.md "Bad
/// requests", docs/dlq-inspector.md). Refusals changed nothing.
pub fn error_exit(error_type: &str) -> Exit {
    match error_type {
        "KillSwitch.MalformedRequest"
        | "KillSwitch.UnknownAction"
        | "KillSwitch.MissingReason"
        | "KillSwitch.UnknownFunction"
        | "KillSwitch.FunctionRequired"
        | "KillSwitch.UnrecognisedEvent"
        | "KillSwitch.RequestTooLarge"
        | "KillSwitch.FieldTooLong"
        | "Dlq.UnknownAction"
        | "Dlq.PurgeNotConfirmed"
        | "Dlq.BadRequest"
        | "Dlq.TargetStopped" => Exit::Refused,
        // Stopped without its record / resumed with the record left: the main step held.
        "KillSwitch.RecordFailed" | "KillSwitch.ClearFailed" => Exit::Partly,
        _ => Exit::Failed,
    }
}

/// The human lines for a function's error.
/// The function's answer, or, when it raised an error instead, that error's summary
/// (`who`: the function, as the summary names it).
pub fn value_or_summary<'a>(
    answer: &'a Answer,
    who: &str,
    me: &str,
    style: Style,
) -> Result<&'a Value, Summary> {
    match answer {
        Answer::Value(v) => Ok(v),
        Answer::Error {
            error_type,
            message,
        } => Err(Summary {
            text: render_error(who, error_type, message, me, style),
            exit: error_exit(error_type),
        }),
    }
}

pub fn render_error(who: &str, error_type: &str, message: &str, me: &str, style: Style) -> String {
    let exit = error_exit(error_type);
    let message = crate::error::one_line(message);
    let (word, after) = match exit {
        Exit::Refused => (style.red("REFUSED"), "nothing was changed.".to_string()),
        Exit::Partly => (
            style.yellow("PARTLY DONE"),
            format!("next: see where things stand: {me} status"),
        ),
        _ => (
            style.red("FAILED"),
            if error_type.contains("Timedout") || message.contains("timed out") {
                format!(
                    "next: the {who} ran out of time; see where things stand: {me} status, then run the same command again"
                )
            } else {
                format!("next: see where things stand: {me} status")
            },
        ),
    };
    format!("{word}  the {who} answered {error_type}: {message}\n{after}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_and_errors_are_read() {
        assert_eq!(
            read(None, br#"{"state":"stopped"}"#),
            Ok(Answer::Value(json!({"state": "stopped"})))
        );
        assert!(read(None, b"not json").unwrap_err().contains("not json"));
        assert_eq!(
            read(
                Some("Unhandled"),
                br#"{"errorType":"KillSwitch.MissingReason","errorMessage":"field \"reason\" is required"}"#
            ),
            Ok(Answer::Error {
                error_type: "KillSwitch.MissingReason".into(),
                message: "field \"reason\" is required".into()
            })
        );
        assert_eq!(
            read(Some("Unhandled"), b"Task timed out\n"),
            Ok(Answer::Error {
                error_type: "Unhandled".into(),
                message: "Task timed out".into()
            })
        );
    }

    #[test]
    fn error_types_map_to_exits() {
        assert_eq!(error_exit("KillSwitch.MissingReason"), Exit::Refused);
        assert_eq!(error_exit("KillSwitch.UnknownFunction"), Exit::Refused);
        assert_eq!(error_exit("Dlq.PurgeNotConfirmed"), Exit::Refused);
        assert_eq!(error_exit("Dlq.TargetStopped"), Exit::Refused);
        assert_eq!(error_exit("KillSwitch.RecordFailed"), Exit::Partly);
        assert_eq!(error_exit("KillSwitch.StopFailed"), Exit::Failed);
        assert_eq!(error_exit("Sandbox.Timedout"), Exit::Failed);
        assert_eq!(error_exit("Unhandled"), Exit::Failed);
    }

    #[test]
    fn errors_render_what_happened_and_next() {
        let refused = render_error(
            "kill switch",
            "KillSwitch.UnknownFunction",
            "function \"x\" is not guarded by this kill switch; use one of: bot",
            "rollout-guardian",
            Style::PLAIN,
        );
        assert_eq!(
            refused,
            "REFUSED  the kill switch answered KillSwitch.UnknownFunction: function \"x\" is not \
             guarded by this kill switch; use one of: bot\nnothing was changed.\n"
        );
        let timeout = render_error(
            "kill switch",
            "Sandbox.Timedout",
            "Task timed out after 30.00 seconds",
            "rollout-guardian",
            Style::PLAIN,
        );
        assert!(timeout.contains("ran out of time") && timeout.contains("rollout-guardian status"));
    }
}
