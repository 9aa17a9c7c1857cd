//! What a kill-switch invocation did, typed by its action: the answer it returns (and the
//! alert a stop or resume sends) says the state the function is in, what was done and what
//! failed.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::record::{Concurrency, StopRecord};
use super::request::Action;
use super::settle::Snapshot;
use crate::publication::Publication;

/// One step that did not work; it did not undo or block the ones before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub step: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub action: Action,
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
    /// The guarded function's account, from its ARN: alerts carry it (a central topic
    /// collects many accounts' alerts).
    pub account: Option<String>,
}

impl Outcome {
    pub fn new(action: Action, function: &str) -> Self {
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
            account: None,
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

    /// The invocation's answer. A status only reads, so it has no steps to list.
    pub fn to_json(&self) -> Value {
        let record = self.seen.as_ref().and_then(|s| s.record.as_ref());
        let mut out = json!({
            "action": self.action.as_str(),
            "function": self.function,
            "state": self.state(),
            "since": record.map(|r| r.stopped_at.as_str()),
            "by": record.map(|r| r.stopped_by.as_str()),
            "reason": record.map(|r| r.reason.as_str()),
            "reserved_concurrency": self.seen.as_ref().map(|s| concurrency_json(s.concurrency)),
            "previous_concurrency": record.map(|r| r.previous.to_string()),
        });
        if self.action != Action::Status {
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

    /// The critical alert for a stop or a resume; a status changes nothing, so it has none.
    pub fn alert(&self, requested_by: &str, reason: &str) -> Option<Publication> {
        let verb = match self.action {
            Action::Stop => "STOPPED",
            Action::Resume => "RESUMED",
            Action::Status => return None,
        };
        let subject = format!("[CRITICAL] {verb}: {} by {requested_by}", self.function);
        let mut body = format!(
            "Kill switch {}: {} is now {}.\nRequested by: {requested_by}\nReason: {reason}\n",
            self.action.as_str(),
            self.function,
            self.state()
        );
        if let Some(account) = &self.account {
            body.push_str(&format!("Account: {account}\n"));
        }
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
        Some(Publication {
            subject: Some(subject),
            message: body,
            per_protocol: false,
            attributes: BTreeMap::from_iter(
                [
                    ("severity", "critical"),
                    ("source", "kill-switch"),
                    ("action", self.action.as_str()),
                    ("function", self.function.as_str()),
                ]
                .into_iter()
                .chain(self.account.as_deref().map(|a| ("account", a)))
                .map(|(k, v)| (k.to_string(), v.to_string())),
            ),
        })
    }
}

/// A number, or `"none"` when unreserved (the same spelling as the record).
fn concurrency_json(value: Option<i32>) -> Value {
    value.map_or_else(|| json!("none"), |n| json!(n))
}

#[cfg(test)]
mod tests;
