//! Where a redrive sends messages: `to: queue` needs a configured source queue (refused
//! before any AWS call otherwise), and the report names the destination it used.

use super::request::{Action, Destination, Request, RequestError};

/// A redrive into the source queue needs `SOURCE_QUEUE_URL`; everything else goes ahead.
pub fn check_source_queue(
    request: &Request,
    source_queue_url: Option<&str>,
) -> Result<(), RequestError> {
    if request.action != Action::Redrive
        || request.to != Destination::Queue
        || source_queue_url.is_some()
    {
        return Ok(());
    }
    Err(RequestError::BadField {
        field: "to".into(),
        problem: "is \"queue\" but SOURCE_QUEUE_URL is not set".into(),
        fix: "set SOURCE_QUEUE_URL to the queue to redrive into, or use \"to\": \"function\""
            .into(),
    })
}

/// The report's name for where a redrive sends: `function:NAME[:QUALIFIER]` or
/// `queue:URL`; `None` for inspect and purge, which send nothing.
pub fn describe(
    request: &Request,
    function: &str,
    qualifier: Option<&str>,
    source_queue_url: Option<&str>,
) -> Option<String> {
    (request.action == Action::Redrive).then(|| match (request.to, qualifier) {
        (Destination::Function, Some(q)) => format!("function:{function}:{q}"),
        (Destination::Function, None) => format!("function:{function}"),
        (Destination::Queue, _) => format!("queue:{}", source_queue_url.unwrap_or("")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlq::request::parse;
    use serde_json::json;

    fn request(payload: serde_json::Value) -> Request {
        parse(&payload, 100).unwrap()
    }

    #[test]
    fn a_redrive_to_the_queue_needs_the_source_queue() {
        let to_queue = request(json!({"action": "redrive", "to": "queue"}));
        let err = check_source_queue(&to_queue, None).unwrap_err();
        assert!(
            matches!(&err, RequestError::BadField { field, .. } if field == "to"),
            "{err}"
        );
        assert!(err.to_string().contains("SOURCE_QUEUE_URL"), "{err}");
        assert_eq!(
            check_source_queue(&to_queue, Some("https://q/source")),
            Ok(())
        );
    }

    #[test]
    fn nothing_else_needs_the_source_queue() {
        for payload in [
            json!({"action": "redrive"}),
            json!({"action": "redrive", "to": "function"}),
            json!({"action": "inspect"}),
            json!({"action": "purge", "confirm": "dlq"}),
        ] {
            assert_eq!(
                check_source_queue(&request(payload.clone()), None),
                Ok(()),
                "{payload}"
            );
        }
    }

    #[test]
    fn the_report_names_the_destination_of_a_redrive_only() {
        let to_function = request(json!({"action": "redrive"}));
        assert_eq!(
            describe(&to_function, "bot", Some("live"), None).as_deref(),
            Some("function:bot:live")
        );
        assert_eq!(
            describe(&to_function, "bot", None, None).as_deref(),
            Some("function:bot")
        );
        let to_queue = request(json!({"action": "redrive", "to": "queue"}));
        assert_eq!(
            describe(&to_queue, "bot", None, Some("https://q/source")).as_deref(),
            Some("queue:https://q/source")
        );
        assert_eq!(describe(&request(json!({})), "bot", None, None), None);
    }
}
