//! The publications the forwarded alerts become: each alert rendered per protocol for its
//! severity's topic, the same once more for a central topic (another account's, for an
//! organisation's operations team) when one is configured, and, with a chat topic, once more
//! in the chat schema.

use super::Alert;
use super::render::{LinkRegion, chat, per_protocol};
use super::routing::{Routing, Topics};
use crate::publication::Publication;

/// One publication bound for one topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub topic: String,
    pub publication: Publication,
    /// Which alert (index into the slice given to [`outgoing`]) it renders: an alert's
    /// outcome depends on all of its publications.
    pub alert: usize,
}

/// Where alerts go and how they are rendered.
#[derive(Debug, Clone, Copy)]
pub struct Destinations<'a> {
    pub routing: &'a Routing,
    pub topics: &'a Topics,
    pub chat_topic: Option<&'a str>,
    /// Receives every forwarded alert as its severity topic does; subscribers there select
    /// by the `severity` and `account` attributes.
    pub central_topic: Option<&'a str>,
    pub links: &'a LinkRegion,
}

/// Every publication for `alerts`, in alert order (severity topic first, then central, then
/// chat).
pub fn outgoing(alerts: &[Alert], to: Destinations<'_>) -> Vec<Outgoing> {
    let per_alert =
        1 + usize::from(to.central_topic.is_some()) + usize::from(to.chat_topic.is_some());
    let mut out = Vec::with_capacity(alerts.len() * per_alert);
    for (i, alert) in alerts.iter().enumerate() {
        let severity = to.routing.severity(alert);
        let publication = per_protocol(alert, severity, to.links);
        let severity_topic = to.topics.for_severity(severity);
        for topic in std::iter::once(severity_topic).chain(to.central_topic) {
            out.push(Outgoing {
                topic: topic.to_string(),
                publication: publication.clone(),
                alert: i,
            });
        }
        if let Some(chat_topic) = to.chat_topic {
            out.push(Outgoing {
                topic: chat_topic.to_string(),
                publication: chat(alert, severity, to.links),
                alert: i,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fanout::routing::SeverityRule;
    use crate::fanout::{Severity, Source};

    fn alert(name: &str) -> Alert {
        Alert {
            name: name.into(),
            source: Source::Cloudwatch,
            state: "ALARM".into(),
            ..Alert::default()
        }
    }

    fn world() -> (Routing, Topics, LinkRegion) {
        let rules: Vec<SeverityRule> =
            serde_json::from_str(r#"[{"pattern":"trading-*","severity":"critical"}]"#).unwrap();
        (
            Routing::new(&rules, Severity::Warning),
            Topics::with_fallbacks("critical".into(), Some("warning".into()), None),
            LinkRegion {
                override_region: None,
                fallback: "us-east-1".into(),
            },
        )
    }

    #[test]
    fn each_alert_goes_to_its_severity_topic_once() {
        let (routing, topics, links) = world();
        let to = Destinations {
            routing: &routing,
            topics: &topics,
            chat_topic: None,
            central_topic: None,
            links: &links,
        };
        let got = outgoing(&[alert("trading-errors"), alert("disk")], to);
        let routed: Vec<(&str, usize, bool)> = got
            .iter()
            .map(|o| (o.topic.as_str(), o.alert, o.publication.per_protocol))
            .collect();
        assert_eq!(routed, [("critical", 0, true), ("warning", 1, true)]);
    }

    #[test]
    fn a_chat_topic_gets_every_alert_again_in_the_chat_schema() {
        let (routing, topics, links) = world();
        let to = Destinations {
            routing: &routing,
            topics: &topics,
            chat_topic: Some("chat"),
            central_topic: None,
            links: &links,
        };
        let got = outgoing(&[alert("trading-errors"), alert("disk")], to);
        let routed: Vec<(&str, usize)> = got.iter().map(|o| (o.topic.as_str(), o.alert)).collect();
        assert_eq!(
            routed,
            [("critical", 0), ("chat", 0), ("warning", 1), ("chat", 1)]
        );
        assert!(!got[1].publication.per_protocol);
        assert!(outgoing(&[], to).is_empty());
    }

    #[test]
    fn a_central_topic_gets_every_alert_as_its_severity_topic_does() {
        let (routing, topics, links) = world();
        let central = "arn:aws:sns:us-east-1:999999999999:org-alerts";
        let to = Destinations {
            routing: &routing,
            topics: &topics,
            chat_topic: Some("chat"),
            central_topic: Some(central),
            links: &links,
        };
        let got = outgoing(&[alert("trading-errors"), alert("disk")], to);
        let routed: Vec<(&str, usize)> = got.iter().map(|o| (o.topic.as_str(), o.alert)).collect();
        assert_eq!(
            routed,
            [
                ("critical", 0),
                (central, 0),
                ("chat", 0),
                ("warning", 1),
                (central, 1),
                ("chat", 1)
            ]
        );
        assert_eq!(got[1].publication, got[0].publication);
        assert_eq!(got[4].publication.attributes["severity"], "warning");
    }
}
