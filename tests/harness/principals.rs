//! Calling AWS as someone: a role of the deployed stack, or an on-call engineer holding the
//! operator policy. The emulator authorises every call such a principal makes against its
//! policies, as IAM does (tests/moto_ext/iam_authz.py).

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use serde_json::json;

use crate::TestAccount;

impl TestAccount {
    /// SDK configuration acting as `role_arn` (credentials from STS `AssumeRole`).
    pub async fn as_role(&self, role_arn: &str, session: &str) -> SdkConfig {
        let admin = self.sdk_config().await;
        let creds = aws_sdk_sts::Client::new(&admin)
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session)
            .send()
            .await
            .expect("AssumeRole")
            .credentials
            .expect("credentials in AssumeRole output");
        admin
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                    creds.access_key_id,
                    creds.secret_access_key,
                    Some(creds.session_token),
                    None,
                    "assumed-role",
                )),
            )
            .build()
    }

    /// An on-call engineer: a role of this account (outside the stack, as a team's own role
    /// would be) with the stack's operator policy attached and nothing else.
    pub async fn operator(&self, operator_policy_arn: &str, name: &str) -> SdkConfig {
        let iam = aws_sdk_iam::Client::new(&self.sdk_config().await);
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{}:root", self.id)}, "Action": "sts:AssumeRole"}]});
        let role = iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .expect("CreateRole (operator)")
            .role
            .expect("role")
            .arn;
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(operator_policy_arn)
            .send()
            .await
            .expect("AttachRolePolicy (operator policy)");
        self.as_role(&role, name).await
    }
}
