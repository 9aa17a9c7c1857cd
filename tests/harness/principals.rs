//! Calling AWS as someone: a role of the deployed stack, or an on-call engineer holding the
//! operator policy. The emulator authorises every call such a principal makes against its
//! policies, as IAM does (tests/moto_ext/iam_authz.py).

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use serde_json::json;

use crate::{TestAccount, role, trust};

impl TestAccount {
    /// Credentials of `role_arn`, from STS `AssumeRole`.
    pub async fn assume_role(&self, role_arn: &str, session: &str) -> Credentials {
        let creds = aws_sdk_sts::Client::new(&self.sdk_config().await)
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session)
            .send()
            .await
            .expect("AssumeRole")
            .credentials
            .expect("credentials in AssumeRole output");
        Credentials::new(
            creds.access_key_id,
            creds.secret_access_key,
            Some(creds.session_token),
            None,
            "assumed-role",
        )
    }

    /// SDK configuration acting as `role_arn` (credentials from STS `AssumeRole`).
    pub async fn as_role(&self, role_arn: &str, session: &str) -> SdkConfig {
        let creds = self.assume_role(role_arn, session).await;
        self.sdk_config()
            .await
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .build()
    }

    /// An on-call engineer: a role of this account (outside the stack, as a team's own role
    /// would be) with the stack's operator policy attached and nothing else.
    pub async fn operator(&self, operator_policy_arn: &str, name: &str) -> SdkConfig {
        let admin = self.sdk_config().await;
        let trust = trust(json!({"AWS": self.root()}));
        let role = role(&admin, name, &trust, None, &[operator_policy_arn]).await;
        self.as_role(&role, name).await
    }
}
