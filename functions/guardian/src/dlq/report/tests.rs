use super::*;
use crate::dlq::redact::DEFAULT_SENSITIVE_KEYS;

fn msg(id: &str, code: Option<&str>, error: Option<&str>, body: &str, sent: u64) -> DlqMessage {
    DlqMessage {
        message_id: id.into(),
        body: body.into(),
        error_code: code.map(str::to_string),
        error_message: error.map(str::to_string),
        sent_at_ms: Some(sent),
        receive_count: 1,
        ..Default::default()
    }
}

#[test]
fn groups_by_error_code_and_message_largest_first() {
    let r = Redactor::new(DEFAULT_SENSITIVE_KEYS).unwrap();
    let mut t = Tally::new(None, 2);
    let now = 100_000;
    for i in 0..5 {
        t.observe(
            &msg(
                &format!("a{i}"),
                Some("200"),
                Some("Timeout"),
                "{}",
                now - 1_000,
            ),
            now,
            &r,
        );
    }
    for i in 0..3 {
        t.observe(
            &msg(
                &format!("b{i}"),
                Some("200"),
                Some("Broker down"),
                "{}",
                now - 90_000,
            ),
            now,
            &r,
        );
    }
    t.observe(&msg("c", None, None, "{}", now), now, &r);
    let groups = t.groups();
    let summary: Vec<(&str, Option<&str>, u64)> = groups
        .iter()
        .map(|g| (g.key.as_str(), g.error_message.as_deref(), g.count))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("200", Some("Timeout"), 5),
            ("200", Some("Broker down"), 3),
            ("(no ErrorCode)", None, 1)
        ]
    );
    assert_eq!(groups[1].oldest_age_seconds, Some(90));
    assert_eq!(t.examined, 9);
    assert_eq!(t.oldest_age_seconds, Some(90));
    assert_eq!(t.samples.len(), 2);
    assert_eq!(t.receive_counts.get(&1), Some(&9));
}

#[test]
fn without_error_code_groups_by_body_pointer() {
    let r = Redactor::new(DEFAULT_SENSITIVE_KEYS).unwrap();
    let mut t = Tally::new(Some("/symbol".into()), 0);
    for (i, body) in [
        r#"{"symbol":"EURUSD"}"#,
        r#"{"symbol":"EURUSD"}"#,
        r#"{"x":1}"#,
        "text",
    ]
    .iter()
    .enumerate()
    {
        t.observe(&msg(&i.to_string(), None, None, body, 0), 0, &r);
    }
    let keys: Vec<(String, String, u64)> = t
        .groups()
        .into_iter()
        .map(|g| (g.by, g.key, g.count))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("/symbol".into(), "(absent)".into(), 2),
            ("/symbol".into(), "EURUSD".into(), 2)
        ]
    );
    assert!(t.samples.is_empty());
}

#[test]
fn groups_are_bounded() {
    let r = Redactor::new(DEFAULT_SENSITIVE_KEYS).unwrap();
    let mut t = Tally::new(None, 0);
    for i in 0..(MAX_GROUPS + 7) {
        t.observe(&msg("m", Some(&i.to_string()), None, "", 0), 0, &r);
    }
    let groups = t.groups();
    assert_eq!(groups.len(), MAX_GROUPS + 1);
    assert_eq!(groups.last().map(|g| g.count), Some(7));
}

#[test]
fn samples_are_redacted_and_truncated() {
    let r = Redactor::new(DEFAULT_SENSITIVE_KEYS).unwrap();
    let mut t = Tally::new(None, 3);
    let body = format!(r#"{{"iban":"DE89 3704","pad":"{}"}}"#, "x".repeat(2_000));
    t.observe(
        &msg("m", Some("200"), Some("token=abc failed"), &body, 0),
        0,
        &r,
    );
    let s = &t.samples[0];
    assert!(
        !s.body.contains("DE89") && s.body.contains("[redacted]"),
        "{}",
        s.body
    );
    assert!(s.body.chars().count() < 600, "{}", s.body.len());
    assert_eq!(s.error_message.as_deref(), Some("token=[redacted] failed"));
}

#[test]
fn ages_read_like_a_human_wrote_them() {
    assert_eq!(human_age(42), "42s");
    assert_eq!(human_age(95), "1m35s");
    assert_eq!(human_age(7_300), "2h1m");
    assert_eq!(human_age(200_000), "2d7h");
}
