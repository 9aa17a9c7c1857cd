//! DLQ inspector (DESIGN §4): see what failed in the guarded function's dead-letter queue,
//! redrive it safely, lose nothing. `inspect` (the schedule's action) consumes nothing;
//! `redrive` re-sends by async Invoke or to a source queue and deletes only what was
//! re-sent; `purge` deletes selected messages once confirmed with the queue name.

mod config;
mod error;
mod observe;
mod run;

pub use config::{Config, RedriveFunction};
pub use error::DlqError;

use guardian::dlq::report::Report;
use guardian::dlq::request::{self, Action, Destination, RequestError};
use guardian::publication::Publication;
use guardian::sns_text::{MAX_MESSAGE_BYTES, cap_body};
use guardian_aws::deadline::Deadline;
use guardian_aws::lambda::Lambda;
use guardian_aws::sns::Sns;
use guardian_aws::sqs::Sqs;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use observe::Observed;

/// Clients and configuration, built once at cold start.
#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    sqs: Sqs,
    lambda: Lambda,
    sns: Sns,
}

impl App {
    pub fn new(sdk: &guardian_aws::clients::SdkConfig, config: Config) -> Self {
        App {
            config,
            sqs: Sqs::from_sdk(sdk),
            lambda: Lambda::from_sdk(sdk),
            sns: Sns::from_sdk(sdk),
        }
    }
}

pub async fn handler(app: &App, event: LambdaEvent<Value>) -> Result<Value, DlqError> {
    let started = std::time::Instant::now();
    let mut observed = Observed::default();
    let result = handle(app, &event, &mut observed).await;
    observe::record(&event.context.request_id, started, &observed, &result);
    result
}

async fn handle(
    app: &App,
    event: &LambdaEvent<Value>,
    observed: &mut Observed,
) -> Result<Value, DlqError> {
    let deadline = Deadline::from_context(&event.context);
    let config = &app.config;
    // Every check on the request comes before the first AWS call.
    let request = request::parse(&event.payload, config.max_messages_limit)?;
    observed.action = Some(request.action);
    request::check_purge_confirmed(&request, &config.queue_name)?;
    if request.action == Action::Redrive
        && request.to == Destination::Queue
        && config.source_queue_url.is_none()
    {
        return Err(RequestError::BadField {
            field: "to".into(),
            problem: "is \"queue\" but SOURCE_QUEUE_URL is not set".into(),
            fix: "set SOURCE_QUEUE_URL to the queue to redrive into, or use \"to\": \"function\""
                .into(),
        }
        .into());
    }
    if request.action == Action::Redrive && request.to == Destination::Function && !request.dry_run
    {
        refuse_if_stopped(app, deadline).await?;
    }
    tracing::info!(action = ?request.action, dry_run = request.dry_run, queue = %config.queue_name, "DLQ run starting");

    let report = run::run(app, &request, deadline).await?;
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
    match publish(app, report, deadline).await {
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

/// A redrive to a function the kill switch stopped would only refill the DLQ: refuse it
/// before reading a single message.
async fn refuse_if_stopped(app: &App, deadline: Deadline) -> Result<(), DlqError> {
    let function = app.config.redrive_function.name.clone();
    let read = deadline
        .bound(
            app.config.deadline_margin,
            app.lambda.reserved_concurrency(&function),
        )
        .await
        .map_err(|e| guardian_aws::error::AwsCallError {
            operation: "GetFunctionConcurrency",
            code: None,
            message: e.to_string(),
        })
        .and_then(|r| r);
    match read {
        Ok(Some(0)) => Err(DlqError::TargetStopped { function }),
        Ok(_) => Ok(()),
        Err(source) => Err(DlqError::TargetUnreadable { function, source }),
    }
}

async fn publish(
    app: &App,
    report: &Report,
    deadline: Deadline,
) -> Result<(), guardian_aws::error::AwsCallError> {
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
    let publish = app.sns.publish(&app.config.alert_topic_arn, &publication);
    match deadline
        .bound(app.config.deadline_margin / 4, publish)
        .await
    {
        Ok(result) => result.map(|_| ()),
        Err(e) => Err(guardian_aws::error::AwsCallError {
            operation: "Publish",
            code: None,
            message: e.to_string(),
        }),
    }
}
