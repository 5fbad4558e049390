//! `delete ID`: deleting one backup.

use std::io::Write;

use backups_hyper::BackupsClient;

use crate::output;
use crate::stop::Stop;

/// `delete ID`.
pub(crate) async fn delete(
    client: &BackupsClient,
    id: &str,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    client.delete(id).await?;
    if json {
        writeln!(
            out,
            "{}",
            output::json_line(&serde_json::json!({ "deleted": id }))
        )
        .ok();
    } else {
        writeln!(out, "Deleted backup {id}").ok();
    }
    Ok(())
}
