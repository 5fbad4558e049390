//! The subcommands that read and write backups themselves: list, create, show, delete.

use std::io::Write;

use backups_hyper::BackupsClient;
use backups_proto::operations::{GetBackup, ListBackups};
use backups_proto::{BackupId, Error};

use crate::exit::Exit;
use crate::ongoing::Ongoing;
use crate::output;
use crate::progress::{self, Channel, ProgressMode, Streamed};
use crate::spinner::Spinner;

/// What ended a command early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The SDK reported an error.
    Api(Error),
    /// The SDK reported an error that ended a create or restore after it started: the message
    /// names the backup and how to see how it ended.
    /// (Boxed: the other stops are small.)
    During(Box<(Error, Ongoing)>),
    /// The user pressed Ctrl-C; says what became of the operation on the server.
    Interrupted(String),
    /// Something on this machine failed (the demo's temporary files or server).
    Local(String),
    /// A failure with its own exit status and a message that says what to do.
    Failed { exit: Exit, message: String },
}

impl From<Error> for Stop {
    fn from(err: Error) -> Self {
        Self::Api(err)
    }
}

impl Stop {
    /// `error`, which ended `ongoing`.
    pub(crate) fn during(error: Error, ongoing: Ongoing) -> Self {
        Self::During(Box::new((error, ongoing)))
    }

    /// The same stop, saying that `safety` holds the local data from before the restore.
    pub(crate) fn with_safety(self, safety: &str) -> Self {
        match self {
            Self::During(mut during) => {
                during.1.safety = Some(safety.to_owned());
                Self::During(during)
            }
            other => other,
        }
    }
}

/// `list`: a table, or the listing exactly as the server sent it.
pub(crate) async fn list(
    client: &BackupsClient,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let (backups, raw) = client.execute_raw(&ListBackups).await?;
    if json {
        out.write_all(&raw).and_then(|()| writeln!(out)).ok();
    } else {
        write!(
            out,
            "{}",
            output::table_with(&backups, output::Look::for_stdout())
        )
        .ok();
    }
    Ok(())
}

/// `create` without `--stream`: a spinner on a terminal while it runs, as it prints nothing until
/// the backup is made.
pub(crate) async fn create(
    client: &BackupsClient,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let spinner = Spinner::start("Backing the local data up…", json);
    let made = client.create().await;
    spinner.finish();
    let backup = made.map_err(|err| Stop::during(err, Ongoing::creation()))?;
    if json {
        writeln!(out, "{}", output::json_line(&backup)).ok();
    } else {
        writeln!(out, "Created backup {}", output::summary(&backup)).ok();
    }
    Ok(())
}

/// `create --stream [--websocket]`: follows the progress until the backup is done, failed, or
/// Ctrl-C (which cancels it).
pub(crate) async fn create_streamed(
    client: &BackupsClient,
    channel: Channel,
    mode: ProgressMode,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let backup = progress::follow(client, Streamed::Create, channel, mode, out).await?;
    if mode != ProgressMode::Json {
        writeln!(out, "Created backup {}", output::summary(&backup)).ok();
    }
    Ok(())
}

/// `show ID`: the one-row table of `list`, or the backup exactly as the server sent it.
pub(crate) async fn show(
    client: &BackupsClient,
    id: &str,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let id = BackupId::new(id)?;
    let (backup, raw) = client.execute_raw(&GetBackup { id }).await?;
    if json {
        out.write_all(&raw).and_then(|()| writeln!(out)).ok();
    } else {
        write!(
            out,
            "{}",
            output::table_with([&backup], output::Look::for_stdout())
        )
        .ok();
    }
    Ok(())
}

/// `delete ID`.
pub(crate) async fn delete(
    client: &BackupsClient,
    id: &str,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let id = BackupId::new(id)?;
    client.delete(&id).await?;
    if json {
        writeln!(
            out,
            "{}",
            output::json_line(&serde_json::json!({ "deleted": id.as_str() }))
        )
        .ok();
    } else {
        writeln!(out, "Deleted backup {id}").ok();
    }
    Ok(())
}
