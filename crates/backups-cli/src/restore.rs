//! `restore`: replacing the local database with a backup's content, once the user agreed.

use std::io::Write;
use std::pin::pin;

use backups_hyper::BackupsClient;
use backups_proto::BackupId;

use crate::ask;
use crate::commands::Stop;
use crate::exit::Exit;
use crate::interrupt::{self, until_ctrl_c};
use crate::output;
use crate::progress::{self, Channel, ProgressMode, Streamed};
use crate::running::Running;

/// Whether the user agreed to replace the local data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Consent {
    /// `--yes`, or a caller that needs none (the demo, on its own temporary data).
    Given,
    /// Ask on the terminal; refuse where there is none to ask on.
    Ask,
}

impl Consent {
    pub(crate) fn from_yes(yes: bool) -> Self {
        if yes { Self::Given } else { Self::Ask }
    }
}

/// `restore ID [--stream [--websocket]]`: `stream` is how to show the progress and where it
/// comes from, `None` without `--stream`.
pub(crate) async fn restore(
    client: &BackupsClient,
    id: &str,
    consent: Consent,
    stream: Option<(ProgressMode, Channel)>,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let id = BackupId::new(id)?;
    if consent == Consent::Ask {
        confirm(client, &id).await?;
    }
    let backup = match stream {
        Some((mode, channel)) => {
            let streamed = Streamed::Restore(&id);
            let backup = progress::follow(client, streamed, channel, mode, out).await?;
            if mode == ProgressMode::Json {
                return Ok(());
            }
            backup
        }
        None => {
            let mut run = pin!(client.restore(&id));
            match until_ctrl_c(run.as_mut()).await {
                Some(result) => result?,
                None => {
                    // Without events, any failure of the call after an accepted cancel is
                    // taken as the cancel's doing.
                    let stop =
                        interrupt::cancel(client, Running::Restoration, id.as_str(), run, |_| true)
                            .await;
                    return Err(stop);
                }
            }
        }
    };
    if json {
        writeln!(out, "{}", output::json_line(&backup)).ok();
    } else {
        writeln!(out, "Restored backup {}", output::summary(&backup)).ok();
    }
    Ok(())
}

/// Asks on the terminal, naming the backup, before its content replaces the local data.
async fn confirm(client: &BackupsClient, id: &BackupId) -> Result<(), Stop> {
    if !ask::can_ask() {
        return Err(Stop::Failed {
            exit: Exit::Usage,
            message: format!(
                "not restoring backup {id}: a restore replaces the local data, and stdin is not \
                 a terminal to ask on; pass --yes to restore without asking"
            ),
        });
    }
    // Reading it first checks the id before asking, and shows what is about to come back.
    let backup = client.get(id).await?;
    ask::yes_or_stop(
        &format!(
            "Restore backup {}? Everything local will be replaced by its content.",
            output::summary(&backup)
        ),
        format!("backup {id} not restored; the local data is unchanged (answer y to restore)"),
    )
}
