use guardian::config::Env;
use guardian_aws::clients::SdkSettings;
use guardian_aws::codedeploy::CodeDeploy;
use guardian_aws::init_trace;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pre_traffic_hook::{App, Config, handler, misconfigured};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_trace::mark("runtime");
    guardian_aws::telemetry::init();
    init_trace::mark("tracing");
    let env = Env::from_process();
    let settings = SdkSettings::from_env(&env);
    let config = settings.clone().and_then(|_| Config::from_env(&env));
    init_trace::mark("config");
    let sdk = guardian_aws::clients::load(&settings.unwrap_or_default(), &env).await;
    // A configuration error must not stop the hook from starting: it would never report
    // and the deployment would wait an hour for CodeDeploy's timeout.
    match config {
        Ok(config) => {
            let app = App::new(&sdk, config);
            let app = &app;
            init_trace::mark("handler");
            run(service_fn(move |event: LambdaEvent<Value>| {
                handler(app, event)
            }))
            .await
        }
        Err(problem) => {
            tracing::error!(%problem, "hook misconfigured: every invocation reports Failed");
            let codedeploy = CodeDeploy::from_sdk(&sdk);
            let (codedeploy, problem) = (&codedeploy, &problem.to_string());
            init_trace::mark("handler");
            run(service_fn(move |event: LambdaEvent<Value>| {
                misconfigured(codedeploy, problem, event)
            }))
            .await
        }
    }
}
