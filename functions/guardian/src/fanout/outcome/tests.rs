use super::*;
use crate::fanout::routing::SeverityRule;
use crate::publication::Publication;

fn alert(name: &str, source: Source) -> Alert {
    Alert {
        name: name.into(),
        source,
        state: "ALARM".into(),
        ..Alert::default()
    }
}

fn routing() -> Routing {
    let rules: Vec<SeverityRule> =
        serde_json::from_str(r#"[{"pattern":"trading-*","severity":"critical"}]"#).unwrap();
    Routing::new(&rules, Severity::Warning)
}

/// Publications for alert indices `owners`, in order.
fn outgoing(owners: &[usize]) -> Vec<Outgoing> {
    owners
        .iter()
        .map(|&alert| Outgoing {
            topic: format!("topic-{alert}"),
            publication: Publication::default(),
            alert,
        })
        .collect()
}

fn failed(index: usize, topic: &str) -> Undelivered {
    Undelivered {
        index,
        topic: topic.into(),
        error: "InternalError".into(),
    }
}

#[test]
fn an_alert_fails_when_any_of_its_publications_failed() {
    let forwarded = vec![
        alert("trading-errors", Source::Cloudwatch),
        alert("unparsed", Source::Unparsed),
    ];
    let held_back = vec![alert("trading-latency", Source::Cloudwatch)];
    // Alert 0 went to its topic and chat; alert 1's chat copy failed.
    let got = outcomes(
        &routing(),
        &forwarded,
        &held_back,
        &outgoing(&[0, 0, 1, 1]),
        &[failed(3, "chat")],
    );
    let verdicts: Vec<(&str, &str)> = got
        .iter()
        .map(|o| (o.alarm.as_str(), o.verdict.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("trading-errors", "published"),
            ("unparsed", "failed"),
            ("trading-latency", "held_back")
        ]
    );
    let counts = counts(&got);
    assert_eq!(
        counts[&Severity::Critical],
        SeverityCounts {
            published: 1,
            failed: 0,
            unparsed: 0
        }
    );
    assert_eq!(
        counts[&Severity::Warning],
        SeverityCounts {
            published: 0,
            failed: 1,
            unparsed: 1
        }
    );
    assert!(got[1].reason.as_deref().unwrap().contains("chat"));
}

/// Conservation: every alert has exactly one outcome, and the counts add up to the
/// forwarded alerts whatever subset of publications failed.
#[test]
fn every_alert_is_counted_once_whatever_failed() {
    let forwarded: Vec<Alert> = ["trading-a", "b", "trading-c", "d"]
        .iter()
        .map(|n| alert(n, Source::Cloudwatch))
        .collect();
    let held_back = vec![alert("e", Source::Cloudwatch)];
    let out = outgoing(&[0, 0, 1, 1, 2, 2, 3, 3]);
    for mask in 0u32..(1 << out.len()) {
        let undelivered: Vec<Undelivered> = (0..out.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| failed(i, &out[i].topic))
            .collect();
        let got = outcomes(&routing(), &forwarded, &held_back, &out, &undelivered);
        assert_eq!(got.len(), forwarded.len() + held_back.len());
        let failed_alerts: std::collections::BTreeSet<usize> =
            undelivered.iter().map(|u| out[u.index].alert).collect();
        for (i, o) in got.iter().take(forwarded.len()).enumerate() {
            let expected = if failed_alerts.contains(&i) {
                AlertVerdict::Failed
            } else {
                AlertVerdict::Published
            };
            assert_eq!(o.verdict, expected, "mask {mask:b}, alert {i}");
        }
        let total: u64 = counts(&got).values().map(|c| c.published + c.failed).sum();
        assert_eq!(total, forwarded.len() as u64, "mask {mask:b}");
    }
}

#[test]
fn a_held_back_alert_says_why_and_counts_as_neither() {
    let mut ok = alert("trading-errors", Source::Cloudwatch);
    ok.state = "OK".into();
    ok.actions_taken.push("auto-halt: asked".into());
    let got = outcomes(&routing(), &[], &[ok], &[], &[]);
    assert_eq!(got[0].verdict, AlertVerdict::HeldBack);
    assert_eq!(
        got[0].reason.as_deref(),
        Some("OK held back: the previous state was not ALARM (FORWARD_OK); auto-halt: asked")
    );
    assert_eq!(counts(&got)[&Severity::Critical], SeverityCounts::default());
}
