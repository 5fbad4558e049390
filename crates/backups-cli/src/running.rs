//! `status` and `cancel`: what Pieces OS says of the creation or the restoration of a backup, and
//! stopping one in progress.

use std::io::Write;

use backups_hyper::BackupsClient;
use backups_models::BackupStatus;
use backups_proto::operations::{GetCreationStatus, GetRestorationStatus};
use backups_proto::{BackupId, Error};

use crate::commands::Stop;
use crate::exit::Exit;
use crate::output;

/// Which of a backup's operations is meant: the server keeps a status and a cancel for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Running {
    Creation,
    Restoration,
}

impl Running {
    /// The operation a `--restore` flag names.
    pub(crate) fn restoration_if(restore: bool) -> Self {
        if restore {
            Self::Restoration
        } else {
            Self::Creation
        }
    }

    /// "creation" or "restoration", for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::Creation => "creation",
            Self::Restoration => "restoration",
        }
    }

    /// The command that shows where the operation stands, for messages that send the user there.
    pub(crate) fn status_command(self, id: &str) -> String {
        match self {
            Self::Creation => format!("`pieces-backups status {id}`"),
            Self::Restoration => format!("`pieces-backups status {id} --restore`"),
        }
    }

    /// The status as parsed and as the server sent it.
    async fn status(
        self,
        client: &BackupsClient,
        id: &BackupId,
    ) -> Result<(BackupStatus, Vec<u8>), Error> {
        let id = id.clone();
        let (status, raw) = match self {
            Self::Creation => client.execute_raw(&GetCreationStatus { id }).await?,
            Self::Restoration => client.execute_raw(&GetRestorationStatus { id }).await?,
        };
        Ok((status, raw.to_vec()))
    }

    /// Asks the server to stop the operation.
    pub(crate) async fn cancel(self, client: &BackupsClient, id: &BackupId) -> Result<(), Error> {
        match self {
            Self::Creation => client.cancel_creation(id).await,
            Self::Restoration => client.cancel_restoration(id).await,
        }
    }
}

/// `status ID [--restore]`: one line, or the status exactly as the server sent it.
pub(crate) async fn status(
    client: &BackupsClient,
    id: &str,
    running: Running,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let id = BackupId::new(id)?;
    let (status, raw) = running.status(client, &id).await?;
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

/// `cancel ID [--restore]`.
pub(crate) async fn cancel(
    client: &BackupsClient,
    id: &str,
    running: Running,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let id = BackupId::new(id)?;
    match running.cancel(client, &id).await {
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
                    command = running.status_command(id.as_str()),
                ),
            });
        }
        Err(err) => return Err(err.into()),
    }
    if json {
        let value = serde_json::json!({ "cancelled": id.as_str(), "operation": running.noun() });
        writeln!(out, "{}", output::json_line(&value)).ok();
    } else {
        writeln!(out, "Cancelled the {} of backup {id}", running.noun()).ok();
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
