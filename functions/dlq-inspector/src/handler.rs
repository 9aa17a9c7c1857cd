//! What Lambda runs: check the request, pick the DLQ (or, for an unnamed inspect, every
//! guarded function's), refuse a redrive into a stopped function, make one pass over the
//! queue, then publish the report and answer with it.

use guardian::dlq::destination;
use guardian::dlq::report::Report;
use guardian::dlq::request::{self, Action, Destination, Request};
use guardian::publication::Publication;
use guardian::sns_text::{MAX_MESSAGE_BYTES, cap_body};
use guardian_aws::deadline::Deadline;
use guardian_aws::error::AwsCallError;
use guardian_aws::invocation::invocation;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::app::App;
use crate::error::DlqError;
use crate::observe::{self, Observed};
use crate::pass;
use crate::ports::{Functions, Ports, Topics};
use crate::scoped::Scoped;

pub(crate) async fn handle<P: Ports>(
    ports: &P,
    payload: &Value,
    deadline: Deadline,
    observed: &mut Observed,
) -> Result<Value, DlqError> {
    let config = ports.config();
    // Every check on the request comes before the first AWS call.
    let request = request::parse(payload, config.max_messages_limit)?;
    observed.action = Some(request.action);
    let functions = request::functions_acted_on(&request, &config.guarded)?;
    let mut queues = Vec::new();
    for function in &functions {
        match Scoped::to_function(ports, function) {
            Some(scoped) => queues.push(scoped),
            // An unnamed inspect covers the functions that have a DLQ.
            None if functions.len() > 1 => {}
            None => return Err(DlqError::NoQueue(function.clone())),
        }
    }
    if let [only] = queues.as_slice() {
        return handle_one(only, &request, deadline, observed).await;
    }
    let mut reports = Vec::new();
    for queue in &queues {
        reports.push(handle_one(queue, &request, deadline, observed).await?);
    }
    Ok(serde_json::json!({ "reports": reports }))
}

/// One DLQ: the configuration's (narrowed to the function acted on).
async fn handle_one<P: Ports>(
    ports: &P,
    request: &Request,
    deadline: Deadline,
    observed: &mut Observed,
) -> Result<Value, DlqError> {
    let config = ports.config();
    request::check_purge_confirmed(request, &config.queue_name)?;
    destination::check_source_queue(request, config.source_queue_url.as_deref())?;
    if request.action == Action::Redrive && request.to == Destination::Function && !request.dry_run
    {
        refuse_if_stopped(ports, deadline).await?;
    }
    tracing::info!(action = ?request.action, dry_run = request.dry_run, queue = %config.queue_name, "DLQ run starting");

    let report = pass::run(ports, request, deadline).await?;
    tracing::info!(
        examined = report.examined,
        visible = report.depth.visible,
        complete = report.complete,
        outcome = ?report.outcome,
        "DLQ run finished"
    );
    let mut out = serde_json::to_value(&report).map_err(|e| DlqError::Serialise(e.to_string()))?;
    let report = &*observed.report.insert(report);
    if report.queue_is_empty() {
        return Ok(out);
    }
    match publish(ports, report, deadline).await {
        Ok(()) => Ok(out),
        Err(e) if request.action == Action::Inspect => Err(DlqError::AlertNotPublished(e)),
        Err(e) => {
            // The messages have already moved; failing now would only hide the report.
            tracing::error!(error = %e, "DLQ report not published");
            out["alert_error"] = Value::String(e.to_string());
            Ok(out)
        }
    }
}

pub async fn handler(app: &App, event: LambdaEvent<Value>) -> Result<Value, DlqError> {
    invocation(app, event, handle, observe::record).await
}

/// A redrive to a function the kill switch stopped would only refill the DLQ: refuse it
/// before reading a single message.
async fn refuse_if_stopped(ports: &impl Ports, deadline: Deadline) -> Result<(), DlqError> {
    let config = ports.config();
    let function = config.redrive_function.name.clone();
    let read = ports.lambda().reserved_concurrency(&function);
    let margin = config.deadline_margin;
    match deadline.call(margin, "GetFunctionConcurrency", read).await {
        Ok(Some(0)) => Err(DlqError::TargetStopped { function }),
        Ok(_) => Ok(()),
        Err(source) => Err(DlqError::TargetUnreadable { function, source }),
    }
}

async fn publish(
    ports: &impl Ports,
    report: &Report,
    deadline: Deadline,
) -> Result<(), AwsCallError> {
    let config = ports.config();
    let publication = Publication {
        subject: Some(report.subject()),
        message: cap_body(&report.text(), MAX_MESSAGE_BYTES),
        per_protocol: false,
        attributes: [
            ("source".to_string(), "dlq-inspector".to_string()),
            ("queue".to_string(), report.queue.clone()),
        ]
        .into_iter()
        .collect(),
    };
    let publish = ports.sns().publish(&config.alert_topic_arn, &publication);
    // The margin is kept for this and the answer: use most of it.
    deadline
        .call(config.deadline_margin / 4, "Publish", publish)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests;
