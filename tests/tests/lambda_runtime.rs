//! Lambda as the emulator runs it (tests/moto_ext/lambda_exec.py, tests/moto_ext/README.md, Lambda): a
//! function's own code runs as a process behind a Lambda Runtime API, with its environment,
//! its role's credentials, its timeout, its concurrency and its asynchronous queue. Every
//! case goes through the real Rust SDK.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::operation::invoke::InvokeOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    AliasRoutingConfiguration, Environment, InvocationType, LogType, ThrottleReason,
};
use e2e::{
    FunctionSpec, TestAccount, create_function, eventually, lambda_role, letters, publish, queue,
    queue_arn, reserve_concurrency, role, runnable_function, sample_target, trusted_by,
};
use guardian_aws::clients::SdkSettings;
use serde_json::{Value, json};

/// A runtime in Python that answers each event with the environment the process was started
/// with (`/proc/self/environ`, before the interpreter adds anything).
const ENV_RUNTIME: &str = r#"#!/usr/bin/env python3
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
raw = open("/proc/self/environ", "rb").read().split(b"\0")
env = dict(kv.decode().split("=", 1) for kv in raw if kv)
while True:
    r = urllib.request.urlopen(api + "/invocation/next")
    rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    answer = {"env": env, "arn": r.headers["Lambda-Runtime-Invoked-Function-Arn"],
              "deadline_ms": int(r.headers["Lambda-Runtime-Deadline-Ms"])}
    urllib.request.urlopen(urllib.request.Request(
        api + "/invocation/" + rid + "/response", data=json.dumps(answer).encode(), method="POST")).read()
"#;

/// What Lambda itself sets for a provided.al2023 function, plus the emulator's endpoint.
const LAMBDA_KEYS: &[&str] = &[
    "_HANDLER",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
    "LANG",
    "PATH",
    "LD_LIBRARY_PATH",
    "AWS_ENDPOINT_URL",
];

// ------------------------------------------------------------------------------- helpers

/// Clients that never retry, so a throttle is seen as it is answered.
async fn config(acct: &TestAccount) -> SdkConfig {
    acct.sdk_config_with(&SdkSettings {
        max_attempts: 1,
        ..SdkSettings::default()
    })
    .await
}

fn lambda(cfg: &SdkConfig) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(cfg)
}

async fn invoke(
    cfg: &SdkConfig,
    name: &str,
    qualifier: Option<&str>,
    payload: Value,
) -> InvokeOutput {
    lambda(cfg)
        .invoke()
        .function_name(name)
        .set_qualifier(qualifier.map(str::to_string))
        .payload(Blob::new(payload.to_string()))
        .log_type(LogType::Tail)
        .send()
        .await
        .expect("Invoke")
}

fn answer(out: &InvokeOutput) -> Value {
    serde_json::from_slice(out.payload.as_ref().expect("payload").as_ref()).expect("JSON payload")
}

fn log_tail(out: &InvokeOutput) -> String {
    let raw =
        aws_smithy_types::base64::decode(out.log_result.as_deref().unwrap_or("")).expect("base64");
    String::from_utf8_lossy(&raw).into_owned()
}

/// The async queue's record of the last event sent to `function`, once it is settled.
async fn settled(acct: &TestAccount, function: &str) -> Value {
    let path = format!("/_ext/lambda/async?function={function}");
    eventually("the event to settle", Duration::from_secs(30), || async {
        let records = acct.control.get(&path).await;
        let last = records.as_array().and_then(|r| r.last()).cloned()?;
        (last["outcome"] != "queued").then_some(last)
    })
    .await
}

/// `bot`, running the sample target with `env` and `timeout`, as role `bot-role`.
async fn bot(cfg: &SdkConfig, env: &[(&str, &str)], timeout: i32) {
    let role = lambda_role(cfg, "bot-role", None).await;
    runnable_function(cfg, "bot", &role, env, timeout).await;
}

/// CreateFunction of `bot` on the sample target, refused: the refusal.
async fn refused(cfg: &SdkConfig, role: &str, env: &[(&str, &str)], dlq: Option<&str>) -> String {
    let spec = FunctionSpec {
        name: "bot",
        role,
        bootstrap: sample_target().await,
        env,
        timeout: Some(3),
        dlq,
    };
    create_function(cfg, &spec).await.unwrap_err()
}

/// A role that may send to `dlq`, a function on the sample target with that DLQ, and the
/// queue's URL.
async fn with_dlq(acct: &TestAccount, cfg: &SdkConfig, name: &str) -> String {
    let dlq = queue(cfg, &format!("{name}-dlq")).await;
    let dlq_arn = queue_arn(cfg, &dlq).await;
    let grant = json!([{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dlq_arn}]);
    let role = lambda_role(cfg, &format!("{name}-role"), Some(grant)).await;
    let spec = FunctionSpec {
        name,
        role: &role,
        bootstrap: sample_target().await,
        timeout: Some(5),
        dlq: Some(&dlq_arn),
        ..FunctionSpec::default()
    };
    create_function(cfg, &spec).await.expect("CreateFunction");
    acct.control.scale_time(0.001).await;
    dlq
}

// ------------------------------------------------------------------------------- tests

#[tokio::test]
async fn the_environment_is_the_functions_own_plus_what_lambda_sets() {
    let acct = TestAccount::new();
    let cfg = config(&acct).await;
    let role = lambda_role(&cfg, "env-role", None).await;
    let spec = FunctionSpec {
        name: "env",
        role: &role,
        bootstrap: ENV_RUNTIME.into(),
        env: &[("FOO", "bar")],
        timeout: Some(3),
        dlq: None,
    };
    create_function(&cfg, &spec).await.expect("CreateFunction");

    let out = invoke(&cfg, "env", None, json!({})).await;
    assert_eq!(out.function_error, None, "{}", log_tail(&out));
    assert_eq!(out.executed_version.as_deref(), Some("$LATEST"));
    let got = answer(&out);
    let env: BTreeMap<String, String> = serde_json::from_value(got["env"].clone()).unwrap();
    let mut want: Vec<&str> = LAMBDA_KEYS.to_vec();
    want.push("FOO");
    want.sort();
    assert_eq!(
        env.keys().map(String::as_str).collect::<Vec<_>>(),
        want,
        "nothing else leaks in"
    );
    assert_eq!(env["FOO"], "bar");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "env");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/env");
    assert_eq!(env["AWS_ENDPOINT_URL"], acct.endpoint);
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert!(
        env["AWS_ACCESS_KEY_ID"].starts_with("ASIA"),
        "the role's STS credentials"
    );
    assert_eq!(got["arn"], acct.function_arn("env"));
    let budget = got["deadline_ms"].as_u64().unwrap() as i128
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i128;
    assert!(
        (1000..=3000).contains(&budget),
        "deadline is now + Timeout (3 s): {budget} ms left"
    );
    let tail = log_tail(&out);
    assert!(
        tail.starts_with("START RequestId: ")
            && tail.contains("\nEND RequestId: ")
            && tail.contains("\nREPORT RequestId: "),
        "{tail}"
    );

    // A configuration change retires $LATEST's environment: the next run sees the new value.
    lambda(&cfg)
        .update_function_configuration()
        .function_name("env")
        .environment(Environment::builder().variables("FOO", "baz").build())
        .send()
        .await
        .unwrap();
    let again = answer(&invoke(&cfg, "env", Some("$LATEST"), json!({})).await);
    assert_eq!(again["env"]["FOO"], "baz");
    assert_eq!(
        again["arn"],
        format!("{}:$LATEST", acct.function_arn("env"))
    );
    let envs = acct.control.get("/_ext/lambda/environments").await;
    assert_eq!(
        envs.as_array().unwrap().len(),
        1,
        "one live process: {envs}"
    );
}

#[tokio::test]
async fn a_sync_invoke_returns_the_codes_answer_and_the_version_that_ran() {
    let acct = TestAccount::new();
    let cfg = config(&acct).await;
    bot(&cfg, &[], 5).await;
    let v1 = publish(&cfg, "bot", "none").await;

    let out = invoke(&cfg, "bot", Some(&v1), json!({"smoke_test": true})).await;
    assert_eq!(out.status_code, 200);
    assert_eq!(out.function_error, None);
    assert_eq!(out.executed_version.as_deref(), Some(v1.as_str()));
    assert_eq!(answer(&out), json!({"status": "ok", "version": v1}));
    assert!(
        log_tail(&out).contains("sample target answered"),
        "{}",
        log_tail(&out)
    );

    let v2 = publish(&cfg, "bot", "fail").await;
    let out = invoke(&cfg, "bot", Some(&v2), json!({"smoke_test": true})).await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(answer(&out)["errorType"], "SampleTarget.BadBuild");
}

#[tokio::test]
async fn an_alias_routes_by_its_weights_in_a_fixed_rotation() {
    let acct = TestAccount::new();
    let cfg = config(&acct).await;
    bot(&cfg, &[], 5).await;
    let v1 = publish(&cfg, "bot", "none").await;
    let v2 = publish(&cfg, "bot", "wrong-json").await;
    lambda(&cfg)
        .create_alias()
        .function_name("bot")
        .name("live")
        .function_version(&v1)
        .routing_config(
            AliasRoutingConfiguration::builder()
                .additional_version_weights(&v2, 0.25)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let mut ran = Vec::new();
    for _ in 0..8 {
        let out = invoke(&cfg, "bot", Some("live"), json!({"smoke_test": true})).await;
        let version = out.executed_version.clone().unwrap();
        assert_eq!(
            answer(&out)["version"],
            version.as_str(),
            "the version that ran answered"
        );
        ran.push(version);
    }
    // After k invocations exactly ceil(k * 0.25) went to version 2: the 1st and the 5th.
    let want: Vec<String> = [&v2, &v1, &v1, &v1, &v2, &v1, &v1, &v1]
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(ran, want);
}

#[tokio::test]
async fn a_run_past_the_timeout_is_killed_and_reported() {
    let acct = TestAccount::new();
    let cfg = config(&acct).await;
    bot(&cfg, &[("FAILURE_MODE", "hang")], 1).await;

    let started = Instant::now();
    let out = invoke(&cfg, "bot", None, json!({})).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    let error = answer(&out);
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 1.00 seconds"),
        "{error}"
    );
    assert!(log_tail(&out).contains("Task timed out after 1.00 seconds"));
    let envs = acct.control.get("/_ext/lambda/environments").await;
    assert_eq!(envs, json!([]), "the timed-out process is gone");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_invoke_beyond_reserved_concurrency_is_throttled() {
    let acct = TestAccount::new();
    let cfg = config(&acct).await;
    bot(&cfg, &[("FAILURE_MODE", "hang")], 4).await;
    let v1 = publish(&cfg, "bot", "hang").await;
    reserve_concurrency(&cfg, "bot", 1).await;

    let (hang_cfg, q) = (cfg.clone(), v1.clone());
    let in_flight =
        tokio::spawn(async move { invoke(&hang_cfg, "bot", Some(&q), json!({})).await });
    eventually("the first run to start", Duration::from_secs(3), || async {
        let envs = acct.control.get("/_ext/lambda/environments").await;
        envs.to_string().contains("\"busy\"").then_some(())
    })
    .await;
    let err = lambda(&cfg)
        .invoke()
        .function_name("bot")
        .qualifier(&v1)
        .send()
        .await
        .expect_err("one run in flight fills reserved concurrency 1")
        .into_service_error();
    let throttle = match err {
        aws_sdk_lambda::operation::invoke::InvokeError::TooManyRequestsException(t) => t,
        other => panic!("expected a throttle, got {other:?}"),
    };
    assert_eq!(
        throttle.reason,
        Some(ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded)
    );
    assert_eq!(
        in_flight.await.unwrap().function_error.as_deref(),
        Some("Unhandled")
    );

    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    let stats = aws_sdk_cloudwatch::Client::new(&cfg)
        .get_metric_statistics()
        .namespace("AWS/Lambda")
        .metric_name("Throttles")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("FunctionName")
                .value("bot")
                .build(),
        )
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("Resource")
                .value(format!("bot:{v1}"))
                .build(),
        )
        .start_time(aws_smithy_types::DateTime::from_secs(now.secs() - 600))
        .end_time(aws_smithy_types::DateTime::from_secs(now.secs() + 60))
        .period(60)
        .statistics(aws_sdk_cloudwatch::types::Statistic::Sum)
        .send()
        .await
        .expect("GetMetricStatistics");
    let throttles: f64 = stats.datapoints().iter().filter_map(|d| d.sum).sum();
    assert_eq!(throttles, 1.0, "Throttles for bot:{v1}");
}

#[tokio::test]
async fn an_async_failure_is_retried_then_dead_lettered_as_lambda_does() {
    let acct = TestAccount::new();
    let cfg = config(&acct).await;
    let dlq = with_dlq(&acct, &cfg, "bot").await;
    let v1 = publish(&cfg, "bot", "fail").await;

    let out = lambda(&cfg)
        .invoke()
        .function_name("bot")
        .qualifier(&v1)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(r#"{"tick": 7}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code, 202);
    let record = settled(&acct, "bot").await;
    assert_eq!(record["outcome"], "dead-lettered", "{record}");
    let attempts = record["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "the first run and two retries: {record}");
    assert!(attempts.iter().all(|a| a["result"] == "function_error"));

    let letters = letters(&cfg, &dlq, None).await;
    assert_eq!(letters.len(), 1);
    let (body, attrs) = (&letters[0].body, &letters[0].attributes);
    assert_eq!(body, r#"{"tick": 7}"#, "the original event, as sent");
    assert_eq!(
        attrs["RequestID"],
        (
            "String".into(),
            record["request_id"].as_str().unwrap().into()
        )
    );
    assert_eq!(attrs["ErrorCode"], ("Number".into(), "200".into()));
    assert!(
        attrs["ErrorMessage"].1.starts_with("bad build"),
        "{attrs:?}"
    );
}

#[tokio::test]
async fn an_async_event_at_zero_reserved_concurrency_goes_straight_to_the_dlq() {
    let acct = TestAccount::new();
    let cfg = config(&acct).await;
    let dlq = with_dlq(&acct, &cfg, "bot").await;
    reserve_concurrency(&cfg, "bot", 0).await;

    let out = lambda(&cfg)
        .invoke()
        .function_name("bot")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(r#"{"tick": 8}"#))
        .send()
        .await
        .expect("the event is accepted (202) and queued");
    assert_eq!(out.status_code, 202);
    let record = settled(&acct, "bot").await;
    assert_eq!(record["outcome"], "dead-lettered");
    assert_eq!(record["attempts"], json!([]), "never run, never retried");
    let letters = letters(&cfg, &dlq, None).await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].body, r#"{"tick": 8}"#);
    assert_eq!(letters[0].attribute("ErrorCode"), "429");
}

#[tokio::test]
async fn creation_is_refused_when_lambda_could_not_use_the_role() {
    let acct = TestAccount::new();
    let cfg = config(&acct).await;
    let dlq = queue(&cfg, "dlq").await;
    let dlq_arn = queue_arn(&cfg, &dlq).await;
    let mute = lambda_role(&cfg, "no-grants", None).await;
    assert_eq!(
        refused(&cfg, &mute, &[], Some(&dlq_arn)).await,
        "InvalidParameterValueException: The provided execution role does not have permissions to call SendMessage on SQS"
    );

    let other = role(
        &cfg,
        "ec2-role",
        &trusted_by("ec2.amazonaws.com"),
        None,
        &[],
    )
    .await;
    assert_eq!(
        refused(&cfg, &other, &[], None).await,
        "InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda."
    );

    let err = refused(&cfg, &mute, &[("AWS_REGION", "eu-west-1")], None).await;
    assert!(
        err.ends_with("Reserved keys used in this request: AWS_REGION"),
        "{err}"
    );
}

#[tokio::test]
async fn reserved_concurrency_must_leave_100_unreserved() {
    let acct = TestAccount::new();
    let cfg = config(&acct).await;
    let role = lambda_role(&cfg, "bot-role", None).await;
    for name in ["a", "b"] {
        runnable_function(&cfg, name, &role, &[], 3).await;
    }
    let put = |name: &'static str, n: i32| {
        let client = lambda(&cfg);
        async move {
            client
                .put_function_concurrency()
                .function_name(name)
                .reserved_concurrent_executions(n)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.into_service_error().message().unwrap_or("").to_string())
        }
    };
    put("a", 600).await.unwrap();
    let floor = "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].";
    assert_eq!(
        put("b", 301).await.unwrap_err(),
        floor,
        "1000 - 600 - 301 < 100"
    );
    put("b", 300).await.unwrap();

    acct.control
        .post("/_ext/lambda/quota", json!({"concurrency": 1200}))
        .await;
    put("b", 500).await.unwrap();
}
