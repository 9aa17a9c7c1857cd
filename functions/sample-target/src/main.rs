use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use sample_target::{FailureMode, Target, handler};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let target = Target {
        mode: FailureMode::parse(std::env::var("FAILURE_MODE").ok().as_deref())?,
        version: std::env::var("AWS_LAMBDA_FUNCTION_VERSION").unwrap_or_else(|_| "$LATEST".into()),
    };
    let target = &target;
    run(service_fn(move |event: LambdaEvent<Value>| {
        handler(target, event)
    }))
    .await
}
