use guardian::config::Env;
use guardian_aws::clients::SdkSettings;
use guardian_aws::codedeploy::CodeDeploy;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pre_traffic_hook::{App, Config, handler, misconfigured};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    guardian_aws::telemetry::init();
    let env = Env::from_process();
    let settings = SdkSettings::from_env(&env);
    let sdk = guardian_aws::clients::load(&settings.clone().unwrap_or_default()).await;
    // A configuration error must not stop the hook from starting: it would never report
    // and the deployment would wait an hour for CodeDeploy's timeout.
    match settings.and_then(|_| Config::from_env(&env)) {
        Ok(config) => {
            let app = App::new(&sdk, config);
            let app = &app;
            run(service_fn(move |event: LambdaEvent<Value>| {
                handler(app, event)
            }))
            .await
        }
        Err(problem) => {
            tracing::error!(%problem, "hook misconfigured: every invocation reports Failed");
            let codedeploy = CodeDeploy::from_sdk(&sdk);
            let (codedeploy, problem) = (&codedeploy, &problem.to_string());
            run(service_fn(move |event: LambdaEvent<Value>| {
                misconfigured(codedeploy, problem, event)
            }))
            .await
        }
    }
}
