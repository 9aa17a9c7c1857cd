//! The DLQ inspector's request, and its report as a person reads it (DESIGN §4; the
//! report's fields are guardian::dlq::report::Report).

use std::time::Duration;

use guardian::dlq::report::human_age;
use guardian::dlq::request::Action;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::{self, Answer};
use crate::exit::Exit;
use crate::killswitch::Summary;
use crate::style::Style;

/// What to ask the DLQ inspector: only the options given are sent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Options {
    pub max_messages: Option<u64>,
    pub max_age: Option<Duration>,
    pub dry_run: bool,
    pub rate_per_second: Option<f64>,
    pub error_code: Option<String>,
    pub confirm: Option<String>,
    /// The guarded function whose DLQ (an inspector watching several needs it to change one).
    pub function: Option<String>,
}

pub fn request(action: Action, o: &Options) -> Value {
    let name = match action {
        Action::Inspect => "inspect",
        Action::Redrive => "redrive",
        Action::Purge => "purge",
    };
    let mut out = json!({"action": name});
    if let Some(n) = o.max_messages {
        out["max_messages"] = json!(n);
    }
    if let Some(age) = o.max_age {
        out["max_age_seconds"] = json!(age.as_secs());
    }
    if o.dry_run {
        out["dry_run"] = json!(true);
    }
    if let Some(rate) = o.rate_per_second {
        out["rate_per_second"] = json!(rate);
    }
    if let Some(code) = &o.error_code {
        out["error_code"] = json!(code);
    }
    if let Some(confirm) = &o.confirm {
        out["confirm"] = json!(confirm);
    }
    if let Some(function) = &o.function {
        out["function"] = json!(function);
    }
    out
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Report {
    queue: String,
    dry_run: bool,
    destination: Option<String>,
    depth: Depth,
    examined: u64,
    oldest_age_seconds: Option<u64>,
    aged_from_dlq_arrival: u64,
    groups: Vec<Group>,
    samples: Vec<Sample>,
    outcome: Option<Outcome>,
    complete: Option<bool>,
    stopped_early: Option<String>,
    release_failed: u64,
    visible_again_within_seconds: u64,
    alert_error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Depth {
    visible: u64,
    in_flight: u64,
    delayed: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Group {
    by: String,
    key: String,
    error_message: Option<String>,
    count: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Sample {
    message_id: String,
    error_code: Option<String>,
    error_message: Option<String>,
    age_seconds: Option<u64>,
    body: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Outcome {
    not_selected: u64,
    stale: u64,
    dry_run_selected: u64,
    redriven: u64,
    purged: u64,
    resend_failed: u64,
    delete_failed: u64,
    duplicates: u64,
    duplicate_message_ids: Vec<String>,
    not_attempted: u64,
}

impl Outcome {
    fn went_wrong(&self) -> u64 {
        self.resend_failed + self.delete_failed + self.duplicates + self.not_attempted
    }

    fn went_right(&self) -> u64 {
        self.redriven + self.purged + self.dry_run_selected
    }
}

/// Sample bodies are cut to this on a terminal (the `--json` report has the inspector's own
/// cut).
const BODY_CHARS: usize = 160;

pub fn summarize(action: Action, answer: &Answer, me: &str, style: Style) -> Summary {
    let value = match answer::value_or_summary(answer, "DLQ inspector", me, style) {
        Ok(value) => value,
        Err(summary) => return summary,
    };
    // An inspect naming no function, of an inspector watching several DLQs: one report each.
    let reports: Vec<Report> = match value.get("reports").and_then(Value::as_array) {
        Some(many) => many
            .iter()
            .map(|r| serde_json::from_value(r.clone()).unwrap_or_default())
            .collect(),
        None => vec![serde_json::from_value(value.clone()).unwrap_or_default()],
    };
    Summary {
        text: reports
            .iter()
            .map(|r| render(action, r, me, style))
            .collect::<Vec<_>>()
            .join("\n"),
        exit: reports
            .iter()
            .map(|r| exit_for(action, r))
            .find(|e| *e != Exit::Done)
            .unwrap_or(Exit::Done),
    }
}

fn exit_for(action: Action, r: &Report) -> Exit {
    let complete = r.complete.unwrap_or(true);
    let outcome = r.outcome.as_ref();
    let wrong = outcome.map_or(0, Outcome::went_wrong);
    let right = outcome.map_or(0, Outcome::went_right);
    match action {
        Action::Inspect if complete => Exit::Done,
        Action::Inspect => Exit::Partly,
        _ if wrong > 0 && right == 0 => Exit::Failed,
        _ if wrong > 0 || !complete || r.alert_error.is_some() => Exit::Partly,
        _ => Exit::Done,
    }
}

fn cut(text: &str, chars: usize) -> String {
    let one_line = crate::error::one_line(text);
    if one_line.chars().count() <= chars {
        one_line
    } else {
        format!("{}...", one_line.chars().take(chars).collect::<String>())
    }
}

fn render(action: Action, r: &Report, me: &str, style: Style) -> String {
    let mut out = String::new();
    let d = &r.depth;
    let queue = style.bold(&r.queue);
    let dry = if r.dry_run { " (dry run)" } else { "" };
    match action {
        Action::Inspect if d.visible + d.in_flight + d.delayed == 0 => {
            out.push_str(&format!("{}  DLQ {queue} is empty\n", style.green("EMPTY")));
            return out;
        }
        Action::Inspect => out.push_str(&format!(
            "{}  DLQ {queue}: {} waiting, {} in flight, {} delayed\n",
            style.yellow("INSPECT"),
            d.visible,
            d.in_flight,
            d.delayed
        )),
        Action::Redrive => out.push_str(&format!(
            "{}{dry}  DLQ {queue} -> {}\n",
            style.bold("REDRIVE"),
            r.destination.as_deref().unwrap_or("the guarded function")
        )),
        Action::Purge => out.push_str(&format!("{}{dry}  DLQ {queue}\n", style.bold("PURGE"))),
    }
    out.push_str(&format!(
        "  examined {} of {} waiting{}\n",
        r.examined,
        d.visible,
        r.oldest_age_seconds
            .map(|s| format!("; the oldest has waited {}", human_age(s)))
            .unwrap_or_default()
    ));
    if r.aged_from_dlq_arrival > 0 {
        out.push_str(&format!(
            "  {} message(s) carry no event time: their age counts from their arrival in the DLQ (a lower bound)\n",
            r.aged_from_dlq_arrival
        ));
    }
    if let Some(o) = &r.outcome {
        out.push_str(&outcome_lines(action, o, style));
    }
    if action == Action::Inspect && !r.groups.is_empty() {
        out.push_str("failures by group:\n");
        for g in &r.groups {
            let message = g
                .error_message
                .as_deref()
                .map(|m| format!(": {}", cut(m, 100)))
                .unwrap_or_default();
            out.push_str(&format!("  {:>5} x {} {}{message}\n", g.count, g.by, g.key));
        }
    }
    if action == Action::Inspect && !r.samples.is_empty() {
        out.push_str("samples (redacted):\n");
        for s in &r.samples {
            let age = s
                .age_seconds
                .map(|a| format!(", waited {}", human_age(a)))
                .unwrap_or_default();
            let error = match (&s.error_code, &s.error_message) {
                (Some(c), Some(m)) => format!(", ErrorCode {c}: {}", cut(m, 80)),
                (Some(c), None) => format!(", ErrorCode {c}"),
                _ => String::new(),
            };
            out.push_str(&format!("  - {}{age}{error}\n", s.message_id));
            out.push_str(&format!("    {}\n", cut(&s.body, BODY_CHARS)));
        }
    }
    let mut warnings = Vec::new();
    if let Some(why) = &r.stopped_early {
        warnings.push(format!("stopped early: {why}"));
    }
    if let Some(e) = &r.alert_error {
        warnings.push(format!(
            "the report was not published to the alert topic: {e}"
        ));
    }
    if r.release_failed > 0 {
        warnings.push(format!(
            "{} message(s) could not be released: they are visible again within {}",
            r.release_failed,
            human_age(r.visible_again_within_seconds)
        ));
    }
    for w in warnings {
        out.push_str(&format!("{} {w}\n", style.yellow("warning:")));
    }
    if action == Action::Inspect {
        out.push_str("nothing was consumed: every message read is back in the queue\n");
    }
    for (i, line) in next_steps(action, r, me).iter().enumerate() {
        let label = if i == 0 {
            style.bold("next:")
        } else {
            "     ".to_string()
        };
        out.push_str(&format!("{label} {line}\n"));
    }
    out
}

fn outcome_lines(action: Action, o: &Outcome, style: Style) -> String {
    let would = if action == Action::Purge {
        "would purge"
    } else {
        "would re-send"
    };
    let rows: [(u64, &str, bool); 9] = [
        (o.redriven, "re-sent and removed from the DLQ", false),
        (o.purged, "purged", false),
        (o.dry_run_selected, would, false),
        (o.stale, "stale (older than --max-age), kept", false),
        (o.not_selected, "not selected, kept", false),
        (o.resend_failed, "re-send failed, kept", true),
        (o.delete_failed, "delete failed, kept", true),
        (
            o.duplicates,
            "re-sent but still in the DLQ: a second redrive would replay them twice",
            true,
        ),
        (o.not_attempted, "not attempted, kept", true),
    ];
    let mut out = String::new();
    for (n, label, bad) in rows {
        if n == 0 {
            continue;
        }
        let line = format!("  {n:>5} {label}");
        out.push_str(&if bad { style.red(&line) } else { line });
        out.push('\n');
    }
    if !o.duplicate_message_ids.is_empty() {
        out.push_str(&format!(
            "        duplicates: {}\n",
            o.duplicate_message_ids.join(", ")
        ));
    }
    if out.is_empty() {
        out.push_str("  nothing was selected\n");
    }
    out
}

fn next_steps(action: Action, r: &Report, me: &str) -> Vec<String> {
    let mut next = Vec::new();
    let o = r.outcome.as_ref();
    match action {
        Action::Inspect if r.depth.visible > 0 => {
            next.push(format!(
                "rehearse a redrive (stale trade signals are skipped): {me} dlq redrive --dry-run --max-age 30m"
            ));
        }
        Action::Redrive | Action::Purge
            if r.dry_run && o.is_some_and(|o| o.dry_run_selected > 0) =>
        {
            next.push("run the same command without --dry-run".to_string());
        }
        _ => {}
    }
    if o.is_some_and(|o| o.duplicates > 0) {
        next.push(
            "remove the duplicates from the DLQ before any further redrive (docs/RUNBOOK.md section 4)"
                .to_string(),
        );
    }
    if o.is_some_and(|o| o.resend_failed + o.not_attempted + o.delete_failed > 0) {
        next.push(format!("see what is left: {me} dlq inspect"));
    }
    if action == Action::Redrive && !r.dry_run && o.is_some_and(|o| o.stale > 0) {
        next.push(format!(
            "stale messages stay in the DLQ: once reviewed, remove them with {me} dlq purge"
        ));
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "rollout-guardian";

    fn summary(action: Action, v: Value) -> Summary {
        summarize(action, &Answer::Value(v), ME, Style::PLAIN)
    }

    #[test]
    fn requests_carry_only_what_was_given() {
        assert_eq!(
            request(Action::Inspect, &Options::default()),
            json!({"action": "inspect"})
        );
        let o = Options {
            max_messages: Some(50),
            max_age: Some(Duration::from_secs(1_800)),
            dry_run: true,
            rate_per_second: Some(5.0),
            error_code: Some("200".into()),
            confirm: None,
            function: None,
        };
        assert_eq!(
            request(Action::Redrive, &o),
            json!({"action": "redrive", "max_messages": 50, "max_age_seconds": 1800,
                   "dry_run": true, "rate_per_second": 5.0, "error_code": "200"})
        );
        let purge = Options {
            confirm: Some("rg-dlq".into()),
            ..Options::default()
        };
        assert_eq!(
            request(Action::Purge, &purge),
            json!({"action": "purge", "confirm": "rg-dlq"})
        );
    }

    #[test]
    fn an_inspector_watching_several_dlqs_answers_a_report_each() {
        let named = Options {
            function: Some("pricing-bot".into()),
            ..Options::default()
        };
        assert_eq!(
            request(Action::Redrive, &named),
            json!({"action": "redrive", "function": "pricing-bot"})
        );
        let mut second = inspect_report();
        second["queue"] = json!("pricing-dlq");
        let s = summary(
            Action::Inspect,
            json!({"reports": [inspect_report(), second]}),
        );
        assert!(
            s.text.contains("rg-dlq") && s.text.contains("pricing-dlq"),
            "{}",
            s.text
        );
        assert_eq!(s.exit, Exit::Done);
    }

    fn inspect_report() -> Value {
        json!({
            "action": "inspect", "queue": "rg-dlq", "dry_run": false,
            "depth": {"visible": 3, "in_flight": 0, "delayed": 0},
            "examined": 3, "oldest_age_seconds": 125, "aged_from_dlq_arrival": 1,
            "receive_counts": {"1": 3},
            "groups": [
                {"by": "ErrorCode", "key": "200", "error_message": "Unhandled", "count": 2, "oldest_age_seconds": 125},
                {"by": "none", "key": "(no ErrorCode)", "error_message": null, "count": 1, "oldest_age_seconds": 5}
            ],
            "samples": [{"message_id": "m-1", "request_id": null, "error_code": "200",
                         "error_message": "Unhandled", "age_seconds": 125, "receive_count": 1,
                         "body": "{\"symbol\":\"EURUSD\",\n \"token\":\"[redacted]\"}"}],
            "complete": true, "stopped_early": null, "released": 3, "release_failed": 0,
            "visible_again_within_seconds": 40
        })
    }

    #[test]
    fn inspect_shows_depth_groups_samples_and_the_next_step() {
        let s = summary(Action::Inspect, inspect_report());
        assert_eq!(s.exit, Exit::Done);
        assert_eq!(
            s.text,
            "INSPECT  DLQ rg-dlq: 3 waiting, 0 in flight, 0 delayed\n\
             \x20 examined 3 of 3 waiting; the oldest has waited 2m5s\n\
             \x20 1 message(s) carry no event time: their age counts from their arrival in the DLQ (a lower bound)\n\
             failures by group:\n\
             \x20     2 x ErrorCode 200: Unhandled\n\
             \x20     1 x none (no ErrorCode)\n\
             samples (redacted):\n\
             \x20 - m-1, waited 2m5s, ErrorCode 200: Unhandled\n\
             \x20   {\"symbol\":\"EURUSD\", \"token\":\"[redacted]\"}\n\
             nothing was consumed: every message read is back in the queue\n\
             next: rehearse a redrive (stale trade signals are skipped): rollout-guardian dlq redrive --dry-run --max-age 30m\n"
        );
    }

    #[test]
    fn an_empty_queue_is_one_line() {
        let v = json!({"action": "inspect", "queue": "rg-dlq", "depth": {"visible": 0, "in_flight": 0, "delayed": 0}, "examined": 0, "complete": true});
        let s = summary(Action::Inspect, v);
        assert_eq!(
            (s.text.as_str(), s.exit),
            ("EMPTY  DLQ rg-dlq is empty\n", Exit::Done)
        );
    }

    fn redrive(outcome: Value, dry_run: bool) -> Value {
        json!({"action": "redrive", "queue": "rg-dlq", "dry_run": dry_run,
               "destination": "function:bot:live",
               "depth": {"visible": 4, "in_flight": 0, "delayed": 0}, "examined": 4,
               "groups": [], "samples": [], "outcome": outcome, "complete": true,
               "released": 2, "release_failed": 0, "visible_again_within_seconds": 40})
    }

    #[test]
    fn a_dry_run_says_what_would_happen() {
        let s = summary(
            Action::Redrive,
            redrive(json!({"dry_run_selected": 3, "stale": 1}), true),
        );
        assert_eq!(s.exit, Exit::Done);
        assert_eq!(
            s.text,
            "REDRIVE (dry run)  DLQ rg-dlq -> function:bot:live\n\
             \x20 examined 4 of 4 waiting\n\
             \x20     3 would re-send\n\
             \x20     1 stale (older than --max-age), kept\n\
             next: run the same command without --dry-run\n"
        );
    }

    #[test]
    fn redrive_outcomes_map_to_exits() {
        let done = summary(
            Action::Redrive,
            redrive(json!({"redriven": 3, "stale": 1}), false),
        );
        assert_eq!(done.exit, Exit::Done);
        assert!(
            done.text
                .contains("remove them with rollout-guardian dlq purge"),
            "{}",
            done.text
        );
        let partly = summary(
            Action::Redrive,
            redrive(
                json!({"redriven": 2, "duplicates": 1, "duplicate_message_ids": ["m-9"]}),
                false,
            ),
        );
        assert_eq!(partly.exit, Exit::Partly);
        assert!(partly.text.contains("duplicates: m-9"));
        let failed = summary(Action::Redrive, redrive(json!({"resend_failed": 4}), false));
        assert_eq!(failed.exit, Exit::Failed);
        assert!(
            failed
                .text
                .contains("see what is left: rollout-guardian dlq inspect")
        );
        let mut unpublished = redrive(json!({"redriven": 1}), false);
        unpublished["alert_error"] = json!("Publish failed: boom");
        let s = summary(Action::Redrive, unpublished);
        assert_eq!(s.exit, Exit::Partly);
        assert!(s.text.contains(
            "warning: the report was not published to the alert topic: Publish failed: boom"
        ));
        let mut early = inspect_report();
        early["complete"] = json!(false);
        early["stopped_early"] = json!("the deadline was near");
        let s = summary(Action::Inspect, early);
        assert_eq!(s.exit, Exit::Partly);
        assert!(
            s.text
                .contains("warning: stopped early: the deadline was near")
        );
    }

    #[test]
    fn a_purge_counts_what_it_removed() {
        let mut v = redrive(json!({"purged": 2}), false);
        v["action"] = json!("purge");
        let s = summary(Action::Purge, v);
        assert_eq!(s.exit, Exit::Done);
        assert!(s.text.starts_with("PURGE  DLQ rg-dlq\n"), "{}", s.text);
        assert!(s.text.contains("      2 purged\n"), "{}", s.text);
    }

    #[test]
    fn refusals_keep_the_inspector_words() {
        let stopped = Answer::Error {
            error_type: "Dlq.TargetStopped".into(),
            message:
                "bot is stopped (reserved concurrency 0, the kill switch): ... Resume trading first"
                    .into(),
        };
        let s = summarize(Action::Redrive, &stopped, ME, Style::PLAIN);
        assert_eq!(s.exit, Exit::Refused);
        assert!(s.text.contains("Resume trading first") && s.text.contains("nothing was changed"));
    }

    #[test]
    fn long_bodies_are_cut_for_the_terminal() {
        assert_eq!(cut("a\n b", 10), "a b");
        assert_eq!(cut(&"x".repeat(200), 5), "xxxxx...");
    }
}
