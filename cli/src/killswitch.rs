//! The kill switch's request, and its answer as a person reads it (DESIGN §5; the answer's
//! fields are guardian::killswitch::outcome::Outcome::to_json).

use guardian::killswitch::request::Action;
use guardian::queue::QueueDepth;
use guardian_aws::codedeploy::InFlight;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::{self, Answer};
use crate::exit::Exit;
use crate::style::Style;

/// The invoke payload: `{"action", "reason", "requested_by", "function"}`, without the
/// fields not given.
pub fn request(
    action: Action,
    reason: Option<&str>,
    requested_by: Option<&str>,
    function: Option<&str>,
) -> Value {
    let mut out = json!({"action": action.as_str()});
    for (key, value) in [
        ("reason", reason),
        ("requested_by", requested_by),
        ("function", function),
    ] {
        if let Some(v) = value {
            out[key] = json!(v);
        }
    }
    out
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Reply {
    function: String,
    state: String,
    since: Option<String>,
    by: Option<String>,
    reason: Option<String>,
    reserved_concurrency: Value,
    previous_concurrency: Option<String>,
    done: Vec<String>,
    failed: Vec<Failure>,
    consistent: Option<bool>,
    alert_failed: Option<bool>,
    resumed_from: Option<ResumedFrom>,
    dlq_messages: Option<u64>,
    notes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Failure {
    step: String,
    error: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResumedFrom {
    stopped_at: String,
    stopped_by: String,
    reason: String,
    previous_concurrency: String,
}

/// A read the CLI makes itself for `status`, with the operator's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read<T> {
    Got(T),
    /// AccessDenied: the IAM action that was refused.
    NotPermitted(String),
    Failed(String),
    /// Not attempted: the stack's outputs are not known.
    Unknown,
    /// Not attempted: the stack was read and does not name it (a guardian-only stack guards
    /// functions of other stacks, whose deployment groups and DLQs its outputs do not list).
    NotInStack,
}

impl<T> Read<T> {
    fn went_wrong(&self) -> bool {
        matches!(self, Read::NotPermitted(_) | Read::Failed(_))
    }
}

/// What `status` adds to the kill switch's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extras {
    pub deployments: Read<Vec<InFlight>>,
    pub dlq: Read<QueueDepth>,
    pub dlq_name: Option<String>,
}

pub use crate::answer::Summary;

/// `me`: how to run this CLI again against the same guardian (for the "next" lines).
pub fn summarize(
    action: Action,
    answer: &Answer,
    extras: Option<&Extras>,
    me: &str,
    style: Style,
) -> Summary {
    let value = match answer::value_or_summary(answer, "kill switch", me, style) {
        Ok(value) => value,
        Err(summary) => return summary,
    };
    let reply: Reply = serde_json::from_value(value.clone()).unwrap_or_default();
    let exit = exit_for(action, &reply, extras);
    Summary {
        text: render(action, &reply, extras, exit, me, style),
        exit,
    }
}

fn exit_for(action: Action, r: &Reply, extras: Option<&Extras>) -> Exit {
    let side_failed =
        !r.failed.is_empty() || r.alert_failed == Some(true) || r.consistent == Some(false);
    let goal = match action {
        Action::Status => {
            let extras_wrong =
                extras.is_some_and(|e| e.dlq.went_wrong() || e.deployments.went_wrong());
            return match r.state.as_str() {
                "stopped" | "running" if extras_wrong => Exit::Partly,
                "stopped" | "running" => Exit::Done,
                _ => Exit::Failed,
            };
        }
        Action::Stop => "stopped",
        Action::Resume => "running",
    };
    match r.state.as_str() {
        s if s == goal && side_failed => Exit::Partly,
        s if s == goal => Exit::Done,
        // The change was made but could not be read back ("verify" failed).
        "unknown" => Exit::Partly,
        _ => Exit::Failed,
    }
}

fn concurrency(value: &Value) -> String {
    match value {
        Value::Number(n) => format!("reserved concurrency {n}"),
        Value::String(s) if s == "none" => "unreserved concurrency".to_string(),
        _ => "reserved concurrency unknown".to_string(),
    }
}

fn restores(previous: &str) -> String {
    match previous {
        "none" => "resume removes the reservation (it was unreserved)".to_string(),
        n => format!("resume restores reserved concurrency {n}"),
    }
}

fn render(
    action: Action,
    r: &Reply,
    extras: Option<&Extras>,
    exit: Exit,
    me: &str,
    style: Style,
) -> String {
    let mut out = String::new();
    let stopped = r.state == "stopped";
    let word = match r.state.as_str() {
        "stopped" => style.red("STOPPED"),
        "running" => style.green("RUNNING"),
        _ => style.yellow("UNKNOWN"),
    };
    let failures = match r.failed.len() {
        0 => String::new(),
        1 => ", but 1 step failed".to_string(),
        n => format!(", but {n} steps failed"),
    };
    let headline = match (action, r.state.as_str()) {
        (Action::Stop, "stopped") => format!("trading is halted{failures}"),
        (Action::Stop, _) => format!("the stop could not be verified{failures}"),
        (Action::Resume, "running") if r.resumed_from.is_none() => {
            "was not stopped; nothing changed".to_string()
        }
        (Action::Resume, "running") => format!("trading resumed{failures}"),
        (Action::Resume, "stopped") => "still stopped: the resume did not take effect".to_string(),
        (Action::Resume, _) => format!("the resume could not be verified{failures}"),
        (Action::Status, _) => String::new(),
    };
    let function = style.bold(&r.function);
    if headline.is_empty() {
        out.push_str(&format!("{word}  {function}\n"));
    } else {
        out.push_str(&format!("{word}  {function}: {headline}\n"));
    }
    if stopped {
        if let (Some(by), Some(since)) = (&r.by, &r.since) {
            out.push_str(&format!("  stopped by {by} at {since}\n"));
        }
        if let Some(reason) = &r.reason {
            out.push_str(&format!("  reason: {reason}\n"));
        }
    }
    if let Some(from) = &r.resumed_from {
        out.push_str(&format!(
            "  had been stopped by {} at {}: {}\n",
            from.stopped_by, from.stopped_at, from.reason
        ));
    }
    let mut conc = format!("  {}", concurrency(&r.reserved_concurrency));
    if let (true, Some(previous)) = (stopped, &r.previous_concurrency) {
        conc.push_str(&format!("; {}", restores(previous)));
    }
    out.push_str(&conc);
    out.push('\n');
    if let Some(n) = r.dlq_messages {
        out.push_str(&match n {
            0 => "  DLQ: empty\n".to_string(),
            n => format!("  DLQ: {n} message(s) waiting; not replayed\n"),
        });
    }
    if let Some(e) = extras {
        out.push_str(&extras_lines(e, style));
    }
    list(&mut out, "done", r.done.iter().cloned(), style, false);
    list(
        &mut out,
        "failed",
        r.failed.iter().map(|f| format!("{}: {}", f.step, f.error)),
        style,
        true,
    );
    list(&mut out, "notes", r.notes.iter().cloned(), style, false);
    let next = next_steps(action, r, extras, exit, me);
    for (i, line) in next.iter().enumerate() {
        let label = if i == 0 {
            style.bold("next:")
        } else {
            "     ".to_string()
        };
        out.push_str(&format!("{label} {line}\n"));
    }
    out
}

fn extras_lines(e: &Extras, style: Style) -> String {
    let mut out = String::new();
    out.push_str(&match &e.deployments {
        Read::Got(d) if d.is_empty() => "  deployments in flight: none\n".to_string(),
        Read::Got(d) => format!(
            "  deployments in flight: {}\n",
            d.iter()
                .map(|d| if d.rollback {
                    format!("{} (rollback)", d.id)
                } else {
                    d.id.clone()
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("  deployments in flight: {}\n", unread(other, style)),
    });
    let queue = e
        .dlq_name
        .as_deref()
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    out.push_str(&match &e.dlq {
        Read::Got(d) if d.visible + d.in_flight + d.delayed == 0 => {
            format!("  DLQ{queue}: empty\n")
        }
        Read::Got(d) => format!(
            "  DLQ{queue}: {} waiting, {} in flight, {} delayed\n",
            d.visible, d.in_flight, d.delayed
        ),
        other => format!("  DLQ{queue}: {}\n", unread(other, style)),
    });
    out
}

fn unread<T>(read: &Read<T>, style: Style) -> String {
    match read {
        Read::NotPermitted(action) => style.yellow(&format!(
            "not permitted ({action}; the stack's operator policy grants it)"
        )),
        Read::Failed(why) => style.yellow(&format!("could not read: {why}")),
        Read::Unknown => "unknown (name the stack with --stack to read it)".to_string(),
        Read::NotInStack => {
            "not shown: the stack is guardian-only (see the function's own stack)".to_string()
        }
        Read::Got(_) => String::new(),
    }
}

fn list(
    out: &mut String,
    title: &str,
    items: impl Iterator<Item = String>,
    style: Style,
    bad: bool,
) {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        return;
    }
    let title = if bad {
        style.red(title)
    } else {
        title.to_string()
    };
    out.push_str(&format!("{title}:\n"));
    for item in items {
        out.push_str(&format!("  - {item}\n"));
    }
}

/// What to do about one failed step, by its name in the answer.
fn step_advice(action: Action, step: &str, me: &str) -> String {
    let enable = if action == Action::Stop {
        "disable"
    } else {
        "enable"
    };
    if step == "alert" {
        "no alert went out: tell the team yourself".to_string()
    } else if let Some(id) = step.strip_prefix("stop_deployment:") {
        format!(
            "stop deployment {id} by hand: aws deploy stop-deployment --deployment-id {id} --auto-rollback-enabled"
        )
    } else if step == "stop_deployments" {
        "in-flight deployments were not checked: see docs/RUNBOOK.md section 3".to_string()
    } else if let Some(schedule) = step.strip_prefix("schedule:") {
        format!("{enable} schedule {schedule} by hand (EventBridge Scheduler)")
    } else if step == "dlq_depth" {
        format!("look at the DLQ: {me} dlq inspect")
    } else {
        format!("see where things stand: {me} status")
    }
}

fn next_steps(
    action: Action,
    r: &Reply,
    extras: Option<&Extras>,
    exit: Exit,
    me: &str,
) -> Vec<String> {
    let mut next: Vec<String> = Vec::new();
    let mut add = |line: String| {
        if !next.contains(&line) {
            next.push(line);
        }
    };
    for f in &r.failed {
        add(step_advice(action, &f.step, me));
    }
    let waiting = r.dlq_messages.unwrap_or(0) > 0
        || matches!(extras.map(|e| &e.dlq), Some(Read::Got(d)) if d.visible > 0);
    match (action, r.state.as_str()) {
        (Action::Stop, "stopped") => {
            add(format!("check it: {me} status"));
            add(format!(
                "resume when it is safe: {me} resume --reason '<why it is safe now>'"
            ));
        }
        (Action::Resume, "running") | (Action::Status, "running") if waiting => {
            add(format!(
                "messages wait in the DLQ: look at them first: {me} dlq inspect"
            ));
            add(format!(
                "then rehearse a redrive (stale ones are skipped): {me} dlq redrive --dry-run --max-age 30m"
            ));
        }
        (Action::Status, "stopped") => {
            add(format!(
                "resume when it is safe: {me} resume --reason '<why it is safe now>'"
            ));
        }
        (_, "stopped" | "unknown") if exit != Exit::Done => {
            add(format!("see who holds it and why: {me} status"));
        }
        _ => {}
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "rollout-guardian --stack rg";

    fn stop_answer() -> Value {
        // README.md "Stop", the answer as the kill switch returns it.
        json!({
            "action": "stop", "alert_failed": false, "by": "alice", "consistent": true,
            "done": [
                "recorded previous reserved concurrency 5",
                "set reserved concurrency to 0",
                "verified: reserved concurrency is 0 and the record is in place",
                "sent critical alert"
            ],
            "failed": [], "function": "trading-bot", "previous_concurrency": "5",
            "reason": "bad fills since 03:00", "reserved_concurrency": 0,
            "since": "2026-11-29T07:20:24Z", "state": "stopped"
        })
    }

    fn summary(action: Action, v: Value) -> Summary {
        summarize(action, &Answer::Value(v), None, ME, Style::PLAIN)
    }

    #[test]
    fn request_has_only_the_given_fields() {
        assert_eq!(
            request(Action::Stop, Some("bad fills"), Some("alice"), None),
            json!({"action": "stop", "reason": "bad fills", "requested_by": "alice"})
        );
        assert_eq!(
            request(Action::Status, None, None, Some("bot")),
            json!({"action": "status", "function": "bot"})
        );
    }

    #[test]
    fn a_clean_stop_reads_as_one_block() {
        let s = summary(Action::Stop, stop_answer());
        assert_eq!(s.exit, Exit::Done);
        assert_eq!(
            s.text,
            "STOPPED  trading-bot: trading is halted\n\
             \x20 stopped by alice at 2026-11-29T07:20:24Z\n\
             \x20 reason: bad fills since 03:00\n\
             \x20 reserved concurrency 0; resume restores reserved concurrency 5\n\
             done:\n\
             \x20 - recorded previous reserved concurrency 5\n\
             \x20 - set reserved concurrency to 0\n\
             \x20 - verified: reserved concurrency is 0 and the record is in place\n\
             \x20 - sent critical alert\n\
             next: check it: rollout-guardian --stack rg status\n\
             \x20     resume when it is safe: rollout-guardian --stack rg resume --reason '<why it is safe now>'\n"
        );
    }

    #[test]
    fn a_stop_whose_alert_failed_is_done_partly_and_says_what_to_do() {
        let mut v = stop_answer();
        v["alert_failed"] = json!(true);
        v["failed"] =
            json!([{"step": "alert", "error": "Publish failed: InternalError: injected by test"}]);
        let s = summary(Action::Stop, v);
        assert_eq!(s.exit, Exit::Partly);
        assert!(
            s.text
                .starts_with("STOPPED  trading-bot: trading is halted, but 1 step failed\n"),
            "{}",
            s.text
        );
        assert!(
            s.text
                .contains("failed:\n  - alert: Publish failed: InternalError: injected by test\n")
        );
        assert!(
            s.text
                .contains("next: no alert went out: tell the team yourself\n"),
            "{}",
            s.text
        );
        // alert_failed alone (an older answer without the step) is enough.
        let mut v = stop_answer();
        v["alert_failed"] = json!(true);
        assert_eq!(summary(Action::Stop, v).exit, Exit::Partly);
    }

    #[test]
    fn side_step_failures_each_get_their_advice() {
        let mut v = stop_answer();
        v["failed"] = json!([
            {"step": "stop_deployment:d-ABC", "error": "StopDeployment failed"},
            {"step": "schedule:default/bot-tick", "error": "UpdateSchedule failed"},
            {"step": "verify", "error": "GetFunction failed"}
        ]);
        let s = summary(Action::Stop, v);
        assert_eq!(s.exit, Exit::Partly);
        assert!(
            s.text.contains(
                "aws deploy stop-deployment --deployment-id d-ABC --auto-rollback-enabled"
            )
        );
        assert!(s.text.contains("disable schedule default/bot-tick by hand"));
        assert!(
            s.text
                .contains("see where things stand: rollout-guardian --stack rg status")
        );
    }

    #[test]
    fn a_stop_that_did_not_hold_failed() {
        let mut v = stop_answer();
        v["state"] = json!("running");
        assert_eq!(summary(Action::Stop, v.clone()).exit, Exit::Failed);
        v["state"] = json!("unknown");
        assert_eq!(summary(Action::Stop, v).exit, Exit::Partly);
    }

    fn resume_answer() -> Value {
        // README.md "Resume".
        json!({
            "action": "resume", "alert_failed": false, "by": null, "consistent": true,
            "dlq_messages": 3,
            "done": [
                "restored reserved concurrency 1",
                "removed the stop record (2026-11-29T07:20:22Z by alice)",
                "verified: reserved concurrency restored and no record left",
                "enabled schedule default/bot-tick",
                "sent critical alert"
            ],
            "failed": [], "function": "trading-bot",
            "notes": ["3 message(s) wait in the DLQ; they were not replayed: inspect them with the dlq-inspector before redriving"],
            "previous_concurrency": null, "reason": null, "reserved_concurrency": 1,
            "resumed_from": {"previous_concurrency": "1", "reason": "bad fills since 03:00",
                             "stopped_at": "2026-11-29T07:20:22Z", "stopped_by": "alice"},
            "since": null, "state": "running"
        })
    }

    #[test]
    fn a_resume_says_what_it_restored_and_points_at_the_dlq() {
        let s = summary(Action::Resume, resume_answer());
        assert_eq!(s.exit, Exit::Done);
        assert!(
            s.text.starts_with(
                "RUNNING  trading-bot: trading resumed\n\
             \x20 had been stopped by alice at 2026-11-29T07:20:22Z: bad fills since 03:00\n\
             \x20 reserved concurrency 1\n\
             \x20 DLQ: 3 message(s) waiting; not replayed\n"
            ),
            "{}",
            s.text
        );
        assert!(
            s.text.ends_with(
                "next: messages wait in the DLQ: look at them first: rollout-guardian --stack rg dlq inspect\n\
                 \x20     then rehearse a redrive (stale ones are skipped): rollout-guardian --stack rg dlq redrive --dry-run --max-age 30m\n"
            ),
            "{}",
            s.text
        );
    }

    #[test]
    fn a_resume_of_a_running_function_changes_nothing_and_one_that_did_not_hold_failed() {
        let v = json!({"action": "resume", "function": "bot", "state": "running",
            "reserved_concurrency": 1, "done": [], "failed": [], "consistent": true,
            "notes": ["not stopped: nothing to resume, nothing changed"]});
        let s = summary(Action::Resume, v);
        assert_eq!(s.exit, Exit::Done);
        assert!(
            s.text
                .starts_with("RUNNING  bot: was not stopped; nothing changed\n")
        );
        let held = json!({"action": "resume", "function": "bot", "state": "stopped",
            "reserved_concurrency": 0, "by": "alarm:x", "since": "t", "reason": "r",
            "previous_concurrency": "1", "notes": ["a newer stop holds the function: it stays stopped"]});
        let s = summary(Action::Resume, held);
        assert_eq!(s.exit, Exit::Failed);
        assert!(
            s.text
                .contains("still stopped: the resume did not take effect")
        );
        assert!(
            s.text
                .contains("next: see who holds it and why: rollout-guardian --stack rg status")
        );
    }

    fn extras(dlq: Read<QueueDepth>) -> Extras {
        Extras {
            deployments: Read::Got(vec![InFlight {
                id: "d-1".into(),
                rollback: true,
            }]),
            dlq,
            dlq_name: Some("rg-dlq".into()),
        }
    }

    #[test]
    fn status_adds_what_the_cli_read_and_says_what_it_could_not() {
        let status = json!({"action": "status", "by": "alice", "function": "trading-bot",
            "previous_concurrency": "none", "reason": "bad fills", "reserved_concurrency": 0,
            "since": "2026-11-29T07:20:24Z", "state": "stopped"});
        let depth = QueueDepth {
            visible: 2,
            in_flight: 1,
            delayed: 0,
        };
        let s = summarize(
            Action::Status,
            &Answer::Value(status.clone()),
            Some(&extras(Read::Got(depth))),
            ME,
            Style::PLAIN,
        );
        assert_eq!(s.exit, Exit::Done);
        assert_eq!(
            s.text,
            "STOPPED  trading-bot\n\
             \x20 stopped by alice at 2026-11-29T07:20:24Z\n\
             \x20 reason: bad fills\n\
             \x20 reserved concurrency 0; resume removes the reservation (it was unreserved)\n\
             \x20 deployments in flight: d-1 (rollback)\n\
             \x20 DLQ rg-dlq: 2 waiting, 1 in flight, 0 delayed\n\
             next: resume when it is safe: rollout-guardian --stack rg resume --reason '<why it is safe now>'\n"
        );
        let denied = extras(Read::NotPermitted("sqs:GetQueueAttributes".into()));
        let s = summarize(
            Action::Status,
            &Answer::Value(status.clone()),
            Some(&denied),
            ME,
            Style::PLAIN,
        );
        assert_eq!(s.exit, Exit::Partly);
        assert!(s.text.contains("  DLQ rg-dlq: not permitted (sqs:GetQueueAttributes; the stack's operator policy grants it)\n"), "{}", s.text);
        let unknown = Extras {
            deployments: Read::Unknown,
            dlq: Read::Unknown,
            dlq_name: None,
        };
        let s = summarize(
            Action::Status,
            &Answer::Value(status),
            Some(&unknown),
            ME,
            Style::PLAIN,
        );
        assert_eq!(s.exit, Exit::Done);
        assert!(
            s.text
                .contains("  DLQ: unknown (name the stack with --stack to read it)\n")
        );
    }

    #[test]
    fn a_running_status_is_green_on_a_terminal() {
        let v = json!({"action": "status", "function": "bot", "state": "running", "reserved_concurrency": "none"});
        let s = summarize(
            Action::Status,
            &Answer::Value(v),
            None,
            ME,
            Style { color: true },
        );
        assert!(
            s.text.starts_with(
                "\x1b[1;32mRUNNING\x1b[0m  \x1b[1mbot\x1b[0m\n  unreserved concurrency\n"
            ),
            "{:?}",
            s.text
        );
    }

    #[test]
    fn function_errors_are_refusals_or_failures() {
        let refused = Answer::Error {
            error_type: "KillSwitch.MissingReason".into(),
            message: "field \"reason\" is required for stop".into(),
        };
        let s = summarize(Action::Stop, &refused, None, ME, Style::PLAIN);
        assert_eq!(s.exit, Exit::Refused);
        assert!(s.text.starts_with("REFUSED"));
        let failed = Answer::Error {
            error_type: "KillSwitch.StopFailed".into(),
            message: "could not stop bot".into(),
        };
        assert_eq!(
            summarize(Action::Stop, &failed, None, ME, Style::PLAIN).exit,
            Exit::Failed
        );
    }
}
