//! Wiring only: parse the command line, read the environment, build the AWS clients once,
//! dispatch, print, exit.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use guardian::config::Env;
use guardian_aws::clients::SdkSettings;
use rollout_guardian_cli::args::{self, Cli, Command};
use rollout_guardian_cli::aws::Aws;
use rollout_guardian_cli::commands::{self, Done, Environment, Terminal};
use rollout_guardian_cli::error::CliError;
use rollout_guardian_cli::style::Style;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout, mistakes to stderr (clap decides).
            let _ = e.print();
            return args::parse_error_exit(e.kind()).into();
        }
    };
    let var = |name: &str| std::env::var(name).ok();
    let style_for = |is_terminal: bool| {
        Style::for_output(
            is_terminal,
            var("NO_COLOR").as_deref(),
            var("TERM").as_deref(),
        )
    };
    let style = style_for(std::io::stdout().is_terminal());
    let error_style = style_for(std::io::stderr().is_terminal());

    let done = match &cli.command {
        Command::Drill => {
            let cwd = std::env::current_dir().unwrap_or_default();
            commands::drill(&cwd, error_style)
        }
        _ => match SdkSettings::from_env(&Env::from_process()) {
            Err(e) => {
                let e = CliError::BadRequest(e.to_string());
                Done {
                    stdout: String::new(),
                    stderr: e.render("rollout-guardian", error_style),
                    exit: e.exit(),
                }
            }
            Ok(settings) => {
                let aws =
                    Aws::connect(&settings, cli.region.as_deref(), cli.profile.as_deref()).await;
                let env = Environment {
                    stack: var(rollout_guardian_cli::locate::STACK_ENV),
                    user: var("USER"),
                    samconfig: std::fs::read_to_string("samconfig.toml").ok(),
                };
                let mut ask = |question: &str| {
                    eprint!("{question}");
                    let _ = std::io::stderr().flush();
                    let mut line = String::new();
                    match std::io::stdin().read_line(&mut line) {
                        Ok(n) if n > 0 => Some(line),
                        _ => None,
                    }
                };
                let mut term = Terminal {
                    style,
                    error_style,
                    interactive: std::io::stdin().is_terminal(),
                    ask: &mut ask,
                };
                commands::run(&aws, &cli, &env, &mut term).await
            }
        },
    };
    print!("{}", done.stdout);
    eprint!("{}", done.stderr);
    let _ = std::io::stdout().flush();
    done.exit.into()
}
