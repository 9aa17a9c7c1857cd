use dlq_inspector::{App, Config, handler};
use guardian::config::Env;
use guardian_aws::clients::SdkSettings;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    guardian_aws::telemetry::init();
    let env = Env::from_process();
    let config = Config::from_env(&env)?;
    let sdk = guardian_aws::clients::load(&SdkSettings::from_env(&env)?).await;
    let app = App::new(&sdk, config);
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| {
        handler(app, event)
    }))
    .await
}
