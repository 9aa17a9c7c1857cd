//! EventBridge, called as the account over its awsJson1_1 API (there is no
//! aws-sdk-eventbridge crate in the workspace): the emulator maps the key `ACCT<id>` to the
//! account and does not verify signatures.

use serde_json::{Value, json};

use crate::control::http;
use crate::{REGION, TestAccount};

/// EventBridge `operation` with `body`: its JSON answer (the call must succeed).
pub async fn eventbridge(acct: &TestAccount, operation: &str, body: Value) -> Value {
    let host = acct
        .endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let body = body.to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AWSEvents.{operation}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=ACCT{}/20250101/{REGION}/events/aws4_request, \
         SignedHeaders=host;x-amz-target, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        acct.id,
        body.len()
    );
    let (head, payload) = http(host, &request).await;
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "EventBridge {operation} failed: {head}\n{payload}"
    );
    serde_json::from_str(payload.trim()).unwrap_or(Value::Null)
}

/// A rule `name` on the default bus matching `pattern`, with `targets`: its ARN.
pub async fn rule(acct: &TestAccount, name: &str, pattern: Value, targets: Value) -> String {
    let arn = eventbridge(
        acct,
        "PutRule",
        json!({"Name": name, "EventPattern": pattern.to_string()}),
    )
    .await["RuleArn"]
        .as_str()
        .expect("RuleArn")
        .to_string();
    eventbridge(
        acct,
        "PutTargets",
        json!({"Rule": name, "Targets": targets}),
    )
    .await;
    arn
}
