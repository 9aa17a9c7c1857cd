//! The command line (clap derive). Its `--help` texts are snapshot-tested
//! (cli/tests/snapshots).

use std::time::Duration;

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};

use crate::exit::Exit;
use crate::exit_codes;

#[derive(Debug, Parser)]
#[command(
    name = "rollout-guardian",
    version,
    about = "Operate rollout-guardian: stop trading, resume, status and the dead-letter queue",
    after_help = concat!(
        "Finding the guardian: --stack, else $ROLLOUT_GUARDIAN_STACK, else stack_name in\n",
        "./samconfig.toml, else \"rollout-guardian\"; the function names come from the stack's\n",
        "outputs, or from --kill-switch / --dlq-inspector. AWS credentials and region come from\n",
        "the usual chain (AWS_PROFILE, AWS_REGION, ...); AWS_ENDPOINT_URL is honoured. Invoking\n",
        "the functions needs the stack's operator policy (output OperatorPolicyArn).\n\n",
        "Examples:\n",
        "  rollout-guardian --stack prod-bot stop --reason \"bad fills since 03:00\"\n",
        "  rollout-guardian --stack prod-bot status\n",
        "  rollout-guardian --stack prod-bot resume --reason \"fix verified\"\n",
        "  rollout-guardian --stack prod-bot dlq inspect\n\n",
        exit_codes!()
    ),
    disable_help_subcommand = true
)]
pub struct Cli {
    /// The guardian's CloudFormation stack [default: $ROLLOUT_GUARDIAN_STACK, else samconfig.toml's stack_name, else rollout-guardian]
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Finding the guardian"
    )]
    pub stack: Option<String>,
    /// The kill switch function (name or ARN), instead of the stack's KillSwitchFunctionName
    #[arg(
        long,
        global = true,
        value_name = "FUNCTION",
        help_heading = "Finding the guardian"
    )]
    pub kill_switch: Option<String>,
    /// The DLQ inspector function (name or ARN), instead of the stack's DlqInspectorFunctionName
    #[arg(
        long,
        global = true,
        value_name = "FUNCTION",
        help_heading = "Finding the guardian"
    )]
    pub dlq_inspector: Option<String>,
    /// AWS region [default: from AWS_REGION or the profile]
    #[arg(long, global = true, value_name = "REGION", help_heading = "AWS")]
    pub region: Option<String>,
    /// AWS profile [default: from AWS_PROFILE, else the default profile]
    #[arg(long, global = true, value_name = "PROFILE", help_heading = "AWS")]
    pub profile: Option<String>,
    /// Print the function's JSON answer unchanged (for scripts) instead of the summary
    #[arg(long, global = true, help_heading = "Output")]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stopped or running, by whom, why, since when; concurrency, deployments, DLQ depth
    #[command(after_help = exit_codes!())]
    Status {
        /// The guarded function, when the kill switch guards several
        #[arg(long, value_name = "NAME")]
        function: Option<String>,
    },
    /// Stop trading: reserved concurrency 0, deployments stopped, schedule off, alert sent
    #[command(after_help = exit_codes!())]
    Stop(StopArgs),
    /// Resume trading: restore exactly the concurrency recorded at stop
    #[command(after_help = exit_codes!())]
    Resume(ResumeArgs),
    /// The guarded function's dead-letter queue: inspect, redrive, purge
    #[command(subcommand, after_help = exit_codes!())]
    Dlq(DlqCommand),
    /// Run the local rollout drill (same as make drill) from this checkout
    #[command(
        after_help = "Exit codes: 0 every step of the drill passed, 1 a step failed (or cargo could not \
                      start), 3 not run from inside a rollout-guardian checkout."
    )]
    Drill,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Why trading stops: recorded on the function and sent in the alert
    #[arg(long, value_name = "TEXT", value_parser = non_blank)]
    pub reason: String,
    /// The guarded function, when the kill switch guards several
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,
    /// Who asks [default: your AWS identity, else $USER]
    #[arg(long, value_name = "WHO")]
    pub requested_by: Option<String>,
    /// Do not ask for confirmation (it is asked only on a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Why it is safe to trade again: sent in the alert
    #[arg(long, value_name = "TEXT", value_parser = non_blank)]
    pub reason: String,
    /// The guarded function, when the kill switch guards several
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,
    /// Who asks [default: your AWS identity, else $USER]
    #[arg(long, value_name = "WHO")]
    pub requested_by: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// What failed: depth, ages, error groups, redacted samples; nothing is consumed
    #[command(after_help = exit_codes!())]
    Inspect {
        /// The guarded function whose DLQ, when the inspector watches several
        #[arg(long, value_name = "NAME")]
        function: Option<String>,
        /// Examine at most this many messages
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        max_messages: Option<u64>,
        /// Count messages older than this as stale (e.g. 30m, 2h)
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        max_age: Option<Duration>,
    },
    /// Re-send the failed events to the guarded function; stale ones are skipped, never replayed
    #[command(after_help = exit_codes!())]
    Redrive {
        /// The guarded function whose DLQ, when the inspector watches several
        #[arg(long, value_name = "NAME")]
        function: Option<String>,
        /// Say what would be re-sent; re-send nothing
        #[arg(long)]
        dry_run: bool,
        /// Skip (keep in the DLQ) messages older than this, e.g. 30m, 2h
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        max_age: Option<Duration>,
        /// Examine at most this many messages
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        max_messages: Option<u64>,
        /// Re-sends per second
        #[arg(long, value_name = "PER_SECOND")]
        rate: Option<f64>,
        /// Only messages with this Lambda ErrorCode
        #[arg(long, value_name = "CODE")]
        error_code: Option<String>,
    },
    /// Delete the selected messages for good (asks you to type the queue name)
    #[command(after_help = exit_codes!())]
    Purge {
        /// The guarded function whose DLQ, when the inspector watches several
        #[arg(long, value_name = "NAME")]
        function: Option<String>,
        /// The DLQ's name, instead of typing it at the prompt
        #[arg(long, value_name = "QUEUE_NAME")]
        confirm: Option<String>,
        /// Say what would be deleted; delete nothing
        #[arg(long)]
        dry_run: bool,
        /// Examine at most this many messages
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        max_messages: Option<u64>,
        /// Only messages with this Lambda ErrorCode
        #[arg(long, value_name = "CODE")]
        error_code: Option<String>,
    },
}

/// How a command line clap could not take ends: help and version are answers (0); any other
/// mistake is a bad request (3, nothing was done), not clap's own 2, which here means
/// "done partly".
pub fn parse_error_exit(kind: ErrorKind) -> Exit {
    match kind {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Exit::Done,
        _ => Exit::Refused,
    }
}

fn non_blank(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Err("say why, e.g. --reason \"bad fills since 03:00\"".to_string())
    } else {
        Ok(trimmed.to_string())
    }
}

fn duration(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_before_or_after_the_command() {
        let cli = Cli::try_parse_from([
            "rollout-guardian",
            "stop",
            "--reason",
            " bad fills ",
            "--stack",
            "rg",
            "-y",
        ])
        .unwrap();
        assert_eq!(cli.stack.as_deref(), Some("rg"));
        let Command::Stop(stop) = cli.command else {
            panic!("expected stop");
        };
        assert_eq!((stop.reason.as_str(), stop.yes), ("bad fills", true));
    }

    #[test]
    fn a_reason_is_required_and_must_say_something() {
        for args in [
            vec!["rollout-guardian", "stop"],
            vec!["rollout-guardian", "stop", "--reason", "  "],
            vec!["rollout-guardian", "resume"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert!(err.to_string().contains("--reason"), "{args:?}: {err}");
        }
    }

    #[test]
    fn usage_mistakes_are_refusals_not_partial_successes() {
        let missing = Cli::try_parse_from(["rollout-guardian", "stop"]).unwrap_err();
        assert_eq!(parse_error_exit(missing.kind()), Exit::Refused);
        let nothing = Cli::try_parse_from(["rollout-guardian"]).unwrap_err();
        assert_eq!(parse_error_exit(nothing.kind()), Exit::Refused);
        let help = Cli::try_parse_from(["rollout-guardian", "--help"]).unwrap_err();
        assert_eq!(parse_error_exit(help.kind()), Exit::Done);
        let version = Cli::try_parse_from(["rollout-guardian", "--version"]).unwrap_err();
        assert_eq!(parse_error_exit(version.kind()), Exit::Done);
    }

    #[test]
    fn dlq_options_parse_to_their_types() {
        let cli = Cli::try_parse_from([
            "rollout-guardian",
            "dlq",
            "redrive",
            "--dry-run",
            "--max-age",
            "30m",
            "--max-messages",
            "5",
        ])
        .unwrap();
        let Command::Dlq(DlqCommand::Redrive {
            dry_run,
            max_age,
            max_messages,
            ..
        }) = cli.command
        else {
            panic!("expected dlq redrive");
        };
        assert_eq!(
            (dry_run, max_age, max_messages),
            (true, Some(Duration::from_secs(1_800)), Some(5))
        );
        let bad = Cli::try_parse_from(["rollout-guardian", "dlq", "redrive", "--max-age", "30"])
            .unwrap_err();
        assert!(bad.to_string().contains("write it like 90s, 30m"), "{bad}");
        assert!(
            Cli::try_parse_from(["rollout-guardian", "dlq", "inspect", "--max-messages", "0"])
                .is_err()
        );
    }
}
