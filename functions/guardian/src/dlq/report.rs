//! The report an inspection or redrive returns and publishes: depth, ages, receive counts,
//! failure groups, redacted samples, and exactly what happened to the messages.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use super::message::DlqMessage;
use super::redact::Redactor;
use super::request::Action;
use crate::preview::preview;
use crate::queue::QueueDepth;

/// Distinct groups kept; further ones are counted together, so memory stays bounded.
pub const MAX_GROUPS: usize = 50;
/// Message ids listed per outcome (the counts are always complete).
pub const MAX_LISTED_IDS: usize = 100;
const SAMPLE_BODY_CHARS: usize = 500;
const ERROR_MESSAGE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// What the group is keyed on: `ErrorCode`, the body pointer, or `none`.
    pub by: String,
    pub key: String,
    pub error_message: Option<String>,
    pub count: u64,
    pub oldest_age_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub message_id: String,
    pub request_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub age_seconds: Option<u64>,
    pub receive_count: u32,
    /// Redacted, then truncated.
    pub body: String,
}

/// `(by, key, error message)`.
type GroupKey = (String, String, Option<String>);

/// What an inspection saw, accumulated batch by batch.
#[derive(Debug, Clone)]
pub struct Tally {
    group_by_pointer: Option<String>,
    sample_limit: usize,
    pub examined: u64,
    pub oldest_age_seconds: Option<u64>,
    /// Examined messages whose age counts from their DLQ arrival (no event time in the body).
    pub aged_from_dlq_arrival: u64,
    pub receive_counts: BTreeMap<u32, u64>,
    groups: HashMap<GroupKey, (u64, Option<u64>)>,
    other_groups: u64,
    pub samples: Vec<Sample>,
}

impl Tally {
    pub fn new(group_by_pointer: Option<String>, sample_limit: usize) -> Self {
        Tally {
            group_by_pointer,
            sample_limit,
            examined: 0,
            oldest_age_seconds: None,
            aged_from_dlq_arrival: 0,
            receive_counts: BTreeMap::new(),
            groups: HashMap::new(),
            other_groups: 0,
            samples: Vec::new(),
        }
    }

    pub fn observe(&mut self, m: &DlqMessage, now_ms: u64, redactor: &Redactor) {
        self.examined += 1;
        let age = m.age(now_ms).map(|a| a.as_secs());
        self.oldest_age_seconds = self.oldest_age_seconds.max(age);
        if m.age_is_lower_bound() {
            self.aged_from_dlq_arrival += 1;
        }
        *self.receive_counts.entry(m.receive_count).or_default() += 1;

        let key = self.group_key(m);
        let room = self.groups.len() < MAX_GROUPS;
        match self.groups.get_mut(&key) {
            Some((count, oldest)) => {
                *count += 1;
                *oldest = (*oldest).max(age);
            }
            None if room => {
                self.groups.insert(key, (1, age));
            }
            None => self.other_groups += 1,
        }

        if self.samples.len() < self.sample_limit {
            self.samples.push(Sample {
                message_id: m.message_id.clone(),
                request_id: m.request_id.clone(),
                error_code: m.error_code.clone(),
                error_message: m
                    .error_message
                    .as_deref()
                    .map(|e| preview(&redactor.redact_text(e), ERROR_MESSAGE_CHARS)),
                age_seconds: age,
                receive_count: m.receive_count,
                body: preview(&redactor.redact_body(&m.body), SAMPLE_BODY_CHARS),
            });
        }
    }

    /// `ErrorCode` + `ErrorMessage` when Lambda set them; else the configured body pointer.
    fn group_key(&self, m: &DlqMessage) -> GroupKey {
        let message = m
            .error_message
            .as_deref()
            .map(|e| preview(e, ERROR_MESSAGE_CHARS));
        if let Some(code) = &m.error_code {
            return ("ErrorCode".into(), code.clone(), message);
        }
        if let Some(pointer) = &self.group_by_pointer {
            let value = m.body_json().and_then(|b| b.pointer(pointer).cloned());
            let key = match value {
                Some(Value::String(s)) => preview(&s, ERROR_MESSAGE_CHARS),
                Some(other) => preview(&other.to_string(), ERROR_MESSAGE_CHARS),
                None => "(absent)".into(),
            };
            return (pointer.clone(), key, message);
        }
        ("none".into(), "(no ErrorCode)".into(), message)
    }

    /// Groups, largest first; groups beyond `MAX_GROUPS` are summed into one `other` group.
    pub fn groups(&self) -> Vec<Group> {
        let mut groups: Vec<Group> = self
            .groups
            .iter()
            .map(|((by, key, error_message), (count, oldest))| Group {
                by: by.clone(),
                key: key.clone(),
                error_message: error_message.clone(),
                count: *count,
                oldest_age_seconds: *oldest,
            })
            .collect();
        groups.sort_by(|a, b| {
            b.count.cmp(&a.count).then_with(|| {
                (&a.by, &a.key, &a.error_message).cmp(&(&b.by, &b.key, &b.error_message))
            })
        });
        if self.other_groups > 0 {
            groups.push(Group {
                by: "other".into(),
                key: format!("(more than {MAX_GROUPS} groups)"),
                error_message: None,
                count: self.other_groups,
                oldest_age_seconds: None,
            });
        }
        groups
    }
}

/// What happened to the examined messages. Every examined message is counted in exactly
/// one of: `not_selected`, `stale`, `dry_run_selected`, `redriven`, `purged`,
/// `resend_failed`, `delete_failed`, `duplicates`, `not_attempted` (or, for inspect, none).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcome {
    pub not_selected: u64,
    /// Selected but older than `max_age_seconds`: left in the DLQ, never replayed.
    pub stale: u64,
    /// Selected in a dry run: what a real run would have re-sent or purged.
    pub dry_run_selected: u64,
    /// Re-sent and then deleted from the DLQ.
    pub redriven: u64,
    pub purged: u64,
    /// The re-send failed: still in the DLQ.
    pub resend_failed: u64,
    /// The purge delete failed: still in the DLQ.
    pub delete_failed: u64,
    /// Re-sent, but the delete failed: at the target AND still in the DLQ. Delete these by
    /// id (or purge them) before the next redrive, or they are replayed twice.
    pub duplicates: u64,
    pub duplicate_message_ids: Vec<String>,
    /// Received but not acted on because the run stopped (deadline or errors): still in the DLQ.
    pub not_attempted: u64,
}

impl Outcome {
    pub fn note_duplicate(&mut self, message_id: &str) {
        self.duplicates += 1;
        if self.duplicate_message_ids.len() < MAX_LISTED_IDS {
            self.duplicate_message_ids.push(message_id.to_string());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub action: Action,
    pub queue: String,
    pub dry_run: bool,
    /// Where `redrive` re-sends: `function:<name>[:qualifier]` or `queue:<url>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Depth when the run started.
    pub depth: QueueDepth,
    pub examined: u64,
    /// Of the examined messages: from the failed event's own time (EventBridge `time`, the
    /// schedule's scheduled time) where the body carries it, else from its DLQ arrival.
    pub oldest_age_seconds: Option<u64>,
    /// How many examined messages had no event time: their age counts from when Lambda gave
    /// up on them (after retries, or hours of throttling), so it is only a lower bound.
    pub aged_from_dlq_arrival: u64,
    /// `ApproximateReceiveCount` -> messages.
    pub receive_counts: BTreeMap<u32, u64>,
    pub groups: Vec<Group>,
    pub samples: Vec<Sample>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// True when the run went through everything it was asked to.
    pub complete: bool,
    /// Why it stopped before that, when it did.
    pub stopped_early: Option<String>,
    /// Messages left in the DLQ whose visibility was reset at the end: visible again now.
    pub released: u64,
    /// Messages whose visibility reset failed: they reappear on their own within
    /// `visible_again_within_seconds` (the run's visibility timeout).
    pub release_failed: u64,
    pub visible_again_within_seconds: u64,
}

impl Report {
    pub fn queue_is_empty(&self) -> bool {
        self.depth.visible + self.depth.in_flight + self.depth.delayed == 0
    }

    pub fn subject(&self) -> String {
        let age = self
            .oldest_age_seconds
            .map(|s| format!(", oldest {}", human_age(s)))
            .unwrap_or_default();
        let action = match self.action {
            Action::Inspect => String::new(),
            other => format!(
                " ({}{})",
                action_name(other),
                if self.dry_run { ", dry run" } else { "" }
            ),
        };
        format!(
            "DLQ {}: {} messages{age}{action}",
            self.queue, self.depth.visible
        )
    }

    /// A few readable lines, then the full JSON report.
    pub fn text(&self) -> String {
        let mut out = format!(
            "Dead-letter queue {}: {} visible, {} in flight, {} delayed when the run started.\n\
             Examined {} message(s){}.\n",
            self.queue,
            self.depth.visible,
            self.depth.in_flight,
            self.depth.delayed,
            self.examined,
            self.oldest_age_seconds
                .map(|s| format!("; the oldest has waited {}", human_age(s)))
                .unwrap_or_default()
        );
        if self.aged_from_dlq_arrival > 0 {
            out.push_str(&format!(
                "{} message(s) carry no event time: their age counts from when they reached the DLQ, so it is a lower bound.\n",
                self.aged_from_dlq_arrival
            ));
        }
        if !self.groups.is_empty() {
            out.push_str("\nFailures by group:\n");
            for g in &self.groups {
                out.push_str(&format!(
                    "  {:>6} x {} {}{}\n",
                    g.count,
                    g.by,
                    g.key,
                    g.error_message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ));
            }
        }
        if let Some(o) = &self.outcome {
            out.push_str(&format!(
                "\n{}{}: redriven {}, purged {}, dry-run selected {}, stale (kept) {}, not selected {}, \
                 re-send failed {}, delete failed {}, duplicates {}, not attempted {}.\n",
                action_name(self.action),
                if self.dry_run { " (dry run)" } else { "" },
                o.redriven,
                o.purged,
                o.dry_run_selected,
                o.stale,
                o.not_selected,
                o.resend_failed,
                o.delete_failed,
                o.duplicates,
                o.not_attempted
            ));
        }
        if let Some(reason) = &self.stopped_early {
            out.push_str(&format!("\nStopped early: {reason}\n"));
        }
        let json = serde_json::to_string_pretty(self).unwrap_or_default();
        out.push_str("\nFull report:\n");
        out.push_str(&json);
        out
    }
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Inspect => "inspect",
        Action::Redrive => "redrive",
        Action::Purge => "purge",
    }
}

/// `95` -> `1m35s`, `7300` -> `2h1m`, `200000` -> `2d7h`.
pub fn human_age(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3_600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s}s"),
        (0, _, _) => format!("{h}h{m}m"),
        _ => format!("{d}d{h}h"),
    }
}

#[cfg(test)]
mod tests;
