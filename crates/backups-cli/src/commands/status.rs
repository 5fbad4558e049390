//! `status ID [--restore]`: what Pieces OS says of the creation or the restoration of a backup.

use std::io::Write;

use backups_hyper::BackupsClient;

use crate::ongoing::Running;
use crate::output;
use crate::stop::Stop;

/// `status ID [--restore]`: one line, or the status exactly as the server sent it.
pub(crate) async fn status(
    client: &BackupsClient,
    id: &str,
    running: Running,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let (status, raw) = running.status(client, id).await?;
    if json {
        out.write_all(&raw).and_then(|()| writeln!(out)).ok();
    } else {
        writeln!(
            out,
            "{} of backup {id}: {}",
            capitalized(running.noun()),
            output::status_line(&status)
        )
        .ok();
    }
    Ok(())
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
