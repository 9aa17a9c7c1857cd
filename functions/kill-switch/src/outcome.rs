//! The answer an invocation returns (and the alert it sends): the state the function is
//! in, what was done and what failed.

use std::collections::BTreeMap;

use guardian::killswitch::record::{Concurrency, StopRecord};
use guardian::killswitch::settle::Snapshot;
use guardian::publication::Publication;
use serde_json::{Value, json};

/// One step that did not work; it did not undo or block the ones before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub step: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub action: &'static str,
    pub function: String,
    /// The function as last read back (`None` when reading it back failed).
    pub seen: Option<Snapshot>,
    pub done: Vec<String>,
    pub failed: Vec<Failure>,
    pub notes: Vec<String>,
    /// The record a resume removed.
    pub resumed_from: Option<StopRecord>,
    pub dlq_messages: Option<u64>,
    pub alert_sent: Option<bool>,
}

impl Outcome {
    pub fn new(action: &'static str, function: &str) -> Self {
        Outcome {
            action,
            function: function.to_string(),
            seen: None,
            done: Vec::new(),
            failed: Vec::new(),
            notes: Vec::new(),
            resumed_from: None,
            dlq_messages: None,
            alert_sent: None,
        }
    }

    pub fn did(&mut self, what: impl Into<String>) {
        self.done.push(what.into());
    }

    pub fn fail(&mut self, step: impl Into<String>, error: impl ToString) {
        self.failed.push(Failure {
            step: step.into(),
            error: error.to_string(),
        });
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    pub fn state(&self) -> &'static str {
        self.seen.as_ref().map_or("unknown", Snapshot::state)
    }

    pub fn to_json(&self) -> Value {
        let record = self.seen.as_ref().and_then(|s| s.record.as_ref());
        let mut out = json!({
            "action": self.action,
            "function": self.function,
            "state": self.state(),
            "since": record.map(|r| r.stopped_at.as_str()),
            "by": record.map(|r| r.stopped_by.as_str()),
            "reason": record.map(|r| r.reason.as_str()),
            "reserved_concurrency": self.seen.as_ref().map(|s| concurrency_json(s.concurrency)),
            "previous_concurrency": record.map(|r| r.previous.to_string()),
        });
        if self.action != "status" {
            out["done"] = json!(self.done);
            out["failed"] = self
                .failed
                .iter()
                .map(|f| json!({"step": f.step, "error": f.error}))
                .collect();
            out["consistent"] = json!(self.seen.as_ref().is_some_and(Snapshot::is_consistent));
        }
        if let Some(sent) = self.alert_sent {
            out["alert_failed"] = json!(!sent);
        }
        if let Some(r) = &self.resumed_from {
            out["resumed_from"] = json!({
                "stopped_at": r.stopped_at, "stopped_by": r.stopped_by,
                "reason": r.reason, "previous_concurrency": r.previous.to_string(),
            });
        }
        if let Some(n) = self.dlq_messages {
            out["dlq_messages"] = json!(n);
        }
        if !self.notes.is_empty() {
            out["notes"] = json!(self.notes);
        }
        out
    }

    /// The critical alert for a stop or resume.
    pub fn alert(&self, requested_by: &str, reason: &str) -> Publication {
        let verb = match self.action {
            "stop" => "STOPPED",
            _ => "RESUMED",
        };
        let subject = format!("[CRITICAL] {verb}: {} by {requested_by}", self.function);
        let mut body = format!(
            "Kill switch {}: {} is now {}.\nRequested by: {requested_by}\nReason: {reason}\n",
            self.action,
            self.function,
            self.state()
        );
        if let Some(s) = &self.seen {
            body.push_str(&format!(
                "Reserved concurrency: {}\n",
                Concurrency::from_reserved(s.concurrency)
            ));
        }
        for line in &self.done {
            body.push_str(&format!("done: {line}\n"));
        }
        for f in &self.failed {
            body.push_str(&format!("FAILED {}: {}\n", f.step, f.error));
        }
        for n in &self.notes {
            body.push_str(&format!("note: {n}\n"));
        }
        Publication {
            subject: Some(subject),
            message: body,
            per_protocol: false,
            attributes: BTreeMap::from([
                ("severity".to_string(), "critical".to_string()),
                ("source".to_string(), "kill-switch".to_string()),
                ("action".to_string(), self.action.to_string()),
                ("function".to_string(), self.function.clone()),
            ]),
        }
    }
}

/// A number, or `"none"` when unreserved (the same spelling as the record).
fn concurrency_json(value: Option<i32>) -> Value {
    value.map_or_else(|| json!("none"), |n| json!(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stopped() -> Outcome {
        let mut o = Outcome::new("stop", "bot");
        o.seen = Some(Snapshot {
            record: Some(StopRecord {
                stopped_at: "2026-03-01T03:04:05Z".into(),
                stopped_by: "alice".into(),
                reason: "bad fills".into(),
                previous: Concurrency::Unreserved,
            }),
            concurrency: Some(0),
        });
        o.did("set reserved concurrency to 0");
        o.fail("alert", "Publish failed: InternalError: boom");
        o.alert_sent = Some(false);
        o
    }

    #[test]
    fn stop_answer_says_state_record_and_failures() {
        let out = stopped().to_json();
        assert_eq!(out["state"], "stopped");
        assert_eq!(out["since"], "2026-03-01T03:04:05Z");
        assert_eq!(out["by"], "alice");
        assert_eq!(out["reserved_concurrency"], 0);
        assert_eq!(out["previous_concurrency"], "none");
        assert_eq!(out["alert_failed"], true);
        assert_eq!(out["failed"][0]["step"], "alert");
        assert_eq!(out["consistent"], true);
    }

    #[test]
    fn alert_is_critical_and_names_who_and_why() {
        let p = stopped().alert("alice", "bad fills");
        assert_eq!(
            p.subject.as_deref(),
            Some("[CRITICAL] STOPPED: bot by alice")
        );
        assert_eq!(p.attributes["severity"], "critical");
        assert!(p.message.contains("Reason: bad fills") && p.message.contains("FAILED alert"));
    }
}
