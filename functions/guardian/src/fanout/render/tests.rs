use super::*;
use crate::fanout::parse::{normalise, unparsed};

fn links() -> LinkRegion {
    LinkRegion {
        override_region: None,
        fallback: "eu-central-1".into(),
    }
}

fn sample(name: &str) -> Alert {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    normalise(&event).remove(0)
}

fn structure(p: &Publication) -> Value {
    serde_json::from_str(&p.message).unwrap()
}

#[test]
fn every_protocol_gets_its_rendering() {
    let alert = sample("fanout-sns-classic-metric.json");
    let p = per_protocol(&alert, Severity::Critical, &links());
    assert!(p.per_protocol);
    assert_eq!(
        p.subject.as_deref(),
        Some("[CRITICAL] ALARM: trading-bot-errors")
    );
    assert_eq!(
        p.attributes,
        BTreeMap::from([
            ("account".to_string(), "123456789012".to_string()),
            ("alarm".to_string(), "trading-bot-errors".to_string()),
            ("severity".to_string(), "critical".to_string()),
            ("source".to_string(), "cloudwatch".to_string()),
            ("state".to_string(), "ALARM".to_string()),
        ])
    );
    let doc = structure(&p);
    let email = doc["email"].as_str().unwrap();
    assert!(email.contains("State: OK -> ALARM"));
    assert!(email.contains("Reason: Threshold Crossed"));
    assert!(
        !email.contains("Description:"),
        "null description is left out"
    );
    assert!(email.contains(
        "Console: https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/trading-bot-errors"
    ));
    assert_eq!(doc["default"], doc["email"]);
    let sms = doc["sms"].as_str().unwrap();
    assert!(sms.len() <= MAX_SMS_BYTES && sms.is_ascii(), "{sms}");
    assert!(sms.starts_with("CRITICAL ALARM trading-bot-errors: Threshold Crossed"));
    for protocol in ["sqs", "lambda", "https"] {
        let normalised: Value = serde_json::from_str(doc[protocol].as_str().unwrap()).unwrap();
        assert_eq!(normalised["name"], "trading-bot-errors");
        assert_eq!(normalised["severity"], "critical");
        assert_eq!(normalised["source"], "cloudwatch");
        assert_eq!(normalised["previous_state"], "OK");
    }
}

#[test]
fn deployment_links_to_the_deployment() {
    let alert = sample("fanout-eventbridge-codedeploy-failure.json");
    let p = per_protocol(&alert, Severity::Critical, &links());
    assert_eq!(
        p.subject.as_deref(),
        Some("[CRITICAL] Deployment d-ABCDEF123 FAILURE: trading-bot-live")
    );
    let email = structure(&p)["email"].as_str().unwrap().to_string();
    assert!(email.contains(
        "https://us-west-2.console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABCDEF123?region=us-west-2"
    ), "{email}");
}

#[test]
fn subjects_sns_would_reject_are_made_safe() {
    let mut alert = sample("fanout-eventbridge-alarm.json");
    alert.name = format!("Zürich\nlatency\u{7} {}", "x".repeat(200));
    let s = subject(&alert, Severity::Warning);
    assert!(
        s.is_ascii() && s.len() < 100 && !s.chars().any(|c| c.is_control()),
        "{s}"
    );
}

#[test]
fn a_huge_raw_payload_is_cut_so_the_whole_structure_fits() {
    let raw = format!("{}\"quoted\"\n", "garbage-é-".repeat(60_000)); // ~660 KB
    let alert = unparsed(raw.clone());
    let p = per_protocol(&alert, Severity::Warning, &links());
    assert!(p.message.len() <= MAX_MESSAGE_BYTES - ENVELOPE_RESERVE_BYTES);
    let doc = structure(&p);
    let normalised: Value = serde_json::from_str(doc["sqs"].as_str().unwrap()).unwrap();
    let kept = normalised["raw"].as_str().unwrap();
    let marker = kept
        .find("\n[truncated by rollout-guardian: kept ")
        .unwrap();
    assert!(raw.starts_with(&kept[..marker]));
    assert!(marker > 10_000, "keeps a useful part: {marker}");
    let chat = chat(&alert, Severity::Warning, &links());
    assert!(chat.message.len() <= MAX_MESSAGE_BYTES);
}

#[test]
fn a_small_raw_payload_is_intact() {
    let alert = unparsed("not json at all \u{0} ✓".into());
    let doc = structure(&per_protocol(&alert, Severity::Warning, &links()));
    let normalised: Value = serde_json::from_str(doc["sqs"].as_str().unwrap()).unwrap();
    assert_eq!(normalised["raw"], "not json at all \u{0} ✓");
    assert_eq!(normalised["source"], "unparsed");
}

#[test]
fn chat_uses_the_custom_notification_schema() {
    let alert = sample("fanout-action-composite.json");
    let p = chat(&alert, Severity::Critical, &links());
    assert!(!p.per_protocol);
    let doc: Value = serde_json::from_str(&p.message).unwrap();
    assert_eq!(doc["version"], "1.0");
    assert_eq!(doc["source"], "custom");
    assert_eq!(doc["content"]["textType"], "client-markdown");
    assert_eq!(
        doc["content"]["title"],
        "[CRITICAL] ALARM: trading-bot-health"
    );
    let description = doc["content"]["description"].as_str().unwrap();
    assert!(
        description.contains("trading-bot-errors, trading-bot-throttles"),
        "{description}"
    );
    assert!(
        doc["content"]["nextSteps"][0]
            .as_str()
            .unwrap()
            .contains("console.aws.amazon.com")
    );
    assert_eq!(doc["metadata"]["threadId"], "trading-bot-health");
    assert_eq!(doc["metadata"]["additionalContext"]["severity"], "critical");
    assert_eq!(p.attributes["severity"], "critical");
}

#[test]
fn a_plain_text_message_is_sent_on_with_its_own_subject() {
    let alert = sample("fanout-sns-plain-text.json");
    assert_eq!(
        subject(&alert, Severity::Warning),
        "[WARNING] Exchange API degraded: order latency above 2 s"
    );
    let sms = sms_text(&alert, Severity::Warning);
    assert_eq!(
        sms,
        "WARNING Exchange API degraded: order latency above 2 s"
    );
}
