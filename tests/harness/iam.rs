//! IAM roles as the tests need them: who may assume a role (its trust policy), what it may do
//! (an inline policy, managed policies), and the roles every test makes the same way (one
//! trusted by Lambda, CodeDeploy's service role as SAM makes it).

use aws_config::SdkConfig;
use serde_json::{Value, json};

/// What SAM gives a Lambda deployment group's service role: it may invoke only functions
/// named `CodeDeployHook_*`.
pub const CODEDEPLOY_FOR_LAMBDA: &str =
    "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda";

/// A policy document of `statements`.
pub fn policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A trust policy letting `principal` (`{"Service": ...}`, `{"AWS": ...}`) assume the role.
pub fn trust(principal: Value) -> Value {
    policy(json!([{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]))
}

/// A trust policy letting the AWS service `service` (e.g. `lambda.amazonaws.com`) assume the
/// role.
pub fn trusted_by(service: &str) -> Value {
    trust(json!({ "Service": service }))
}

/// Role `name` trusted as `trust` says, with `statements` as its inline policy (when given)
/// and `managed` policies attached. Returns its ARN.
pub async fn role(
    cfg: &SdkConfig,
    name: &str,
    trust: &Value,
    statements: Option<Value>,
    managed: &[&str],
) -> String {
    let iam = aws_sdk_iam::Client::new(cfg);
    let arn = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole")
        .role
        .expect("role in CreateRole output")
        .arn;
    if let Some(statements) = statements {
        iam.put_role_policy()
            .role_name(name)
            .policy_name("inline")
            .policy_document(policy(statements).to_string())
            .send()
            .await
            .expect("PutRolePolicy");
    }
    for arn in managed {
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(*arn)
            .send()
            .await
            .expect("AttachRolePolicy");
    }
    arn
}

/// Role `name` trusted by Lambda, with `statements` as its inline policy when given.
pub async fn lambda_role(cfg: &SdkConfig, name: &str, statements: Option<Value>) -> String {
    role(
        cfg,
        name,
        &trusted_by("lambda.amazonaws.com"),
        statements,
        &[],
    )
    .await
}

/// A Lambda deployment group's service role as SAM makes it: trusted by CodeDeploy, with
/// [`CODEDEPLOY_FOR_LAMBDA`].
pub async fn codedeploy_service_role(cfg: &SdkConfig) -> String {
    role(
        cfg,
        "CodeDeployServiceRole",
        &trusted_by("codedeploy.amazonaws.com"),
        None,
        &[CODEDEPLOY_FOR_LAMBDA],
    )
    .await
}

/// The role the harness's functions are created with (Lambda checks that it exists and
/// trusts Lambda): made on first use in the account, then reused.
pub async fn function_role(cfg: &SdkConfig) -> String {
    const NAME: &str = "guarded-function-role";
    let existing = aws_sdk_iam::Client::new(cfg)
        .get_role()
        .role_name(NAME)
        .send()
        .await;
    match existing.ok().and_then(|out| out.role) {
        Some(role) => role.arn,
        None => lambda_role(cfg, NAME, None).await,
    }
}
