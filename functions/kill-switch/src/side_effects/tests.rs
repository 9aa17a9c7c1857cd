//! The steps around the stop: each one's failure is reported and never undoes the stop.

use guardian_aws::codedeploy::InFlight;
use serde_json::json;

use crate::fakes::{World, resume, stop};

fn in_flight(id: &str, rollback: bool) -> InFlight {
    InFlight {
        id: id.into(),
        rollback,
    }
}

#[tokio::test]
async fn a_stop_rolls_back_deployments_but_leaves_codedeploy_rollbacks_alone() {
    let w = World::new(Some(1));
    {
        let mut s = w.state();
        s.deployments = vec![
            in_flight("d-1", false),
            in_flight("d-2", true),
            in_flight("d-3", false),
        ];
        s.completed.insert("d-3".into());
    }
    let out = w.invoke(stop("alice")).await.unwrap();
    assert_eq!(out["failed"], json!([]), "{out:#}");
    assert!(
        out["done"]
            .to_string()
            .contains("stopped deployment d-1 with rollback")
    );
    let notes = out["notes"].to_string();
    assert!(
        notes.contains("left rollback deployment d-2")
            && notes.contains("d-3 had already finished"),
        "{notes}"
    );
    let s = w.state();
    assert!(
        s.calls
            .contains(&"StopDeployment d-1 rollback=true".to_string())
    );
    assert!(
        !s.calls.iter().any(|c| c.starts_with("StopDeployment d-2")),
        "{:?}",
        s.calls
    );
}

#[tokio::test]
async fn failed_side_effects_are_reported_and_the_stop_holds() {
    let w = World::new(Some(1));
    {
        let mut s = w.state();
        for op in ["ListDeployments", "UpdateSchedule", "Publish"] {
            s.failing.insert(op, "InternalError");
        }
    }
    let out = w.invoke(stop("alice")).await.unwrap();
    let steps: Vec<&str> = out["failed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["step"].as_str())
        .collect();
    assert_eq!(
        steps,
        ["stop_deployments", "schedule:default/tick", "alert"],
        "{out:#}"
    );
    assert_eq!(
        (out["state"].clone(), out["alert_failed"].clone()),
        (json!("stopped"), json!(true))
    );
    assert_eq!(w.state().concurrency, Some(0));
}

#[tokio::test]
async fn a_resume_turns_schedules_back_on_and_reports_the_dlq_backlog() {
    let w = World::new(Some(1));
    w.invoke(stop("alice")).await.unwrap();
    w.state().dlq_visible = 3;
    let out = w.invoke(resume("bob")).await.unwrap();
    assert_eq!(out["dlq_messages"], 3);
    assert!(
        out["notes"]
            .to_string()
            .contains("3 message(s) wait in the DLQ"),
        "{out:#}"
    );
    let s = w.state();
    assert!(s.schedules["tick"]);
    let subjects: Vec<_> = s
        .alerts
        .iter()
        .filter_map(|a| a.subject.as_deref())
        .collect();
    assert_eq!(
        subjects,
        [
            "[CRITICAL] STOPPED: bot by alice",
            "[CRITICAL] RESUMED: bot by bob"
        ]
    );
}

#[tokio::test]
async fn a_central_topic_gets_the_same_alert_and_its_failure_does_not_block_the_stop() {
    const CENTRAL: &str = "arn:aws:sns:us-east-1:999999999999:org-alerts";
    let w = World::with_env(Some(1), [("CENTRAL_TOPIC_ARN", CENTRAL)]);
    let out = w.invoke(stop("alice")).await.unwrap();
    assert!(
        out["done"]
            .to_string()
            .contains("sent the alert to the central topic"),
        "{out:#}"
    );
    {
        let s = w.state();
        assert_eq!(s.alert_topics.last().map(String::as_str), Some(CENTRAL));
        let [local, central] = &s.alerts[..] else {
            panic!("two alerts: {:?}", s.alerts)
        };
        assert_eq!(local, central);
        assert_eq!(central.attributes["severity"], "critical");
        assert!(central.attributes.contains_key("account"), "{central:?}");
    }

    let w = World::with_env(Some(1), [("CENTRAL_TOPIC_ARN", CENTRAL)]);
    w.state().failing.insert("Publish", "AuthorizationError");
    let out = w.invoke(stop("alice")).await.unwrap();
    assert!(
        out["failed"].to_string().contains("central_alert"),
        "{out:#}"
    );
    assert_eq!(out["state"], "stopped");
    assert_eq!(w.state().concurrency, Some(0));
}

#[tokio::test]
async fn with_several_guarded_functions_a_stop_touches_only_what_surrounds_the_named_one() {
    let w = World::with_env(
        Some(1),
        [
            ("GUARDED_FUNCTIONS", "bot,pricer"),
            ("SCHEDULE_NAMES", "tick,prices"),
            ("DEPLOYMENT_GROUPS", "app/group,pricing/pricer-group"),
            (
                "DLQ_URL",
                "arn:aws:sqs:us-east-1:123456789012:bot-dlq,arn:aws:sqs:us-east-1:123456789012:pricer-dlq",
            ),
        ],
    );
    {
        let mut s = w.state();
        s.schedules.insert("prices".into(), true);
        s.schedule_targets.insert("prices".into(), "pricer".into());
    }
    let stop_pricer = json!({"action": "stop", "reason": "stale prices", "function": "pricer"});
    let out = w.invoke(stop_pricer).await.unwrap();
    assert_eq!(out["failed"], json!([]), "{out:#}");
    let resume_pricer = json!({"action": "resume", "reason": "fixed", "function": "pricer"});
    w.invoke(resume_pricer.clone()).await.unwrap();
    w.invoke(json!({"action": "stop", "reason": "x", "function": "pricer"}))
        .await
        .unwrap();
    let calls = {
        let s = w.state();
        assert!(
            s.schedules["tick"],
            "the bot's schedule is not the pricer's"
        );
        assert!(!s.schedules["prices"]);
        s.calls.clone()
    };
    assert!(
        calls.contains(&"ListDeployments pricing/pricer-group".to_string())
            && !calls.iter().any(|c| c.contains("app/group")),
        "{calls:?}"
    );
    let pricer_dlq =
        "GetQueueAttributes https://sqs.us-east-1.amazonaws.com/123456789012/pricer-dlq";
    assert!(calls.contains(&pricer_dlq.to_string()), "{calls:?}");
    let err = w
        .invoke(json!({"action": "stop", "reason": "x"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"function\" is required") && err.contains("bot, pricer"),
        "{err}"
    );
}
