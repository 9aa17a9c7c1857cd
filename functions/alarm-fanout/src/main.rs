use alarm_fanout::{App, Config, handler};
use guardian::config::Env;
use guardian_aws::clients::{SdkSettings, load};
use guardian_aws::init_trace;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_trace::mark("runtime");
    guardian_aws::telemetry::init();
    init_trace::mark("tracing");
    let env = Env::from_process();
    let config = Config::from_env(&env)?;
    let settings = SdkSettings::from_env(&env)?;
    init_trace::mark("config");
    let sdk = load(&settings, &env).await;
    let app = App::new(&sdk, config);
    let app = &app;
    init_trace::mark("handler");
    run(service_fn(move |event: LambdaEvent<Value>| {
        handler(app, event)
    }))
    .await
}
