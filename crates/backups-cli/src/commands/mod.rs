//! The commands, one per file (as cargo's `src/bin/cargo/commands/`), and [`run`], which hands
//! the parsed command line to its command. Everything the commands share (`Stop`, following
//! progress, Ctrl-C, the spinner, output, exit statuses, asking, connecting) lives in modules
//! below them, which import none of them; a command calls another only from above it (the demo
//! runs most of the others).

use std::io::Write;

use backups_hyper::BackupsClient;

use crate::args::{ApiCommand, Cli, Command};
use crate::connect;
use crate::ongoing::Running;
use crate::progress::{Channel, ProgressMode};
use crate::stop::Stop;

use self::restore::{Consent, Safety};
use self::watch::WatchMode;

mod cancel;
mod create;
mod delete;
#[cfg(feature = "demo")]
mod demo;
mod list;
mod manual;
mod prune;
mod restore;
mod show;
mod status;
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

/// Runs the command that `cli` names, writing its output to `out`. Returns how it ended, with
/// the base URL of the Pieces OS it talked to (`None` for the commands that talk to none), which
/// the message of a connection failure names.
pub(crate) async fn run(cli: Cli, out: &mut impl Write) -> (Result<(), Stop>, Option<String>) {
    let json = cli.global.json;
    match cli.command {
        Command::Demo => (demo::run(json, out).await, None),
        Command::Completions { shell } => (manual::completions(shell, out), None),
        Command::Man { command, out_dir } => (
            manual::man(command.as_deref(), out_dir.as_deref(), out),
            None,
        ),
        Command::Api(command) => {
            let (client, url) = match connect::client(&cli.global).await {
                Ok(found) => found,
                // Printed as any failure with its own exit status: the message, then the status.
                Err(failure) => {
                    let stop = Stop::Failed {
                        exit: failure.exit,
                        message: failure.message,
                    };
                    return (Err(stop), None);
                }
            };
            (api(&client, command, json, out).await, Some(url))
        }
    }
}

/// Runs a command that talks to Pieces OS, through `client`.
async fn api(
    client: &BackupsClient,
    command: ApiCommand,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    match command {
        ApiCommand::List => list::list(client, json, out).await,
        ApiCommand::Create {
            stream: false,
            websocket: _,
        } => create::create(client, json, out).await,
        ApiCommand::Create {
            stream: true,
            websocket,
        } => {
            let mode = ProgressMode::for_stdout(json);
            let channel = Channel::websocket_if(websocket);
            create::create_streamed(client, channel, mode, out).await
        }
        ApiCommand::Show { id } => show::show(client, &id, json, out).await,
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
            restore::restore(client, &id, consent, safety, mode, json, out).await
        }
        ApiCommand::Status { id, restore } => {
            let running = Running::restoration_if(restore);
            status::status(client, &id, running, json, out).await
        }
        ApiCommand::Cancel { id, restore } => {
            let running = Running::restoration_if(restore);
            cancel::cancel(client, &id, running, json, out).await
        }
        ApiCommand::Watch => {
            let mode = match ProgressMode::for_stdout(json) {
                ProgressMode::Bar => WatchMode::Bars,
                ProgressMode::Lines | ProgressMode::Json => WatchMode::Json,
            };
            watch::watch(client, mode, out).await
        }
        ApiCommand::Delete { id } => delete::delete(client, &id, json, out).await,
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
            prune::prune(client, options, out).await
        }
    }
}
