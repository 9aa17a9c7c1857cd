//! What Lambda runs: normalise the event into alerts, halt trading where an alarm calls for
//! it, publish the forwarded alerts, record what happened, answer.

use guardian::fanout::normalise;
use guardian::fanout::outcome::outcomes;
use guardian::fanout::outgoing::{Destinations, outgoing};
use guardian::fanout::routing::should_forward;
use guardian_aws::invocation::Started;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::answer::{Counts, answer};
use crate::app::App;
use crate::delivery::deliver;
use crate::error::FanoutError;
use crate::halt::halt;
use crate::observe;

pub async fn handler(app: &App, event: LambdaEvent<Value>) -> Result<Value, FanoutError> {
    let started = Started::now(&event.context);
    let deadline = started.deadline;
    let config = &app.config;
    let mut alerts = normalise(&event.payload);

    // Stopping trading comes before telling anyone: a failed publish must never delay it.
    let halts = halt(&app.lambda, config, &mut alerts, &deadline).await;

    let total = alerts.len();
    let (forwarded, held_back): (Vec<_>, Vec<_>) = alerts
        .into_iter()
        .partition(|a| should_forward(a, config.forward_ok));
    let publications = outgoing(
        &forwarded,
        Destinations {
            routing: &config.routing,
            topics: &config.topics,
            chat_topic: config.chat_topic.as_deref(),
            central_topic: config.central_topic.as_deref(),
            links: &config.links,
        },
    );
    let report = deliver(&app.sns, &publications, &deadline, &config.retry).await;
    let outcomes = outcomes(
        &config.routing,
        &forwarded,
        &held_back,
        &publications,
        &report.undelivered,
    );
    observe::record(started.request_id, started.at, &outcomes);
    tracing::info!(
        alerts = total,
        forwarded = forwarded.len(),
        published = report.published,
        undelivered = report.undelivered.len(),
        batch_calls = report.batch_calls,
        halts = halts.requested,
        "alarm fan-out done"
    );
    let counts = Counts {
        alerts: total,
        forwarded: forwarded.len(),
        publications: publications.len(),
    };
    answer(counts, halts, report)
}
