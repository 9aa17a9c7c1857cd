use alarm_fanout::{App, Config, handler};
use guardian::config::Env;
use guardian_aws::clients::{SdkSettings, load};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guardian_aws::telemetry::init();
    let env = Env::from_process();
    let config = Config::from_env(&env)?;
    let sdk = load(&SdkSettings::from_env(&env)?).await;
    let app = App::new(&sdk, config);
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| {
        handler(app, event)
    }))
    .await
}
