//! Each command, start to end: find the guardian, ask when asking is due, invoke, read what
//! else `status` shows, and turn the answer into the summary and the exit code (the
//! decisions are the pure modules; this only sequences the calls).

use std::path::Path;

use guardian::dlq::request::Action as DlqAction;
use guardian::killswitch::request::Action;
use guardian_aws::error::AwsCallError;
use serde_json::Value;

use crate::answer::{self, Answer};
use crate::args::{Cli, Command, DlqCommand};
use crate::aws::Aws;
use crate::confirm::{self, Gate};
use crate::error::{CliError, PolicyHint, Principal, Trouble, classify};
use crate::exit::Exit;
use crate::killswitch::{self, Extras, Read, Summary};
use crate::locate::{self, Guardian, Lookup, Role, StackChoice};
use crate::style::Style;
use crate::{dlq, drill, identity};

/// What the process environment contributes, read once by `main`.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `ROLLOUT_GUARDIAN_STACK`.
    pub stack: Option<String>,
    /// `USER`.
    pub user: Option<String>,
    /// `./samconfig.toml`, when there is one.
    pub samconfig: Option<String>,
}

/// How the output looks and whether someone can answer a question.
pub struct Terminal<'a> {
    pub style: Style,
    pub error_style: Style,
    /// Standard input is a terminal.
    pub interactive: bool,
    /// Shows the question and reads one line (None: no answer, e.g. end of input).
    pub ask: &'a mut dyn FnMut(&str) -> Option<String>,
}

/// What to print and how to exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub stdout: String,
    pub stderr: String,
    pub exit: Exit,
}

/// The guardian a command talks to, and how to address it again in hints.
struct Target {
    guardian: Guardian,
    me: String,
}

pub async fn run(aws: &Aws, cli: &Cli, env: &Environment, term: &mut Terminal<'_>) -> Done {
    let fallback_me = locate::invocation(
        &locate::plan(cli.stack.as_deref(), None, None, true),
        &Guardian::default().with_named(cli.kill_switch.as_deref(), cli.dlq_inspector.as_deref()),
    );
    let result = match aws.region() {
        None => Err((CliError::NoRegion, fallback_me)),
        Some(_) => dispatch(aws, cli, env, term).await,
    };
    match result {
        Ok(done) => done,
        Err((e, me)) => Done {
            stdout: String::new(),
            stderr: e.render(&me, term.error_style),
            exit: e.exit(),
        },
    }
}

async fn dispatch(
    aws: &Aws,
    cli: &Cli,
    env: &Environment,
    term: &mut Terminal<'_>,
) -> Result<Done, (CliError, String)> {
    let role = match cli.command {
        Command::Dlq(_) => Role::DlqInspector,
        _ => Role::KillSwitch,
    };
    let target = find(aws, cli, env, role).await?;
    let me = target.me.clone();
    let done = match &cli.command {
        Command::Status { function } => {
            kill_switch(
                aws,
                cli,
                &target,
                term,
                Action::Status,
                None,
                None,
                function.as_deref(),
            )
            .await
        }
        Command::Stop(stop) => {
            let gate = confirm::stop(
                stop.yes,
                term.interactive,
                stop.function
                    .as_deref()
                    .or(target.guardian.guarded_function.as_deref()),
                target.guardian.stack.as_deref(),
                &stop.reason,
            );
            match pass(gate, term, "trading was not stopped") {
                Ok(_) => {
                    let by = requested_by(aws, stop.requested_by.as_deref(), env).await;
                    kill_switch(
                        aws,
                        cli,
                        &target,
                        term,
                        Action::Stop,
                        Some(&stop.reason),
                        Some(&by),
                        stop.function.as_deref(),
                    )
                    .await
                }
                Err(e) => Err(e),
            }
        }
        Command::Resume(resume) => {
            let by = requested_by(aws, resume.requested_by.as_deref(), env).await;
            kill_switch(
                aws,
                cli,
                &target,
                term,
                Action::Resume,
                Some(&resume.reason),
                Some(&by),
                resume.function.as_deref(),
            )
            .await
        }
        Command::Dlq(command) => dlq_command(aws, cli, &target, term, command).await,
        // Handled before any AWS client is built.
        Command::Drill => Err(CliError::BadRequest("drill needs no AWS".into())),
    };
    done.map_err(|e| (e, me))
}

/// Reads the stack (unless the function was named) and checks the function is known.
async fn find(
    aws: &Aws,
    cli: &Cli,
    env: &Environment,
    role: Role,
) -> Result<Target, (CliError, String)> {
    let named =
        Guardian::default().with_named(cli.kill_switch.as_deref(), cli.dlq_inspector.as_deref());
    let lookup = locate::plan(
        cli.stack.as_deref(),
        env.stack.as_deref(),
        env.samconfig.as_deref(),
        role.function(&named).is_some(),
    );
    let me = locate::invocation(&lookup, &named);
    let guardian = match &lookup {
        Lookup::Explicit => named,
        Lookup::Stack(choice) => {
            let read = read_stack(aws, choice).await.map_err(|e| (e, me.clone()))?;
            let g = Guardian::from_outputs(&choice.name, &read.outputs)
                .with_named(cli.kill_switch.as_deref(), cli.dlq_inspector.as_deref());
            if role.function(&g).is_none() {
                let e = CliError::MissingOutput {
                    stack: choice.name.clone(),
                    output: role.output(),
                    status: read.status,
                    flag: role.flag(),
                };
                return Err((e, me));
            }
            g
        }
    };
    let me = locate::invocation(&lookup, &guardian);
    Ok(Target { guardian, me })
}

async fn read_stack(aws: &Aws, choice: &StackChoice) -> Result<crate::aws::StackInfo, CliError> {
    let hint = PolicyHint {
        stack: Some(choice.name.clone()),
        policy_arn: None,
        principal: Principal::Unknown,
    };
    match aws.stack(&choice.name).await {
        Ok(Some(info)) => Ok(info),
        Ok(None) => Err(CliError::StackNotFound {
            stack: choice.name.clone(),
            found: choice.source,
            region: aws.region().unwrap_or("?").to_string(),
        }),
        Err(e) => Err(
            match CliError::aws(
                format!("reading stack {:?} ({})", choice.name, choice.source),
                e.code.as_deref(),
                &e.message,
                hint,
            ) {
                CliError::NotPermitted {
                    doing,
                    detail,
                    hint,
                    ..
                } => CliError::NotPermitted {
                    doing,
                    detail,
                    hint,
                    stack_read: true,
                },
                other => other,
            },
        ),
    }
}

/// `--requested-by`, else the caller's identity, else `$USER`.
async fn requested_by(aws: &Aws, flag: Option<&str>, env: &Environment) -> String {
    let caller = match flag {
        Some(_) => None,
        None => aws.caller_arn().await.ok(),
    };
    identity::requested_by(flag, caller.as_deref(), env.user.as_deref())
}

/// Ok(the purge's `confirm` value) when the gate lets the request through.
fn pass(gate: Gate, term: &mut Terminal<'_>, not_done: &str) -> Result<Option<String>, CliError> {
    match gate {
        Gate::Go(value) => Ok(value),
        Gate::Refuse(why) => Err(CliError::BadRequest(format!("{why}; {not_done}"))),
        Gate::Ask { question, expect } => {
            let typed = (term.ask)(&question).unwrap_or_default();
            confirm::check(&expect, &typed)
                .map_err(|why| CliError::NotConfirmed(format!("{why}: {not_done}")))
        }
    }
}

async fn invoke(
    aws: &Aws,
    role: Role,
    target: &Target,
    payload: &Value,
) -> Result<(Answer, Vec<u8>), CliError> {
    let g = &target.guardian;
    // `find` made sure the function is known.
    let function = role.function(g).unwrap_or_default();
    let out = aws
        .invoke(function, payload.to_string().as_bytes())
        .await
        .map_err(|e| {
            CliError::aws(
                format!("invoking the {} {function}", role.label()),
                e.code.as_deref(),
                &e.message,
                PolicyHint {
                    stack: g.stack.clone(),
                    policy_arn: g.operator_policy_arn.clone(),
                    principal: Principal::Unknown,
                },
            )
        })?;
    let answer = answer::read(out.function_error.as_deref(), &out.payload).map_err(|detail| {
        CliError::BadAnswer {
            function: format!("{} {function}", role.label()),
            detail,
        }
    })?;
    Ok((answer, out.payload))
}

fn finish(cli: &Cli, summary: Summary, payload: &[u8]) -> Done {
    let stdout = if cli.json {
        let mut raw = String::from_utf8_lossy(payload).into_owned();
        if !raw.ends_with('\n') {
            raw.push('\n');
        }
        raw
    } else {
        summary.text
    };
    Done {
        stdout,
        stderr: String::new(),
        exit: summary.exit,
    }
}

#[allow(clippy::too_many_arguments)]
async fn kill_switch(
    aws: &Aws,
    cli: &Cli,
    target: &Target,
    term: &Terminal<'_>,
    action: Action,
    reason: Option<&str>,
    requested_by: Option<&str>,
    function: Option<&str>,
) -> Result<Done, CliError> {
    let payload = killswitch::request(action, reason, requested_by, function);
    let want_extras = action == Action::Status && !cli.json;
    let (invoked, extras) =
        futures::join!(invoke(aws, Role::KillSwitch, target, &payload), async {
            if want_extras {
                Some(status_extras(aws, &target.guardian).await)
            } else {
                None
            }
        });
    let (answer, raw) = invoked?;
    let summary = killswitch::summarize(action, &answer, extras.as_ref(), &target.me, term.style);
    Ok(finish(cli, summary, &raw))
}

/// What `status` reads itself, with the caller's rights: deployments in flight, DLQ depth.
async fn status_extras(aws: &Aws, g: &Guardian) -> Extras {
    // A stack read without these outputs is a guardian-only one.
    fn missing<T>(g: &Guardian) -> Read<T> {
        if g.stack.is_some() {
            Read::NotInStack
        } else {
            Read::Unknown
        }
    }
    let deployments = async {
        match g.deployment() {
            None => missing(g),
            Some((app, group)) => to_read(
                aws.deployments_in_flight(app, group).await,
                "codedeploy:ListDeployments",
            ),
        }
    };
    let dlq = async {
        match &g.dlq_url {
            None => missing(g),
            Some(url) => to_read(aws.dlq_depth(url).await, "sqs:GetQueueAttributes"),
        }
    };
    let (deployments, dlq) = futures::join!(deployments, dlq);
    Extras {
        deployments,
        dlq,
        dlq_name: g.dlq_name().map(str::to_string),
    }
}

fn to_read<T>(result: Result<T, AwsCallError>, action: &str) -> Read<T> {
    match result {
        Ok(v) => Read::Got(v),
        Err(e) => match classify(e.code.as_deref(), &e.message) {
            Trouble::NotPermitted => Read::NotPermitted(action.to_string()),
            _ => Read::Failed(crate::error::readable(&e.to_string())),
        },
    }
}

async fn dlq_command(
    aws: &Aws,
    cli: &Cli,
    target: &Target,
    term: &mut Terminal<'_>,
    command: &DlqCommand,
) -> Result<Done, CliError> {
    let (action, options) = match command {
        DlqCommand::Inspect {
            function,
            max_messages,
            max_age,
        } => (
            DlqAction::Inspect,
            dlq::Options {
                function: function.clone(),
                max_messages: *max_messages,
                max_age: *max_age,
                ..dlq::Options::default()
            },
        ),
        DlqCommand::Redrive {
            function,
            dry_run,
            max_age,
            max_messages,
            rate,
            error_code,
        } => (
            DlqAction::Redrive,
            dlq::Options {
                max_messages: *max_messages,
                max_age: *max_age,
                dry_run: *dry_run,
                rate_per_second: *rate,
                error_code: error_code.clone(),
                confirm: None,
                function: function.clone(),
            },
        ),
        DlqCommand::Purge {
            function,
            confirm,
            dry_run,
            max_messages,
            error_code,
        } => {
            let gate = confirm::purge(
                confirm.as_deref(),
                term.interactive,
                target.guardian.dlq_name(),
                *dry_run,
            );
            let confirm = pass(gate, term, "nothing was purged")?;
            (
                DlqAction::Purge,
                dlq::Options {
                    max_messages: *max_messages,
                    dry_run: *dry_run,
                    error_code: error_code.clone(),
                    confirm,
                    function: function.clone(),
                    ..dlq::Options::default()
                },
            )
        }
    };
    let payload = dlq::request(action, &options);
    let (answer, raw) = invoke(aws, Role::DlqInspector, target, &payload).await?;
    let summary = dlq::summarize(action, &answer, &target.me, term.style);
    Ok(finish(cli, summary, &raw))
}

/// `drill`: `cargo run -p e2e --bin drill` in the checkout holding `cwd`, its output shown
/// as it runs.
pub fn drill(cwd: &Path, error_style: Style) -> Done {
    let failed = |e: CliError| Done {
        stdout: String::new(),
        stderr: e.render("rollout-guardian", error_style),
        exit: e.exit(),
    };
    let Some(root) = drill::checkout_root(cwd, Path::exists) else {
        return failed(CliError::NoCheckout(cwd.display().to_string()));
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = std::process::Command::new(&cargo)
        .args(drill::DRILL_ARGS)
        .current_dir(&root)
        .status();
    match status {
        Ok(s) => Done {
            stdout: String::new(),
            stderr: String::new(),
            exit: if s.success() {
                Exit::Done
            } else {
                Exit::Failed
            },
        },
        Err(e) => failed(CliError::DrillNotStarted {
            command: format!("{cargo} {}", drill::DRILL_ARGS.join(" ")),
            detail: e.to_string(),
        }),
    }
}
