//! The CLI as a user runs it: `template.yaml` deployed into the emulator (e2e::World), then
//! the built `rollout-guardian` binary run as a separate process with nothing from this
//! environment but the emulator's endpoint, a region and an on-call role's credentials. Each
//! step checks the exit code, what it printed, and what the emulator holds afterwards
//! (reserved concurrency, the stop record's tags, the DLQ's depth).

use std::collections::HashMap;
use std::process::{Command, Stdio};

use aws_config::SdkConfig;
use e2e::{REGION, STACK, Template, TestAccount, World};
use serde_json::{Value, json};

const CLI: &str = env!("CARGO_BIN_EXE_rollout-guardian");

/// Credentials for the CLI's environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`.
struct Keys {
    id: String,
    secret: String,
    token: Option<String>,
}

/// The role `role_name` of the world's account, assumed with STS.
async fn assume(world: &World, role_name: &str, session: &str) -> Keys {
    let role = format!("arn:aws:iam::{}:role/{role_name}", world.acct.id);
    let creds = world.acct.assume_role(&role, session).await;
    Keys {
        id: creds.access_key_id().to_string(),
        secret: creds.secret_access_key().to_string(),
        token: creds.session_token().map(str::to_string),
    }
}

/// A role of the account holding no policy at all: someone without the operator policy.
async fn bare_role(world: &World, name: &str) {
    let trust = e2e::trust(json!({"AWS": world.acct.root()}));
    e2e::role(&world.admin, name, &trust, None, &[]).await;
}

/// The account's own key (not IAM-checked): an administrator.
fn admin_keys(acct: &TestAccount) -> Keys {
    Keys {
        id: format!("ACCT{}", acct.id),
        secret: "emulator-secret".into(),
        token: None,
    }
}

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the CLI as a user would, from an empty directory, with only these variables.
async fn cli(acct: &TestAccount, keys: &Keys, args: &[&str]) -> Ran {
    let mut cmd = Command::new(CLI);
    cmd.args(args)
        .env_clear()
        .env("AWS_ENDPOINT_URL", &acct.endpoint)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null());
    if let Some(token) = &keys.token {
        cmd.env("AWS_SESSION_TOKEN", token);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the CLI process ran")
        .expect("the CLI binary starts");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The stop record on the guarded function (tags `guardian:*`, the restore note left out).
async fn record(world: &World) -> HashMap<String, String> {
    e2e::stop_record(&world.admin, &world.name("GuardedFunction")).await
}

async fn dlq_depth(admin: &SdkConfig, url: &str) -> u64 {
    let attrs = aws_sdk_sqs::Client::new(admin)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .unwrap_or_default();
    attrs
        .get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

/// Whether an alert whose subject starts with `subject` reaches the critical topic's inbox
/// within 10 s.
async fn critical_alert(world: &World, subject: &str) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < until {
        let alerts = world.read_inbox(&world.inboxes.critical).await;
        if alerts.iter().any(|n| {
            n["Subject"]
                .as_str()
                .is_some_and(|s| s.starts_with(subject))
        }) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_stops_checks_resumes_and_inspects_with_the_cli() {
    let world = World::deploy(TestAccount::new(), &Template::Repository, &[])
        .await
        .unwrap_or_else(|e| panic!("template.yaml did not deploy:\n{e}"));
    let acct = &world.acct;
    let oncall = assume(&world, "on-call", "alice").await;
    let dlq_url = world.stack.output("DeadLetterQueueUrl");
    let dlq_name = dlq_url.rsplit('/').next().unwrap_or_default().to_string();

    // Running: the kill switch's answer plus what the operator reads directly.
    let status = cli(acct, &oncall, &["--stack", STACK, "status"]).await;
    assert_eq!(status.code, 0, "status while running:\n{status}");
    assert!(status.stdout.starts_with("RUNNING  "), "{status}");
    for line in [
        "  reserved concurrency 1\n",
        "  deployments in flight: none\n",
        &format!("  DLQ {dlq_name}: empty\n"),
    ] {
        assert!(status.stdout.contains(line), "missing {line:?}:\n{status}");
    }

    // A stop without a reason is refused before anything is called.
    let no_reason = cli(acct, &oncall, &["--stack", STACK, "stop"]).await;
    assert_eq!(no_reason.code, 3, "stop without --reason:\n{no_reason}");
    assert!(no_reason.stderr.contains("--reason"), "{no_reason}");
    assert_eq!(world.reserved_concurrency().await, Some(1));

    // Stop: reserved concurrency 0, the record names the caller's identity and the reason.
    let stop = cli(
        acct,
        &oncall,
        &[
            "--stack",
            STACK,
            "stop",
            "--reason",
            "bad fills since 03:00",
        ],
    )
    .await;
    println!(
        "$ rollout-guardian --stack {STACK} stop --reason 'bad fills since 03:00'\n{}",
        stop.stdout
    );
    assert_eq!(stop.code, 0, "stop:\n{stop}");
    assert!(stop.stdout.contains(": trading is halted\n"), "{stop}");
    assert!(stop.stdout.contains("  - sent critical alert\n"), "{stop}");
    assert!(
        stop.stdout.contains(&format!(
            "next: check it: rollout-guardian --stack {STACK} status\n"
        )),
        "{stop}"
    );
    assert_eq!(world.reserved_concurrency().await, Some(0), "{stop}");
    assert!(
        critical_alert(&world, "[CRITICAL] STOPPED").await,
        "the stop's alert reached the critical topic"
    );
    let held = record(&world).await;
    assert_eq!(
        held.get("guardian:stopped-by").map(String::as_str),
        Some("on-call/alice"),
        "{held:?}"
    );
    assert_eq!(
        held.get("guardian:stop-reason").map(String::as_str),
        Some("bad fills since 03:00")
    );
    assert_eq!(
        held.get("guardian:previous-concurrency")
            .map(String::as_str),
        Some("1")
    );

    // A failed event waits in the DLQ (as Lambda leaves one: the error in its attributes).
    let attr = |v: &str| {
        aws_sdk_sqs::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(v)
            .build()
            .expect("attribute")
    };
    aws_sdk_sqs::Client::new(&world.admin)
        .send_message()
        .queue_url(&dlq_url)
        .message_body(r#"{"symbol":"EURUSD","side":"buy"}"#)
        .message_attributes("ErrorCode", attr("200"))
        .message_attributes("ErrorMessage", attr("broker timeout"))
        .send()
        .await
        .expect("SendMessage to the DLQ");

    // Status while stopped: who, why, since when, what resume restores, the DLQ's depth.
    let status = cli(acct, &oncall, &["--stack", STACK, "status"]).await;
    println!(
        "$ rollout-guardian --stack {STACK} status\n{}",
        status.stdout
    );
    assert_eq!(status.code, 0, "status while stopped:\n{status}");
    assert!(status.stdout.starts_with("STOPPED  "), "{status}");
    assert!(
        status.stdout.contains("  stopped by on-call/alice at "),
        "{status}"
    );
    assert!(
        status.stdout.contains("  reason: bad fills since 03:00\n"),
        "{status}"
    );
    assert!(
        status
            .stdout
            .contains("  reserved concurrency 0; resume restores reserved concurrency 1\n"),
        "{status}"
    );
    assert!(
        status.stdout.contains(&format!(
            "  DLQ {dlq_name}: 1 waiting, 0 in flight, 0 delayed\n"
        )),
        "{status}"
    );

    // A redrive while stopped would refill the DLQ: the inspector refuses it.
    let redrive = cli(
        acct,
        &oncall,
        &["--stack", STACK, "dlq", "redrive", "--max-age", "30m"],
    )
    .await;
    assert_eq!(redrive.code, 3, "redrive while stopped:\n{redrive}");
    assert!(redrive.stdout.contains("Dlq.TargetStopped"), "{redrive}");
    assert_eq!(dlq_depth(&world.admin, &dlq_url).await, 1);

    // Resume: the recorded concurrency is back, the record gone, the DLQ reported.
    let resume = cli(
        acct,
        &oncall,
        &["--stack", STACK, "resume", "--reason", "fix verified"],
    )
    .await;
    println!(
        "$ rollout-guardian --stack {STACK} resume --reason 'fix verified'\n{}",
        resume.stdout
    );
    assert_eq!(resume.code, 0, "resume:\n{resume}");
    assert!(resume.stdout.contains(": trading resumed\n"), "{resume}");
    assert!(
        resume
            .stdout
            .contains("  had been stopped by on-call/alice at "),
        "{resume}"
    );
    assert!(
        resume
            .stdout
            .contains("  DLQ: 1 message(s) waiting; not replayed\n"),
        "{resume}"
    );
    assert!(resume.stdout.contains("dlq inspect"), "{resume}");
    assert_eq!(world.reserved_concurrency().await, Some(1), "{resume}");
    assert!(
        critical_alert(&world, "[CRITICAL] RESUMED").await,
        "the resume's alert reached the critical topic"
    );
    assert!(
        record(&world).await.is_empty(),
        "the stop record is removed"
    );

    // Inspect: the report, and nothing consumed.
    let inspect = cli(acct, &oncall, &["--stack", STACK, "dlq", "inspect"]).await;
    println!(
        "$ rollout-guardian --stack {STACK} dlq inspect\n{}",
        inspect.stdout
    );
    assert_eq!(inspect.code, 0, "dlq inspect:\n{inspect}");
    assert!(
        inspect
            .stdout
            .starts_with(&format!("INSPECT  DLQ {dlq_name}: 1 waiting")),
        "{inspect}"
    );
    assert!(
        inspect
            .stdout
            .contains("      1 x ErrorCode 200: broker timeout\n"),
        "{inspect}"
    );
    assert_eq!(
        dlq_depth(&world.admin, &dlq_url).await,
        1,
        "inspect consumes nothing"
    );

    // --json: the kill switch's answer, unchanged.
    let json = cli(acct, &oncall, &["--stack", STACK, "--json", "status"]).await;
    assert_eq!(json.code, 0, "{json}");
    let answer: Value =
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(
        (answer["action"].as_str(), answer["state"].as_str()),
        (Some("status"), Some("running"))
    );
    assert_eq!(answer["reserved_concurrency"], 1);

    // Someone without the operator policy: refused, told which policy to get and how.
    bare_role(&world, "developer").await;
    let developer = assume(&world, "developer", "bob").await;
    let denied = cli(
        acct,
        &developer,
        &["--stack", STACK, "stop", "--reason", "x"],
    )
    .await;
    assert_eq!(
        denied.code, 3,
        "stop without the operator policy:\n{denied}"
    );
    assert!(denied.stderr.contains("OperatorPolicyArn"), "{denied}");
    assert!(
        denied
            .stderr
            .contains("aws iam attach-role-policy --role-name developer"),
        "{denied}"
    );
    let kill_switch = world.stack.output("KillSwitchFunctionName");
    let denied = cli(
        acct,
        &developer,
        &["--kill-switch", &kill_switch, "stop", "--reason", "x"],
    )
    .await;
    assert_eq!(
        denied.code, 3,
        "invoke without the operator policy:\n{denied}"
    );
    assert!(
        denied.stderr.contains("lambda:InvokeFunction")
            && denied.stderr.contains("OperatorPolicyArn"),
        "{denied}"
    );
    assert_eq!(
        world.reserved_concurrency().await,
        Some(1),
        "nothing was stopped"
    );

    // An unknown stack: an administrator is told it does not exist (1); an operator may read
    // only its own stack, so the name is the first thing to check (3).
    let unknown = cli(
        acct,
        &admin_keys(acct),
        &["--stack", "no-such-stack", "status"],
    )
    .await;
    assert_eq!(unknown.code, 1, "unknown stack:\n{unknown}");
    assert!(
        unknown.stderr.starts_with(&format!(
            "error: there is no stack \"no-such-stack\" (from --stack) in region {REGION}\n"
        )),
        "{unknown}"
    );
    let unknown = cli(acct, &oncall, &["--stack", "no-such-stack", "status"]).await;
    assert_eq!(
        unknown.code, 3,
        "unknown stack, as the operator:\n{unknown}"
    );
    assert!(
        unknown
            .stderr
            .contains("check the stack name and region first"),
        "{unknown}"
    );
}

/// A guardian-only stack guarding two bots of another stack (README "Guard an existing
/// function"): every command names its bot with `--function`; one naming none is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_names_the_bot_when_the_guardian_guards_several() {
    let scene = e2e::drill::existing::deploy(TestAccount::new())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (world, [bot, pricer]) = (&scene.world, &scene.bots);
    let (bot, pricer) = (bot.as_str(), pricer.as_str());
    let oncall = assume(world, "on-call", "alice").await;
    let run = |args: &[&str]| {
        let args: Vec<String> = ["--stack", STACK]
            .iter()
            .chain(args)
            .map(|a| a.to_string())
            .collect();
        let (acct, oncall) = (&world.acct, &oncall);
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli(acct, oncall, &args).await
        }
    };
    // (trading bot, pricing bot) reserved concurrency.
    let concurrency = || async {
        (
            e2e::reserved_concurrency(&world.admin, bot).await,
            e2e::reserved_concurrency(&world.admin, pricer).await,
        )
    };

    let status = run(&["status", "--function", pricer]).await;
    let unnamed = run(&["stop", "--reason", "drill"]).await;
    println!("$ rollout-guardian status --function {pricer}\n{status}");
    println!("$ rollout-guardian stop --reason drill\n{unnamed}");
    assert_eq!(status.code, 0, "status:\n{status}");
    assert!(status.stdout.starts_with("RUNNING  "), "{status}");
    let not_shown = "  DLQ: not shown: the stack is guardian-only";
    assert!(status.stdout.contains(not_shown), "{status}");
    assert_ne!(unnamed.code, 0, "a stop naming no bot:\n{unnamed}");
    assert!(
        unnamed.stdout.contains("KillSwitch.FunctionRequired"),
        "{unnamed}"
    );
    assert_eq!(concurrency().await, (Some(1), Some(1)));

    let stop = run(&["stop", "--function", pricer, "--reason", "stale"]).await;
    assert_eq!(stop.code, 0, "stop:\n{stop}");
    assert_eq!(concurrency().await, (Some(1), Some(0)));
    let resume = run(&["resume", "--function", pricer, "--reason", "fixed"]).await;
    assert_eq!(resume.code, 0, "resume:\n{resume}");
    assert_eq!(concurrency().await, (Some(1), Some(1)));

    let inspect = run(&["dlq", "inspect"]).await;
    assert_eq!(inspect.code, 0, "inspect:\n{inspect}");
    for bot in [bot, pricer] {
        assert!(inspect.stdout.contains(&format!("{bot}-dlq")), "{inspect}");
    }
    let redrive = run(&["dlq", "redrive", "--function", bot, "--dry-run"]).await;
    assert_eq!(redrive.code, 0, "redrive:\n{redrive}");
    assert!(redrive.stdout.contains(&format!("{bot}-dlq")), "{redrive}");
}
