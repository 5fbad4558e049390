//! The subcommands that read and write backups themselves: list, create, show, delete.

use std::io::Write;

use backups_hyper::BackupsClient;
use backups_proto::BackupId;
use backups_proto::operations::{GetBackup, ListBackups};

use crate::ongoing::Ongoing;
use crate::output;
use crate::progress::{self, Channel, ProgressMode, Streamed};
use crate::spinner::Spinner;
use crate::stop::Stop;

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
