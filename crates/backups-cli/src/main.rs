//! `pieces-backups`: manage Pieces OS backups from a terminal or a script.
//!
//! ```text
//! pieces-backups demo                  # the whole API against a temporary local server (*)
//! pieces-backups list [--json]
//! pieces-backups create [--stream [--websocket]] [--json]
//! pieces-backups show ID [--json]
//! pieces-backups restore ID [--stream [--websocket]] [--yes] [--json]
//! pieces-backups watch [--json]        # every backup and restore in progress, until Ctrl-C
//! pieces-backups status ID [--restore] [--json]
//! pieces-backups cancel ID [--restore] [--json]
//! pieces-backups delete ID
//! pieces-backups prune --keep-last N [--dry-run] [--yes]   # all but the newest N, for cron
//! pieces-backups completions bash|zsh|fish|powershell|elvish
//! pieces-backups man [COMMAND] [--out-dir DIR]
//! ```
//!
//! `-v` (`--verbose`) shows each call to Pieces OS on stderr.
//!
//! Errors are one line on stderr and a distinct exit status (see `pieces-backups --help`).
//!
//! (*) `demo` needs the default `demo` feature, which carries the reference server;
//! `cargo install --no-default-features` builds a client-only binary whose `demo` says so and
//! exits with status 1.

#![forbid(unsafe_code)]

mod args;
mod ask;
mod commands;
mod connect;
#[cfg(test)]
mod coverage;
#[cfg(feature = "demo")]
mod demo;
mod exit;
mod interrupt;
mod manual;
mod ongoing;
mod output;
mod progress;
mod prune;
mod restore;
mod running;
mod spinner;
mod stop;
mod verbose;
mod watch;

/// `demo` in a client-only build: says what is missing rather than pretending not to exist,
/// so that following the documentation gives a clear answer.
#[cfg(not(feature = "demo"))]
mod demo {
    use crate::stop::Stop;

    pub(crate) async fn run(_json: bool, _out: &mut impl std::io::Write) -> Result<(), Stop> {
        Err(Stop::Local(
            "this build has no demo: it was built without the `demo` feature, which carries \
             the reference server (install with default features to get it)"
                .into(),
        ))
    }
}

use std::process::ExitCode;

use clap::Parser;

use crate::args::{ApiCommand, Cli, Command};
use crate::exit::Exit;
use crate::ongoing::Running;
use crate::progress::{Channel, ProgressMode};
use crate::restore::{Consent, Safety};
use crate::stop::Stop;
use crate::watch::WatchMode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    verbose::init(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("pieces-backups: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let json = cli.global.json;
    let (result, url) = match cli.command {
        Command::Demo => (demo::run(json, &mut out).await, None),
        Command::Completions { shell } => (manual::completions(shell, &mut out), None),
        Command::Man { command, out_dir } => (
            manual::man(command.as_deref(), out_dir.as_deref(), &mut out),
            None,
        ),
        Command::Api(command) => {
            let (client, url) = match connect::client(&cli.global).await {
                Ok(found) => found,
                Err(failure) => {
                    eprintln!("pieces-backups: {}", failure.message);
                    return failure.exit.code();
                }
            };
            let result = match command {
                ApiCommand::List => commands::list(&client, json, &mut out).await,
                ApiCommand::Create {
                    stream: false,
                    websocket: _,
                } => commands::create(&client, json, &mut out).await,
                ApiCommand::Create {
                    stream: true,
                    websocket,
                } => {
                    let mode = ProgressMode::for_stdout(json);
                    let channel = Channel::websocket_if(websocket);
                    commands::create_streamed(&client, channel, mode, &mut out).await
                }
                ApiCommand::Show { id } => commands::show(&client, &id, json, &mut out).await,
                ApiCommand::Restore {
                    id,
                    stream,
                    websocket,
                    yes,
                    no_safety_backup,
                } => {
                    let mode = stream.then(|| {
                        let channel = Channel::websocket_if(websocket);
                        (ProgressMode::for_stdout(json), channel)
                    });
                    let consent = Consent::from_yes(yes);
                    let safety = Safety::skipped_if(no_safety_backup);
                    restore::restore(&client, &id, consent, safety, mode, json, &mut out).await
                }
                ApiCommand::Status { id, restore } => {
                    let running = Running::restoration_if(restore);
                    running::status(&client, &id, running, json, &mut out).await
                }
                ApiCommand::Cancel { id, restore } => {
                    let running = Running::restoration_if(restore);
                    running::cancel(&client, &id, running, json, &mut out).await
                }
                ApiCommand::Watch => {
                    let mode = match ProgressMode::for_stdout(json) {
                        ProgressMode::Bar => WatchMode::Bars,
                        ProgressMode::Lines | ProgressMode::Json => WatchMode::Json,
                    };
                    watch::watch(&client, mode, &mut out).await
                }
                ApiCommand::Delete { id } => commands::delete(&client, &id, json, &mut out).await,
                ApiCommand::Prune {
                    keep_last,
                    dry_run,
                    yes,
                } => {
                    let options = prune::Options {
                        keep_last,
                        dry_run,
                        yes,
                        json,
                    };
                    prune::prune(&client, options, &mut out).await
                }
            };
            (result, Some(url))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Stop::Local(message)) => {
            eprintln!("pieces-backups: {message}");
            Exit::Local.code()
        }
        Err(Stop::Interrupted(message)) => {
            eprintln!("pieces-backups: interrupted: {message}");
            Exit::Interrupted.code()
        }
        Err(Stop::Failed { exit, message }) => {
            eprintln!("pieces-backups: {message}");
            exit.code()
        }
        Err(Stop::During(during)) => {
            let (error, ongoing) = *during;
            let (exit, message) = ongoing.failure(&error);
            eprintln!("pieces-backups: {message}");
            exit.code()
        }
        Err(Stop::Api(err)) => {
            let exit = Exit::for_error(&err);
            match (exit, url) {
                (Exit::CannotConnect, Some(url)) if err.is_connect() => {
                    eprintln!(
                        "pieces-backups: cannot connect: is Pieces OS running at {url}? ({err})"
                    )
                }
                (Exit::CannotConnect, Some(url)) => {
                    eprintln!("pieces-backups: lost the connection to Pieces OS at {url}: {err}")
                }
                _ => eprintln!("pieces-backups: {err}"),
            }
            exit.code()
        }
    }
}
