//! The stack's resources, provisioned in the emulator as `template.yaml` would create them.

use aws_config::SdkConfig;
use aws_sdk_codedeploy::types::{
    AppSpecContent, ComputePlatform, RevisionLocation, RevisionLocationType,
};
use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, Target};
use e2e::{TestAccount, guarded_function, queue, topic_with_queue};

pub const FUNCTION: &str = "trading-bot";
pub const APPLICATION: &str = "trading-bot-app";
pub const GROUP: &str = "trading-bot-group";
pub const SCHEDULE: &str = "trading-bot-tick";
pub const ONCALL_EMAIL: &str = "oncall@example.com";
pub const ONCALL_PHONE: &str = "+15555550100";

/// A topic and the queue subscribed to it (standing in for e-mail, SMS or chat).
pub struct Inbox {
    pub topic: String,
    pub queue: String,
}

pub struct Stack {
    pub alerts: Inbox,
    pub critical: Inbox,
    pub warning: Inbox,
    pub info: Inbox,
    pub chat: Inbox,
    pub dlq_url: String,
}

pub async fn provision(acct: &TestAccount, cfg: &SdkConfig) -> Stack {
    // Versions 1 (live), 2 (a good build) and 3 (a bad build); reserved concurrency 1.
    guarded_function(cfg, FUNCTION, 3).await;
    aws_sdk_lambda::Client::new(cfg)
        .put_function_concurrency()
        .function_name(FUNCTION)
        .reserved_concurrent_executions(1)
        .send()
        .await
        .expect("PutFunctionConcurrency");
    let inbox = |name: &'static str| async move {
        let (topic, queue) = topic_with_queue(cfg, name).await;
        Inbox { topic, queue }
    };
    let stack = Stack {
        alerts: inbox("guardian-alerts").await,
        critical: inbox("alerts-critical").await,
        warning: inbox("alerts-warning").await,
        info: inbox("alerts-info").await,
        chat: inbox("alerts-chat").await,
        dlq_url: queue(cfg, "trading-bot-dlq").await,
    };
    // The people: e-mail for every routed alert, SMS for critical ones only.
    let sns = aws_sdk_sns::Client::new(cfg);
    for (topic, protocol, endpoint) in [
        (&stack.critical.topic, "email", ONCALL_EMAIL),
        (&stack.warning.topic, "email", ONCALL_EMAIL),
        (&stack.critical.topic, "sms", ONCALL_PHONE),
    ] {
        sns.subscribe()
            .topic_arn(topic)
            .protocol(protocol)
            .endpoint(endpoint)
            .send()
            .await
            .expect("Subscribe");
    }
    let cd = aws_sdk_codedeploy::Client::new(cfg);
    cd.create_application()
        .application_name(APPLICATION)
        .compute_platform(ComputePlatform::Lambda)
        .send()
        .await
        .expect("CreateApplication");
    cd.create_deployment_group()
        .application_name(APPLICATION)
        .deployment_group_name(GROUP)
        .service_role_arn(acct.arn("iam", "role/codedeploy"))
        .send()
        .await
        .expect("CreateDeploymentGroup");
    aws_sdk_scheduler::Client::new(cfg)
        .create_schedule()
        .name(SCHEDULE)
        .schedule_expression("rate(5 minutes)")
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .expect("time window"),
        )
        .target(
            Target::builder()
                .arn(format!("{}:live", acct.function_arn(FUNCTION)))
                .role_arn(acct.arn("iam", "role/scheduler"))
                .input(r#"{"source":"trading-bot.tick"}"#)
                .build()
                .expect("schedule target"),
        )
        .send()
        .await
        .expect("CreateSchedule");
    stack
}

/// A CodeDeploy deployment shifting `live` from `current` to `target`, as SAM creates it.
pub async fn deployment(cfg: &SdkConfig, current: &str, target: &str) -> String {
    let appspec = serde_json::json!({
        "version": 0.0,
        "Resources": [{"TradingBot": {"Type": "AWS::Lambda::Function", "Properties": {
            "Name": FUNCTION, "Alias": "live", "CurrentVersion": current, "TargetVersion": target}}}],
        "Hooks": [{"BeforeAllowTraffic": "CodeDeployHook_pre-traffic"}]
    });
    let cd = aws_sdk_codedeploy::Client::new(cfg);
    cd.create_deployment()
        .application_name(APPLICATION)
        .deployment_group_name(GROUP)
        .revision(
            RevisionLocation::builder()
                .revision_type(RevisionLocationType::AppSpecContent)
                .app_spec_content(
                    AppSpecContent::builder()
                        .content(appspec.to_string())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateDeployment")
        .deployment_id
        .expect("deployment id")
}
