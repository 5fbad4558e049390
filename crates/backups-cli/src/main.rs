//! `pieces-backups`: manage Pieces OS backups from a terminal or a script.
//!
//! ```text
//! pieces-backups demo                  # the whole API against a temporary local server (*)
//! pieces-backups doctor [--json]      # is Pieces OS there, usable, and what runs now
//! pieces-backups list [--json] [--device NAME] [--platform P] [--since DATE] [--until DATE]
//! pieces-backups create [--stream [--websocket]] [--json]
//! pieces-backups show ID|latest [--device NAME] [--platform P] [--json]
//! pieces-backups restore ID|latest [--stream [--websocket]] [--yes] [--no-safety-backup] [--json]
//! pieces-backups watch [--json]        # every backup and restore in progress, until Ctrl-C
//! pieces-backups status ID [--restore] [--json]
//! pieces-backups cancel ID [--restore] [--json]
//! pieces-backups delete ID
//! pieces-backups prune --keep-daily 7 --keep-weekly 4 [--dry-run] [--yes]   # restic's policies, for cron
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
mod exit;
mod interrupt;
mod ongoing;
mod output;
mod pick;
mod progress;
mod retention;
mod spinner;
mod stop;
mod verbose;

use std::process::ExitCode;

use backups_proto::escape_controls;
use clap::Parser;

use crate::commands::Cli;
use crate::exit::Exit;
use crate::stop::Stop;

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
    let (result, url) = commands::run(cli, &mut out).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Stop::Local(message)) => {
            say(&message);
            Exit::Local.code()
        }
        Err(Stop::Interrupted(message)) => {
            say(&format!("interrupted: {message}"));
            Exit::Interrupted.code()
        }
        Err(Stop::Failed { exit, message }) => {
            say(&message);
            exit.code()
        }
        Err(Stop::During(during)) => {
            let (error, ongoing) = *during;
            let (exit, message) = ongoing.failure(&error);
            say(&message);
            exit.code()
        }
        Err(Stop::Api(err)) => {
            let exit = Exit::for_error(&err);
            match (exit, url) {
                (Exit::CannotConnect, Some(url)) if err.is_connect() => say(&format!(
                    "cannot connect: is Pieces OS running at {url}? ({err})"
                )),
                (Exit::CannotConnect, Some(url)) => {
                    say(&format!("lost the connection to Pieces OS at {url}: {err}"))
                }
                _ => say(&err.to_string()),
            }
            exit.code()
        }
    }
}

/// Says why the command failed, on stderr. The message may quote Pieces OS (an error text, a
/// device name, a status it made up), so its control characters are escaped: a hostile server
/// cannot drive the user's terminal.
fn say(message: &str) {
    eprintln!("pieces-backups: {}", escape_controls(message));
}
