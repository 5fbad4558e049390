//! `create`: backing the local data up, with a spinner on a terminal, or with `--stream` its
//! progress followed to the end.

use std::io::Write;

use backups_hyper::BackupsClient;

use crate::ongoing::Ongoing;
use crate::output;
use crate::progress::{self, Channel, ProgressMode, Streamed};
use crate::spinner::Spinner;
use crate::stop::Stop;

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
