//! `cancel ID [--restore]`: stopping the creation or the restoration of a backup in progress.

use std::io::Write;

use backups_hyper::BackupsClient;
use backups_proto::Error;

use crate::exit::Exit;
use crate::ongoing::Running;
use crate::output;
use crate::stop::Stop;

/// `cancel ID [--restore]`.
pub(crate) async fn cancel(
    client: &BackupsClient,
    id: &str,
    running: Running,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    match running.cancel(client, id).await {
        Ok(()) => {}
        // The API documents its 500 here as "nothing in progress"; saying only "500" would
        // send the user looking for a server fault.
        Err(Error::Internal { message, .. }) => {
            return Err(Stop::Failed {
                exit: Exit::ServerError,
                message: format!(
                    "nothing to cancel: no {noun} of backup {id} is in progress (Pieces OS \
                     answered 500: {message}); see how it ended with {command}",
                    noun = running.noun(),
                    command = running.status_command(id),
                ),
            });
        }
        Err(err) => return Err(err.into()),
    }
    if json {
        let value = serde_json::json!({ "cancelled": id, "operation": running.noun() });
        writeln!(out, "{}", output::json_line(&value)).ok();
    } else {
        writeln!(out, "Cancelled the {} of backup {id}", running.noun()).ok();
    }
    Ok(())
}
