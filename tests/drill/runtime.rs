//! The guardian's functions as real Lambda runtime processes. Each binary runs exactly as
//! in Lambda: it polls a Runtime API (`AWS_LAMBDA_RUNTIME_API`) for its next invocation and
//! posts the answer back. This module serves that API, one port per function, plus the
//! Invoke API (`POST /2015-03-31/functions/{name}/invocations`) for the drill and for the
//! emulator's routed invokes.
//!
//! Why not `cargo lambda watch`: it hands every invocation the constant
//! `Lambda-Runtime-Deadline-Ms: 600000` (1970-01-01T00:10Z), so functions that bound their
//! work by the deadline, as ours do, see it already passed. Here the deadline is real:
//! now plus the function's timeout, as in Lambda.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};

/// The function's timeout: each invocation's deadline is this far from its start.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(60);

enum Outcome {
    Response(Vec<u8>),
    Error(Vec<u8>),
}

struct Invocation {
    id: String,
    payload: Vec<u8>,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct Queue {
    /// Set when the function first asks for work: its init is done.
    polled: Notify,
    pending: Mutex<VecDeque<Invocation>>,
    arrived: Notify,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
}

/// One function process and the Runtime/Invoke API it is served by; killed when dropped.
pub struct LocalLambda {
    pub url: String,
    child: Child,
}

impl LocalLambda {
    /// Starts `target/debug/<binary>` under a Runtime API on a free port.
    pub async fn start(
        root: &Path,
        binary: &str,
        instance: &str,
        env: &[(String, String)],
    ) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let queue = Arc::new(Queue::default());
        tokio::spawn(serve(listener, queue.clone()));

        let logs = root.join("target/drill");
        std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(logs.join(format!("{instance}.log")))
            .map_err(|e| e.to_string())?;
        // What Lambda sets for every function; `env` may override (e.g. the version).
        let lambda_env = [
            ("AWS_LAMBDA_FUNCTION_NAME", instance),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/local"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ];
        let mut child = Command::new(root.join("target/debug").join(binary))
            .envs(lambda_env)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().map_err(|e| e.to_string())?))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("cannot start {binary}: {e}"))?;
        // Ready once it polls for its first invocation; a crash at init is reported here
        // rather than as a timeout later.
        let ready = tokio::time::timeout(Duration::from_secs(30), queue.polled.notified()).await;
        if ready.is_err() || matches!(child.try_wait(), Ok(Some(_))) {
            let _ = child.kill();
            let log =
                std::fs::read_to_string(logs.join(format!("{instance}.log"))).unwrap_or_default();
            return Err(format!(
                "{instance} did not start: {}",
                guardian::telemetry::preview(&log, 800)
            ));
        }
        Ok(LocalLambda {
            url: format!("http://{addr}"),
            child,
        })
    }

    pub fn invoke_url(&self) -> String {
        format!("{}/2015-03-31/functions/function/invocations", self.url)
    }
}

impl Drop for LocalLambda {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn serve(listener: TcpListener, queue: Arc<Queue>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(handle(stream, queue.clone()));
    }
}

/// One HTTP/1.1 request per connection (`Connection: close`): enough for the runtime client
/// and the SDK, which both reconnect.
async fn handle(stream: TcpStream, queue: Arc<Queue>) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).await.is_err() {
        return;
    }
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).await.is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let response = match (method, segments.as_slice()) {
        ("GET", ["2018-06-01", "runtime", "invocation", "next"]) => next(&queue).await,
        (
            "POST",
            [
                "2018-06-01",
                "runtime",
                "invocation",
                id,
                kind @ ("response" | "error"),
            ],
        ) => {
            if let Some(reply) = queue.in_flight.lock().ok().and_then(|mut m| m.remove(*id)) {
                let outcome = if *kind == "response" {
                    Outcome::Response(body)
                } else {
                    Outcome::Error(body)
                };
                let _ = reply.send(outcome);
            }
            http(202, &[], b"{}")
        }
        ("POST", ["2018-06-01", "runtime", "init", "error"]) => {
            eprintln!(
                "  function failed to start: {}",
                String::from_utf8_lossy(&body)
            );
            http(202, &[], b"{}")
        }
        ("POST", ["2015-03-31", "functions", _, "invocations"]) => invoke(&queue, body).await,
        _ => http(404, &[], b"{\"message\":\"not found\"}"),
    };
    let _ = reader.get_mut().write_all(&response).await;
}

/// The Runtime API's long poll: the next invocation, with a real deadline.
async fn next(queue: &Queue) -> Vec<u8> {
    queue.polled.notify_one();
    loop {
        let notified = queue.arrived.notified();
        let popped = queue.pending.lock().ok().and_then(|mut p| p.pop_front());
        if let Some(inv) = popped {
            let deadline = (SystemTime::now() + FUNCTION_TIMEOUT)
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default();
            if let Ok(mut m) = queue.in_flight.lock() {
                m.insert(inv.id.clone(), inv.reply);
            }
            let headers = [
                ("Lambda-Runtime-Aws-Request-Id", inv.id.clone()),
                ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
                (
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:us-east-1:000000000000:function:local".into(),
                ),
                (
                    "Lambda-Runtime-Trace-Id",
                    format!("Root=1-00000000-{:024x};Sampled=0", rand_id()),
                ),
            ];
            return http(200, &headers, &inv.payload);
        }
        notified.await;
    }
}

/// The Invoke API: queue the event, wait for the function's answer (or its timeout).
async fn invoke(queue: &Queue, payload: Vec<u8>) -> Vec<u8> {
    let (reply, answer) = oneshot::channel();
    let id = format!("{:032x}", rand_id());
    if let Ok(mut p) = queue.pending.lock() {
        p.push_back(Invocation { id, payload, reply });
    }
    queue.arrived.notify_one();
    match tokio::time::timeout(FUNCTION_TIMEOUT + Duration::from_secs(5), answer).await {
        Ok(Ok(Outcome::Response(body))) => http(200, &[], &body),
        Ok(Ok(Outcome::Error(body))) => {
            http(200, &[("X-Amz-Function-Error", "Unhandled".into())], &body)
        }
        _ => http(
            200,
            &[("X-Amz-Function-Error", "Unhandled".into())],
            b"{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":\"Task timed out\"}",
        ),
    }
}

fn http(status: u16, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    [head.into_bytes(), body.to_vec()].concat()
}

fn rand_id() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    nanos ^ u128::from(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Builds every function binary (debug), streaming cargo's progress.
pub fn build_functions(root: &Path) -> Result<(), String> {
    use std::io::BufRead;
    let mut child = Command::new("cargo")
        .args([
            "build",
            "--bins",
            "-p",
            "pre-traffic-hook",
            "-p",
            "alarm-fanout",
            "-p",
            "dlq-inspector",
        ])
        .args(["-p", "kill-switch", "-p", "sample-target"])
        .current_dir(root)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let Some(err) = child.stderr.take() {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let line = line.trim();
            if line.starts_with("Compiling")
                || line.starts_with("error")
                || line.starts_with("Finished")
            {
                println!("  | {line}");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| "cargo build of the functions failed".into())
}
