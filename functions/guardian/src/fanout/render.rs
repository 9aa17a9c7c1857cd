//! Rendering an alert for SNS: a subject SNS accepts, one body per subscription protocol
//! (`MessageStructure=json`), message attributes for filter policies, and the chat
//! rendering (Amazon Q Developer in chat apps custom notifications). Every rendering fits
//! SNS's 256 KB limit as a whole: long fields are cut, with a marker, until the JSON does.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::alert::{Alert, Severity, Source};
use super::links::{console_link, console_region};
use crate::publication::Publication;
use crate::sns_text::{MAX_MESSAGE_BYTES, cap_body, safe_subject};

/// SMS bodies stay within one 140-byte SMS segment.
pub const MAX_SMS_BYTES: usize = 140;
/// Room kept for the subject and message attributes, which count toward SNS's limit too.
pub const ENVELOPE_RESERVE_BYTES: usize = 4 * 1024;
/// Amazon Q Developer's limits on a custom notification's title and description.
pub const MAX_CHAT_TITLE_CHARS: usize = 250;
pub const MAX_CHAT_DESCRIPTION_CHARS: usize = 8000;

/// Where console links point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRegion {
    /// `CONSOLE_REGION`, when set, wins over the alert's own region.
    pub override_region: Option<String>,
    /// The function's region (`AWS_REGION`), when the alert names none.
    pub fallback: String,
}

/// The `MessageStructure=json` publication for a severity topic.
pub fn per_protocol(alert: &Alert, severity: Severity, links: &LinkRegion) -> Publication {
    let link = link_for(alert, links);
    let budget = MAX_MESSAGE_BYTES - ENVELOPE_RESERVE_BYTES;
    let message = fit(alert, budget, |a| {
        let text = full_text(a, severity, link.as_deref());
        let normalised = normalised_json(a, severity, link.as_deref()).to_string();
        json!({
            "default": text,
            "email": text,
            "sms": sms_text(a, severity),
            "sqs": normalised,
            "lambda": normalised,
            "https": normalised,
        })
        .to_string()
    });
    Publication {
        subject: Some(subject(alert, severity)),
        message,
        per_protocol: true,
        attributes: attributes(alert, severity),
    }
}

/// The publication for the chat topic, in the custom notification schema.
pub fn chat(alert: &Alert, severity: Severity, links: &LinkRegion) -> Publication {
    let link = link_for(alert, links);
    let title = truncate_chars(&subject(alert, severity), MAX_CHAT_TITLE_CHARS);
    let mut next_steps = Vec::new();
    if let Some(link) = &link {
        next_steps.push(format!("Open it in the console: {link}"));
    }
    if alert.source == Source::Unparsed {
        next_steps.push("Find out what sent this payload and route it correctly.".to_string());
    }
    let message = fit(alert, MAX_MESSAGE_BYTES - ENVELOPE_RESERVE_BYTES, |a| {
        let description = truncate_chars(&markdown(a), MAX_CHAT_DESCRIPTION_CHARS);
        json!({
            "version": "1.0",
            "source": "custom",
            "content": {
                "textType": "client-markdown",
                "title": title,
                "description": description,
                "nextSteps": next_steps,
            },
            "metadata": {
                "threadId": a.name,
                "summary": title,
                "eventType": a.source.as_str(),
                "relatedResources": a.arn.iter().collect::<Vec<_>>(),
                "additionalContext": {
                    "severity": severity.as_str(),
                    "alarm": a.name,
                    "state": a.state,
                    "source": a.source.as_str(),
                },
            },
        })
        .to_string()
    });
    Publication {
        subject: Some(title),
        message,
        per_protocol: false,
        attributes: attributes(alert, severity),
    }
}

/// `[SEVERITY] STATE: name`, made acceptable to SNS.
pub fn subject(alert: &Alert, severity: Severity) -> String {
    let sev = severity.as_str().to_ascii_uppercase();
    let raw = match alert.source {
        Source::Cloudwatch => format!("[{sev}] {}: {}", alert.state, alert.name),
        // The id and the group first: generated application names are long, and the subject
        // is cut at 100 characters.
        Source::Codedeploy => format!(
            "[{sev}] Deployment {} {}: {}",
            alert.deployment_id.as_deref().unwrap_or("(no id)"),
            alert.state,
            deployment_group(alert)
        ),
        Source::Unparsed => match &alert.original_subject {
            Some(sent) => format!("[{sev}] {sent}"),
            None => format!("[{sev}] Unrecognised alert payload"),
        },
    };
    safe_subject(&raw)
}

/// The deployment group of a deployment alert (its name is `codedeploy:<application>/<group>`).
fn deployment_group(alert: &Alert) -> &str {
    let name = alert.name.trim_start_matches("codedeploy:");
    name.rsplit_once('/').map_or(name, |(_, group)| group)
}

/// The attributes subscription filter policies select on (`account` when the event names
/// one: a central topic collects alerts from many accounts).
pub fn attributes(alert: &Alert, severity: Severity) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::from([
        ("severity".to_string(), severity.as_str().to_string()),
        ("alarm".to_string(), non_empty(&alert.name)),
        ("state".to_string(), non_empty(&alert.state)),
        ("source".to_string(), alert.source.as_str().to_string()),
    ]);
    if let Some(account) = alert.account.as_deref().filter(|a| !a.trim().is_empty()) {
        attributes.insert("account".to_string(), account.to_string());
    }
    attributes
}

/// The normalised alert as the `sqs`/`lambda`/`https` subscribers receive it.
pub fn normalised_json(alert: &Alert, severity: Severity, link: Option<&str>) -> Value {
    let mut doc = serde_json::to_value(alert).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut doc {
        map.insert("severity".into(), json!(severity.as_str()));
        if let Some(link) = link {
            map.insert("console_link".into(), json!(link));
        }
    }
    doc
}

/// The full plain-text rendering (e-mail and `default`).
pub fn full_text(alert: &Alert, severity: Severity, link: Option<&str>) -> String {
    let mut lines = vec![subject(alert, severity), String::new()];
    let mut field = |label: &str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            lines.push(format!("{label}: {v}"));
        }
    };
    field("Severity", Some(severity.as_str()));
    let transition = match &alert.previous_state {
        Some(prev) => format!("{prev} -> {}", alert.state),
        None => alert.state.clone(),
    };
    field("State", Some(&transition));
    field("Reason", Some(&alert.reason));
    field("Sent with subject", alert.original_subject.as_deref());
    field("Description", alert.description.as_deref());
    field("Trigger", alert.trigger.as_deref());
    field(
        "Triggering alarms",
        Some(&alert.triggering_alarms.join(", ")),
    );
    field(
        "Actions suppressed by",
        alert.actions_suppressed_by.as_deref(),
    );
    field("Deployment", alert.deployment_id.as_deref());
    field("Actions taken", Some(&alert.actions_taken.join("; ")));
    field("Time", alert.time.as_deref());
    field("Account", alert.account.as_deref());
    field("Region", alert.region.as_deref());
    field("ARN", alert.arn.as_deref());
    field("Console", link);
    if let Some(raw) = &alert.raw {
        lines.push(String::new());
        lines.push("Raw payload:".into());
        lines.push(raw.clone());
    }
    lines.join("\n")
}

/// At most 140 bytes of ASCII: severity, state, name, then as much reason as fits.
pub fn sms_text(alert: &Alert, severity: Severity) -> String {
    let sev = severity.as_str().to_ascii_uppercase();
    let text = match alert.source {
        Source::Codedeploy => format!(
            "{sev} deployment {} {} of {}",
            alert.deployment_id.as_deref().unwrap_or("(no id)"),
            alert.state,
            deployment_group(alert)
        ),
        Source::Unparsed if alert.original_subject.is_some() => format!(
            "{sev} {}",
            alert.original_subject.as_deref().unwrap_or_default()
        ),
        _ => format!("{sev} {} {}: {}", alert.state, alert.name, alert.reason),
    };
    let clean = ascii_one_line(&text);
    if clean.len() <= MAX_SMS_BYTES {
        return clean;
    }
    let mut cut = clean[..MAX_SMS_BYTES - 3].trim_end().to_string();
    cut.push_str("...");
    cut
}

fn markdown(alert: &Alert) -> String {
    let mut out = String::new();
    let transition = match &alert.previous_state {
        Some(prev) => format!("{prev} → {}", alert.state),
        None => alert.state.clone(),
    };
    out.push_str(&format!("*{transition}*  {}\n", alert.reason));
    for (label, value) in [
        ("Description", alert.description.clone()),
        ("Trigger", alert.trigger.clone()),
        (
            "Triggering alarms",
            Some(alert.triggering_alarms.join(", ")).filter(|s| !s.is_empty()),
        ),
        ("Actions suppressed by", alert.actions_suppressed_by.clone()),
        ("Deployment", alert.deployment_id.clone()),
        (
            "Actions taken",
            Some(alert.actions_taken.join("; ")).filter(|s| !s.is_empty()),
        ),
        ("Time", alert.time.clone()),
    ] {
        if let Some(v) = value {
            out.push_str(&format!("• *{label}:* {v}\n"));
        }
    }
    if let Some(raw) = &alert.raw {
        out.push_str(&format!("```\n{raw}\n```\n"));
    }
    out
}

/// Renders with ever shorter long fields (raw payload, reason, description) until the
/// result fits `budget` bytes. Each cut field says it was cut (`cap_body`'s marker).
fn fit(alert: &Alert, budget: usize, render: impl Fn(&Alert) -> String) -> String {
    let whole = render(alert);
    if whole.len() <= budget {
        return whole;
    }
    let longest = [
        alert.raw.as_ref().map_or(0, String::len),
        alert.reason.len(),
        alert.description.as_ref().map_or(0, String::len),
        alert.trigger.as_ref().map_or(0, String::len),
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    let mut cap = longest;
    let mut size = whole.len();
    for _ in 0..12 {
        // Shrink in proportion to the overshoot, a little more to converge quickly
        // (escaping makes the output grow faster than the fields).
        cap = (cap as f64 * (budget as f64 / size as f64) * 0.9) as usize;
        let candidate = render(&capped(alert, cap));
        if candidate.len() <= budget {
            return candidate;
        }
        size = candidate.len();
    }
    render(&capped(alert, 0))
}

fn capped(alert: &Alert, cap: usize) -> Alert {
    let cut = |s: &String| cap_body(s, cap);
    Alert {
        reason: cut(&alert.reason),
        description: alert.description.as_ref().map(cut),
        trigger: alert.trigger.as_ref().map(cut),
        raw: alert.raw.as_ref().map(cut),
        ..alert.clone()
    }
}

fn link_for(alert: &Alert, links: &LinkRegion) -> Option<String> {
    let region = console_region(alert, links.override_region.as_deref(), &links.fallback);
    console_link(alert, &region)
}

fn ascii_one_line(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() {
                ' '
            } else if c.is_ascii() {
                c
            } else {
                '?'
            }
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// SNS rejects empty attribute values.
fn non_empty(s: &str) -> String {
    if s.trim().is_empty() {
        "unknown".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests;
