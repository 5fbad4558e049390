//! The command line, as clap reads it.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

pub(crate) const EXIT_STATUSES: &str = "\
Exit statuses:
  0    success (and `watch` stopped with Ctrl-C: watching until then is its job)
  1    local failure (the demo could not write its temporary files or start its server,
       or this build has no demo), or a restore or prune you did not confirm
  2    usage error (bad arguments), or `restore` or `prune` off a terminal without --yes
  3    cannot connect, or the connection was lost mid-call: is Pieces OS running at
       that address? (a restore or create that had started is followed to its end first)
  4    Pieces OS needs you to sign in (HTTP 511)
  5    Pieces OS is too old for backups: update it (HTTP 505)
  6    other server error (HTTP 500, such as `cancel` with nothing in progress; an
       unexpected status; a create or restore that ended FAILED or CANCELED; a progress
       channel that Pieces OS closed under `watch`)
  7    bad response (malformed, truncated or oversized)
  8    timed out
  9    no such backup, or no creation or restoration of it known (HTTP 404)
  10   outcome unknown: Pieces OS restarted during the create or restore and no longer
       knows it, so whether it finished cannot be told; check your data and the
       command's `pieces-backups status ID --restore` (or `list`)
  130  interrupted (Ctrl-C); a create or restore that named its backup is cancelled first

Environment:
  PIECES_OS_URL   base URL of Pieces OS, as --host
  NO_COLOR        set to anything (but empty): no colour, even on a terminal

Examples:
  pieces-backups list
  pieces-backups create --stream
  pieces-backups prune --keep-last 5 --yes        # from cron: keep the newest 5
  pieces-backups -v list                          # each call to Pieces OS on stderr
  pieces-backups completions bash > ~/.local/share/bash-completion/completions/pieces-backups
  pieces-backups man | man -l -";

/// Manage Pieces OS backups: list, create, show, restore, follow, watch, cancel, delete, prune.
///
/// Without --host or PIECES_OS_URL, the running Pieces OS is discovered: its port file, then
/// ports 39300 to 39333, then the legacy ports 1000 and 5323.
#[derive(Debug, Parser)]
#[command(name = "pieces-backups", version, after_help = EXIT_STATUSES)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every subcommand accepts, before or after its name.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Base URL of Pieces OS, such as http://localhost:39300
    #[arg(long, global = true, env = "PIECES_OS_URL", value_name = "URL")]
    pub(crate) host: Option<String>,

    /// The longest a call may take, the longest silence in a progress stream before Pieces OS
    /// is asked how the operation goes, and the longest Pieces OS may then go unanswered
    /// (default 60 s); never a limit on a whole backup or restore, which is followed for as
    /// long as Pieces OS says that it runs
    #[arg(long, global = true, value_name = "SECONDS", value_parser = parse_seconds)]
    pub(crate) timeout: Option<Duration>,

    /// Print JSON instead of text (NDJSON for a stream)
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Show each call to Pieces OS on stderr: its operation, method, path, status and
    /// duration (-vv adds retries and lower-level detail)
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    #[command(flatten)]
    Api(ApiCommand),

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
    #[command(after_help = "Example:\n  pieces-backups list\n  pieces-backups list --json")]
    List,

    /// Back the local database up and print the new backup
    #[command(
        after_help = "Example:\n  pieces-backups create\n  pieces-backups create --stream\n  pieces-backups create --stream --json > progress.ndjson\n  pieces-backups create --stream --websocket"
    )]
    Create {
        /// Follow the backup's progress as it is made (a progress bar on a terminal)
        #[arg(long)]
        stream: bool,
        #[arg(long, requires = "stream", help = WEBSOCKET_HELP, long_help = WEBSOCKET_LONG_HELP)]
        websocket: bool,
    },

    /// Show one backup by its id
    #[command(
        after_help = "Example:\n  pieces-backups show 1764190800000\n  pieces-backups show 1764190800000 --json"
    )]
    Show {
        /// The id of the backup, as `list` shows it
        id: String,
    },

    /// Replace the local database with a backup's content (nothing is merged)
    ///
    /// First makes a safety backup of the local data as it is, and prints its id: restoring
    /// that one undoes the restore (--no-safety-backup skips it). Asks for confirmation first
    /// when stdin is a terminal; elsewhere, pass --yes. Ctrl-C during the restore asks Pieces
    /// OS to cancel it, which puts the original database back. A restore is followed to its
    /// real end: through a dropped connection, a silent phase or a Pieces OS restart.
    #[command(
        after_help = "Example:\n  pieces-backups restore 1764190800000\n  pieces-backups restore 1764190800000 --stream --yes\n  pieces-backups restore 1764190800000 --stream --json --yes > progress.ndjson\n  pieces-backups restore 1764190800000 --stream --websocket --yes"
    )]
    Restore {
        /// The id of the backup, as `list` shows it
        id: String,
        /// Follow the restore's progress (a progress bar on a terminal)
        #[arg(long)]
        stream: bool,
        #[arg(long, requires = "stream", help = WEBSOCKET_HELP, long_help = WEBSOCKET_LONG_HELP)]
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
        /// The id of the backup, as `list` or the first progress event shows it
        id: String,
        /// The status of its restoration rather than of its creation
        #[arg(long)]
        restore: bool,
    },

    /// Stop the creation (or, with --restore, the restoration) of a backup in progress
    #[command(
        after_help = "Example:\n  pieces-backups cancel 1764190800000\n  pieces-backups cancel 1764190800000 --restore"
    )]
    Cancel {
        /// The id of the backup, as `list` or the first progress event shows it
        id: String,
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
        /// The id of the backup, as `list` shows it
        id: String,
    },

    /// Delete all but the newest N backups (by creation time): a retention job for cron
    ///
    /// Lists what it will delete first, then asks when stdin is a terminal; elsewhere, pass
    /// --yes (or --dry-run to only list). Reports each deletion; if one fails, says which
    /// backups were deleted and which were not, and exits with that failure's status.
    #[command(
        after_help = "Example:\n  pieces-backups prune --keep-last 5 --dry-run\n  pieces-backups prune --keep-last 5\n  pieces-backups prune --keep-last 5 --yes --json   # from cron"
    )]
    Prune {
        /// How many of the newest backups to keep (at least 1)
        #[arg(long, value_name = "N", value_parser = parse_keep_last)]
        keep_last: u64,
        /// Only list what would be deleted; delete nothing
        #[arg(long)]
        dry_run: bool,
        /// Delete without asking: required when stdin is not a terminal
        #[arg(long, short)]
        yes: bool,
    },
}

const WEBSOCKET_HELP: &str =
    "With --stream: follow the progress over Pieces OS's WebSocket instead of HTTP";
const WEBSOCKET_LONG_HELP: &str = "With --stream: follow the progress over Pieces OS's WebSocket \
    instead of the streamed HTTP endpoint (the default). The display, Ctrl-C (which cancels \
    through the HTTP cancel endpoint) and the exit statuses are the same. Without --stream it is \
    a usage error (exit status 2).";

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err("the timeout must be a positive number of seconds".into());
    }
    Duration::try_from_secs_f64(seconds).map_err(|err| err.to_string())
}

fn parse_keep_last(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err(
            "keep at least 1: --keep-last 0 would delete every backup (to do that, \
             delete them one by one with `pieces-backups delete ID`)"
                .into(),
        ),
        Ok(count) => Ok(count),
        Err(_) => Err(format!(
            "{text:?} is not a count of backups: give a whole number such as 5"
        )),
    }
}
