//! The commands, one per file (as cargo's `src/bin/cargo/commands/`), and [`run`], which hands
//! the parsed command line to its command. Everything the commands share (`Stop`, following
//! progress, Ctrl-C, the spinner, output, exit statuses, asking, connecting) lives in modules
//! below them, which import none of them; a command calls another only from above it (the demo
//! runs most of the others).

use std::io::Write;

use backups_hyper::BackupsClient;

use clap::{Parser, Subcommand};

use crate::args::{self, Global};
use crate::connect;
use crate::ongoing::Running;
use crate::pick;
use crate::progress::{Channel, ProgressMode};
use crate::stop::Stop;

use self::restore::{Consent, Safety};
use self::watch::WatchMode;

mod backup_assets;
mod cancel;
mod create;
mod delete;
#[cfg(feature = "demo")]
mod demo;
mod doctor;
mod list;
mod manual;
mod prune;
mod restore;
mod show;
mod status;
mod watch;

/// Manage Pieces OS backups: list, create, show, restore, follow, watch, cancel, delete, prune,
/// and back up assets.
///
/// Without --host or PIECES_OS_URL, the running Pieces OS is discovered: its port file, then
/// ports 39300 to 39333, then the legacy ports 1000 and 5323.
#[derive(Debug, Parser)]
#[command(name = "pieces-backups", version, after_help = args::EXIT_STATUSES)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    #[command(flatten)]
    Api(ApiCommand),

    /// Check the setup in one report: where Pieces OS is, its version and health, whether
    /// backups work, what runs now, and this tool's version
    ///
    /// Says where discovery looked and what answered there (or, with --host or PIECES_OS_URL,
    /// checks that address alone), asks Pieces OS its version and health, lists the backups to
    /// see whether they work (sign in and connect to the cloud on 511, update Pieces OS on
    /// 505), and reads the progress channel's first snapshot. Each problem comes with the one
    /// thing to do about it. Exits 0 only when backups are usable, else with the status of the
    /// problem (see below). With --json, the report is one JSON object.
    #[command(
        after_help = "Example:\n  pieces-backups doctor\n  pieces-backups doctor --json > report.json"
    )]
    Doctor,

    /// Run the whole API against a temporary in-process reference server
    #[cfg_attr(
        not(feature = "demo"),
        command(
            about = "Not in this build: it was built without the `demo` feature (the reference server)",
            long_about = "Not in this build: it was built without the `demo` feature, which carries the \
                reference server. Install with default features to get it."
        )
    )]
    #[cfg_attr(
        feature = "demo",
        command(after_help = "Example:\n  pieces-backups demo")
    )]
    #[cfg_attr(
        not(feature = "demo"),
        command(
            after_help = "Example:\n  pieces-backups demo   (in a build with the `demo` feature)"
        )
    )]
    Demo,

    /// Print a shell completion script to stdout
    ///
    /// Load it in the shell's startup file, or install it where the shell looks for
    /// completions.
    #[command(
        after_help = "Example:\n  pieces-backups completions bash > ~/.local/share/bash-completion/completions/pieces-backups\n  pieces-backups completions zsh > ~/.zfunc/_pieces-backups\n  pieces-backups completions fish > ~/.config/fish/completions/pieces-backups.fish\n  pieces-backups completions powershell >> $PROFILE"
    )]
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the manual page (roff) to stdout, or write every page to a directory
    ///
    /// The page of `pieces-backups` itself, or with COMMAND the page of that subcommand
    /// (`pieces-backups-COMMAND(1)`). With --out-dir, writes the pages of the command and of
    /// every subcommand there as NAME.1 files instead, for packaging.
    #[command(
        after_help = "Example:\n  pieces-backups man | man -l -\n  pieces-backups man prune | man -l -\n  pieces-backups man --out-dir /usr/local/share/man/man1"
    )]
    Man {
        /// The subcommand whose page to print
        #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
        command: Option<String>,
        /// Write all the pages into this directory instead of printing one
        #[arg(long, value_name = "DIR")]
        out_dir: Option<std::path::PathBuf>,
    },
}

/// The subcommands that talk to a running Pieces OS.
#[derive(Debug, Subcommand)]
pub(crate) enum ApiCommand {
    /// List every backup, newest first as the server orders them
    #[command(
        after_help = "Example:\n  pieces-backups list\n  pieces-backups list --json\n  pieces-backups list --device \"Old Mac\" --since 2026-06-01"
    )]
    List {
        #[command(flatten)]
        filter: pick::Listed,
    },

    /// Back the local database up and print the new backup
    #[command(
        after_help = "Example:\n  pieces-backups create\n  pieces-backups create --stream\n  pieces-backups create --stream --json > progress.ndjson\n  pieces-backups create --stream --websocket"
    )]
    Create {
        /// Follow the backup's progress as it is made (a progress bar on a terminal)
        #[arg(long)]
        stream: bool,
        #[arg(long, requires = "stream", help = args::WEBSOCKET_HELP, long_help = args::WEBSOCKET_LONG_HELP)]
        websocket: bool,
    },

    /// Show one backup by its id, or the newest (`latest`)
    #[command(
        after_help = "Example:\n  pieces-backups show 1764190800000\n  pieces-backups show 1764190800000 --json\n  pieces-backups show latest --device \"Old Mac\""
    )]
    Show {
        #[command(flatten)]
        backup: pick::Chosen,
    },

    /// Replace the local database with a backup's content (nothing is merged)
    ///
    /// First makes a safety backup of the local data as it is, and prints its id: restoring
    /// that one undoes the restore (--no-safety-backup skips it). Asks for confirmation first
    /// when stdin is a terminal; elsewhere, pass --yes. Ctrl-C during the restore asks Pieces
    /// OS to cancel it, which puts the original database back. A restore is followed to its
    /// real end: through a dropped connection, a silent phase or a Pieces OS restart.
    #[command(
        after_help = "Example:\n  pieces-backups restore 1764190800000\n  pieces-backups restore latest --device \"Old Mac\"\n  pieces-backups restore 1764190800000 --stream --yes\n  pieces-backups restore 1764190800000 --stream --json --yes > progress.ndjson\n  pieces-backups restore 1764190800000 --stream --websocket --yes"
    )]
    Restore {
        #[command(flatten)]
        backup: pick::Chosen,
        /// Follow the restore's progress (a progress bar on a terminal)
        #[arg(long)]
        stream: bool,
        #[arg(long, requires = "stream", help = args::WEBSOCKET_HELP, long_help = args::WEBSOCKET_LONG_HELP)]
        websocket: bool,
        /// Restore without asking: required when stdin is not a terminal
        #[arg(long, short)]
        yes: bool,
        /// Do not back the local data up before replacing it (nothing to undo the restore with)
        #[arg(long)]
        no_safety_backup: bool,
    },

    /// Show how the creation (or, with --restore, the restoration) of a backup goes or ended
    #[command(
        after_help = "Example:\n  pieces-backups status 1764190800000\n  pieces-backups status 1764190800000 --restore --json"
    )]
    Status {
        #[command(flatten)]
        backup: pick::Chosen,
        /// The status of its restoration rather than of its creation
        #[arg(long)]
        restore: bool,
    },

    /// Stop the creation (or, with --restore, the restoration) of a backup in progress
    #[command(
        after_help = "Example:\n  pieces-backups cancel 1764190800000\n  pieces-backups cancel 1764190800000 --restore"
    )]
    Cancel {
        #[command(flatten)]
        backup: pick::Chosen,
        /// Cancel its restoration (which puts the original database back) rather than its
        /// creation
        #[arg(long)]
        restore: bool,
    },

    /// Watch every backup and restore in progress, live, until Ctrl-C
    ///
    /// Reads Pieces OS's progress WebSocket. On a terminal: one bar per creation ("backup ID")
    /// and restoration ("restore ID"), which appears when the operation starts and gives way
    /// to a line saying how it ended once it ends. Elsewhere or with --json: each snapshot as
    /// one line of JSON (NDJSON), the first one at once. Ctrl-C stops watching and exits 0;
    /// nothing is cancelled. A channel silent for as long as --timeout (or the default idle timeout) is
    /// reopened, which prints a fresh snapshot.
    #[command(
        after_help = "Example:\n  pieces-backups watch\n  pieces-backups watch --json > snapshots.ndjson"
    )]
    Watch,

    /// Delete one backup by its id
    #[command(after_help = "Example:\n  pieces-backups delete 1764190800000")]
    Delete {
        #[command(flatten)]
        backup: pick::Chosen,
    },

    /// Ask Pieces OS to back up assets (POST /backup), or one asset (POST /backup/asset)
    ///
    /// FILE (`-` for stdin) holds the JSON of an Assets object (with `iterable`), sent to
    /// /backup, or of one Asset, sent to /backup/asset; it is checked first, and one that is
    /// neither is a usage error (exit 2) naming what is wrong where. Without FILE, nothing is
    /// sent with the request, as the official SDKs' `backup()` and `backup_asset()` do. Every
    /// field is sent exactly as the file has it. Pieces OS answers 204: it took the request.
    #[command(
        after_help = "Example:\n  pieces-backups backup-assets\n  pieces-backups backup-assets assets.json\n  pieces-backups backup-assets asset.json --json\n  pieces-backups backup-assets --asset"
    )]
    BackupAssets {
        /// A JSON file of an Assets or an Asset, or `-` for stdin
        #[arg(value_name = "FILE")]
        file: Option<std::path::PathBuf>,
        /// Send to /backup/asset: FILE is one Asset, or without FILE no asset is given
        #[arg(long)]
        asset: bool,
    },

    /// Delete the backups a retention policy does not keep, as restic's forget: for cron
    ///
    /// Each --keep-X N rule keeps the newest backup of each of the last N hours, days, ISO
    /// weeks (Monday to Sunday), months or years that hold a backup (--keep-last: the newest N
    /// backups); --keep-within keeps every backup within that long of the newest. A backup is
    /// kept when any rule keeps it. The policy applies to each device's backups on its own
    /// (--group-by), in local time (TZ, else /etc/localtime) unless --utc. Prints each backup,
    /// keep or remove, and why (the whole plan with --dry-run), then asks when stdin is a
    /// terminal; elsewhere, pass --yes. Deletes the oldest first and stops at the first
    /// failure, saying which backups were deleted and which were not, with that failure's exit
    /// status. A policy that keeps nothing (every rule 0) needs --allow-empty.
    // Its own options after the global ones, rather than interleaved by declaration order.
    #[command(
        next_display_order = 10,
        group(clap::ArgGroup::new("policy").multiple(true).required(true).args([
            "keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly",
            "keep_yearly", "keep_within",
        ])),
        after_help = "Example:\n  pieces-backups prune --keep-last 5 --dry-run\n  pieces-backups prune --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run\n  pieces-backups prune --keep-within 2y5m7d3h --group-by none --utc --dry-run --json\n  pieces-backups prune --keep-last 3 --keep-daily 7 --yes --json   # from cron"
    )]
    Prune {
        /// Keep the newest N backups
        #[arg(long, value_name = "N", value_parser = crate::retention::parse_count, allow_negative_numbers = true)]
        keep_last: Option<u32>,
        /// Keep the newest backup of each of the last N hours that hold one
        #[arg(long, value_name = "N", value_parser = crate::retention::parse_count, allow_negative_numbers = true)]
        keep_hourly: Option<u32>,
        /// Keep the newest backup of each of the last N days that hold one
        #[arg(long, value_name = "N", value_parser = crate::retention::parse_count, allow_negative_numbers = true)]
        keep_daily: Option<u32>,
        /// Keep the newest backup of each of the last N ISO weeks that hold one
        #[arg(long, value_name = "N", value_parser = crate::retention::parse_count, allow_negative_numbers = true)]
        keep_weekly: Option<u32>,
        /// Keep the newest backup of each of the last N months that hold one
        #[arg(long, value_name = "N", value_parser = crate::retention::parse_count, allow_negative_numbers = true)]
        keep_monthly: Option<u32>,
        /// Keep the newest backup of each of the last N years that hold one
        #[arg(long, value_name = "N", value_parser = crate::retention::parse_count, allow_negative_numbers = true)]
        keep_yearly: Option<u32>,
        /// Keep every backup within DURATION of the newest, such as 7d or 2y5m7d3h (y, m, d, h)
        #[arg(long, value_name = "DURATION", value_parser = crate::retention::parse_within, allow_hyphen_values = true)]
        keep_within: Option<crate::retention::Within>,
        /// What the policy applies to on its own: each device's backups, each platform's, or
        /// all together
        #[arg(long, value_enum, default_value = "device", value_name = "GROUP")]
        group_by: crate::retention::GroupBy,
        /// Cut hours, days, weeks, months and years in UTC instead of local time
        #[arg(long)]
        utc: bool,
        /// Allow a policy that keeps nothing (every rule 0) to delete every backup
        #[arg(long)]
        allow_empty: bool,
        /// Only show what would be kept and deleted, and why; delete nothing
        #[arg(long)]
        dry_run: bool,
        /// Delete without asking: required when stdin is not a terminal
        #[arg(long, short)]
        yes: bool,
    },
}

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
        Command::Doctor => (doctor::doctor(&cli.global, out).await, None),
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
        ApiCommand::List { filter } => list::list(client, &filter.filter(), json, out).await,
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
        ApiCommand::Show { backup } => {
            let id = backup.resolve(client).await?;
            show::show(client, &id, json, out).await
        }
        ApiCommand::Restore {
            backup,
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
            let id = backup.resolve(client).await?;
            restore::restore(client, &id, consent, safety, mode, json, out).await
        }
        ApiCommand::Status { backup, restore } => {
            let id = backup.resolve(client).await?;
            let running = Running::restoration_if(restore);
            status::status(client, &id, running, json, out).await
        }
        ApiCommand::Cancel { backup, restore } => {
            let id = backup.resolve(client).await?;
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
        ApiCommand::Delete { backup } => {
            let id = backup.resolve(client).await?;
            delete::delete(client, &id, json, out).await
        }
        ApiCommand::BackupAssets { file, asset } => {
            backup_assets::backup_assets(client, file.as_deref(), asset, json, out).await
        }
        ApiCommand::Prune {
            keep_last,
            keep_hourly,
            keep_daily,
            keep_weekly,
            keep_monthly,
            keep_yearly,
            keep_within,
            group_by,
            utc,
            allow_empty,
            dry_run,
            yes,
        } => {
            let policy = crate::retention::Policy {
                last: keep_last,
                hourly: keep_hourly,
                daily: keep_daily,
                weekly: keep_weekly,
                monthly: keep_monthly,
                yearly: keep_yearly,
                within: keep_within,
            };
            let options = prune::Options {
                policy,
                group_by,
                utc,
                allow_empty,
                dry_run,
                yes,
                json,
            };
            prune::prune(client, options, out).await
        }
    }
}

/// How the command line covers one operation.
#[cfg(test)]
enum Coverage {
    /// A command line (after `pieces-backups`) that makes the operation.
    Command(&'static [&'static str]),
}

/// One line per operation, by `Operation::name`: the command that makes it. The test below fails
/// when an operation of the table has no line here.
#[cfg(test)]
const COVERAGE: &[(&str, Coverage)] = &[
    ("list", Coverage::Command(&["list"])),
    ("create", Coverage::Command(&["create"])),
    (
        "create_streamed",
        Coverage::Command(&["create", "--stream"]),
    ),
    ("delete", Coverage::Command(&["delete", "1764190800000"])),
    ("get", Coverage::Command(&["show", "1764190800000"])),
    (
        "restore",
        Coverage::Command(&["restore", "1764190800000", "--yes"]),
    ),
    (
        "restore_streamed",
        Coverage::Command(&["restore", "1764190800000", "--stream", "--yes"]),
    ),
    (
        "creation_status",
        Coverage::Command(&["status", "1764190800000"]),
    ),
    (
        "cancel_creation",
        Coverage::Command(&["cancel", "1764190800000"]),
    ),
    (
        "restoration_status",
        Coverage::Command(&["status", "1764190800000", "--restore"]),
    ),
    (
        "cancel_restoration",
        Coverage::Command(&["cancel", "1764190800000", "--restore"]),
    ),
    (
        "backup_assets",
        Coverage::Command(&["backup-assets", "assets.json"]),
    ),
    (
        "backup_asset",
        Coverage::Command(&["backup-assets", "--asset"]),
    ),
    ("watch_progress", Coverage::Command(&["watch"])),
    (
        "create_over_websocket",
        Coverage::Command(&["create", "--stream", "--websocket"]),
    ),
    (
        "restore_over_websocket",
        Coverage::Command(&[
            "restore",
            "1764190800000",
            "--stream",
            "--websocket",
            "--yes",
        ]),
    ),
];

#[cfg(test)]
mod tests {
    use clap::Parser;

    use backups_proto::Operation;

    use super::*;

    #[test]
    fn every_operation_has_a_command_or_a_reason() {
        for operation in Operation::ALL {
            let line = COVERAGE.iter().find(|(name, _)| *name == operation.name());
            let Some((_, coverage)) = line else {
                panic!("{operation}: add its command, and its line in COVERAGE");
            };
            match coverage {
                Coverage::Command(args) => {
                    let argv = std::iter::once(&"pieces-backups").chain(args.iter());
                    match Cli::try_parse_from(argv) {
                        Ok(cli) => assert!(
                            matches!(cli.command, Command::Api(_)),
                            "{operation}: `pieces-backups {}` is not an API command",
                            args.join(" ")
                        ),
                        Err(err) => panic!(
                            "{operation}: `pieces-backups {}` does not parse: {err}",
                            args.join(" ")
                        ),
                    }
                }
            }
        }
        assert_eq!(
            COVERAGE.len(),
            Operation::ALL.len(),
            "a line names no operation"
        );
    }
}
