//! What the command line shares below its commands: the global options, the exit statuses
//! `--help` lists, and the parsers of option values.

use std::time::Duration;

use clap::Args;

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
  CLICOLOR=0      no colour either; CLICOLOR_FORCE (set, not empty): colour even in a pipe

Examples:
  pieces-backups list
  pieces-backups create --stream
  pieces-backups prune --keep-last 5 --yes        # from cron: keep the newest 5
  pieces-backups -v list                          # each call to Pieces OS on stderr
  pieces-backups completions bash > ~/.local/share/bash-completion/completions/pieces-backups
  pieces-backups man | man -l -";

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

pub(crate) const WEBSOCKET_HELP: &str =
    "With --stream: follow the progress over Pieces OS's WebSocket instead of HTTP";
pub(crate) const WEBSOCKET_LONG_HELP: &str = "With --stream: follow the progress over Pieces OS's WebSocket \
    instead of the streamed HTTP endpoint (the default). The display, Ctrl-C (which cancels \
    through the HTTP cancel endpoint) and the exit statuses are the same. Without --stream it is \
    a usage error (exit status 2).";

pub(crate) fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err("the timeout must be a positive number of seconds".into());
    }
    Duration::try_from_secs_f64(seconds).map_err(|err| err.to_string())
}
