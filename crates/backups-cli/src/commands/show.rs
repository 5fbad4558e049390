//! `show ID`: one backup, as `list` shows it or exactly as the server sent it.

use std::io::Write;

use backups_hyper::BackupsClient;
use backups_proto::IntoBackupId;
use backups_proto::operations::Get;

use crate::output;
use crate::stop::Stop;

/// `show ID`: the one-row table of `list`, or the backup exactly as the server sent it.
pub(crate) async fn show(
    client: &BackupsClient,
    id: &str,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let id = id.into_backup_id()?;
    let (backup, raw) = client.execute_raw(&Get { id }).await?;
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
