//! The emulator extension's control API (see tests/moto_ext/README.md): fault injection,
//! queued Lambda results, and records of what reached the emulator.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Clone)]
pub struct Control {
    host_port: String,
    account: String,
}

impl Control {
    pub fn new(url: &str, account: &str) -> Self {
        Control {
            host_port: url
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string(),
            account: account.to_string(),
        }
    }

    /// The next `count` calls of `operation` in this account fail with `status` / `code`.
    pub async fn inject_fault(&self, operation: &str, count: u32, status: u16, code: &str) {
        self.post(
            "/_ext/faults",
            json!({"operation": operation, "count": count, "status": status, "code": code, "message": "injected by test"}),
        )
        .await;
    }

    /// Queue results for synchronous invokes of `function` (at `qualifier`, or any).
    /// Each result: `{"payload", "function_error", "delay_ms", "executed_version", "log"}`.
    pub async fn queue_invoke_results(
        &self,
        function: &str,
        qualifier: Option<&str>,
        results: Vec<Value>,
    ) {
        self.post(
            "/_ext/lambda/results",
            json!({"function": function, "qualifier": qualifier, "results": results}),
        )
        .await;
    }

    /// Forward invokes of `function` to a real runtime's Invoke API at `url`.
    pub async fn route_invokes(&self, function: &str, qualifier: Option<&str>, url: &str) {
        self.post(
            "/_ext/lambda/route",
            json!({"function": function, "qualifier": qualifier, "url": url}),
        )
        .await;
    }

    /// Every invoke of `function` seen: `{"qualifier", "invocation_type", "payload"}`.
    pub async fn invocations(&self, function: &str) -> Vec<Value> {
        as_list(
            self.get(&format!("/_ext/lambda/invocations?function={function}"))
                .await,
        )
    }

    /// The payloads of the asynchronous (`Event`) invokes of `function` seen, in order.
    pub async fn events(&self, function: &str) -> Vec<Value> {
        self.invocations(function)
            .await
            .into_iter()
            .filter(|i| i["invocation_type"] == "Event")
            .map(|i| i["payload"].clone())
            .collect()
    }

    /// Hook statuses CodeDeploy recorded: `{"deploymentId", "lifecycleEventHookExecutionId", "status"}`.
    pub async fn hook_statuses(&self) -> Vec<Value> {
        as_list(self.get("/_ext/codedeploy/hook-statuses").await)
    }

    /// Deployments stopped: `{"deploymentId", "autoRollbackEnabled"}`.
    pub async fn stopped_deployments(&self) -> Vec<Value> {
        as_list(self.get("/_ext/codedeploy/stopped").await)
    }

    /// A deployment as the emulator's CodeDeploy engine ran it: the alias weights over
    /// (scaled) time (`weights`: `{"t", "weights"}`) and its lifecycle events.
    pub async fn timeline(&self, deployment_id: &str) -> Value {
        self.get(&format!(
            "/_ext/codedeploy/timeline?deploymentId={deployment_id}"
        ))
        .await
    }

    /// Set a deployment's status (moto leaves new deployments `Created`).
    pub async fn set_deployment_status(&self, deployment_id: &str, status: &str) {
        self.post(
            "/_ext/codedeploy/status",
            json!({"deploymentId": deployment_id, "status": status}),
        )
        .await;
    }

    /// What e-mail / SMS subscribers got (`protocol` = `email`, `email-json` or `sms`):
    /// `{"protocol", "endpoint", "subject", "message"}`.
    pub async fn deliveries(&self, protocol: &str) -> Vec<Value> {
        as_list(
            self.get(&format!("/_ext/sns/deliveries?protocol={protocol}"))
                .await,
        )
    }

    /// API calls this account made, by operation name (injected failures included).
    pub async fn call_counts(&self) -> BTreeMap<String, u64> {
        serde_json::from_value(self.get("/_ext/calls").await).unwrap_or_default()
    }

    /// POST any control route with `account` added to the body (see tests/moto_ext/README.md).
    pub async fn post(&self, path: &str, mut body: Value) -> Value {
        body["account"] = Value::String(self.account.clone());
        self.request("POST", path, Some(body)).await
    }

    /// GET any control route with `account` added to the query.
    pub async fn get(&self, path: &str) -> Value {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.request("GET", &format!("{path}{sep}account={}", self.account), None)
            .await
    }

    /// The emulator's clock for this account: its own waits (CodeDeploy intervals, hook
    /// timeouts, alarm periods, schedules, async retry delays) run `scale` times as long.
    pub async fn scale_time(&self, scale: f64) {
        self.post("/_ext/clock", json!({ "scale": scale })).await;
    }

    async fn request(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.host_port,
            body.len()
        );
        let (head, payload) = http(&self.host_port, &request).await;
        assert!(
            head.starts_with("HTTP/1.1 2") || head.starts_with("HTTP/1.0 2"),
            "control call {method} {path} failed: {head}\n{payload}"
        );
        serde_json::from_str(payload.trim()).unwrap_or(Value::Null)
    }
}

/// Minimal HTTP/1.1 over loopback (enough for the control API and the emulator's JSON APIs,
/// no client crate needed): `request` sent as is, the response's head and body.
pub(crate) async fn http(host_port: &str, request: &str) -> (String, String) {
    let mut stream = TcpStream::connect(host_port)
        .await
        .expect("emulator is reachable");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("response read");
    let text = String::from_utf8_lossy(&response);
    let (head, payload) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_string(), payload.to_string())
}

fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}
