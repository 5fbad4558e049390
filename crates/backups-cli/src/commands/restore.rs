//! `restore`: replacing the local database with a backup's content, once the user agreed, after
//! a safety backup of the local data that undoes it.

use std::io::Write;
use std::pin::pin;

use backups_hyper::BackupsClient;
use backups_models::Backup;
use backups_proto::operations::Restore;
use backups_proto::{BackupId, IntoBackupId};

use crate::ask;
use crate::exit::Exit;
use crate::interrupt::{self, until_ctrl_c};
use crate::ongoing::{Ongoing, Running};
use crate::output;
use crate::progress::{self, Channel, ProgressMode, Streamed};
use crate::spinner::Spinner;
use crate::stop::Stop;

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

/// Whether the local data is backed up before the restore replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Make a safety backup first (the default): restoring it undoes the restore.
    Backup,
    /// `--no-safety-backup`.
    Skip,
}

impl Safety {
    /// What a `--no-safety-backup` flag asks for.
    pub(crate) fn skipped_if(skip: bool) -> Self {
        if skip { Self::Skip } else { Self::Backup }
    }
}

/// `restore ID [--stream [--websocket]] [--no-safety-backup]`: `stream` is how to show the
/// progress and where it comes from, `None` without `--stream`.
pub(crate) async fn restore(
    client: &BackupsClient,
    id: &str,
    consent: Consent,
    safety: Safety,
    stream: Option<(ProgressMode, Channel)>,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    // Checked once, before anything is asked or made.
    let id = id.into_backup_id()?;
    match consent {
        Consent::Ask => confirm(client, &id, safety).await?,
        // An unknown id is found before a safety backup is made for nothing.
        Consent::Given if safety == Safety::Backup => drop(client.get(&id).await?),
        Consent::Given => {}
    }
    let ndjson = matches!(stream, Some((ProgressMode::Json, _)));
    let safety = match safety {
        Safety::Backup => Some(safety_backup(client, json).await?),
        Safety::Skip => None,
    };
    if let Some(safety) = &safety {
        if ndjson {
            let line = serde_json::json!({ "safety_backup": safety });
            writeln!(out, "{}", output::json_line(&line)).ok();
        } else if !json {
            writeln!(
                out,
                "Safety backup {} of the local data made first; to undo the restore: \
                 pieces-backups restore {}",
                output::summary(safety),
                safety.id
            )
            .ok();
        }
        out.flush().ok();
    }
    let restoring = async {
        match stream {
            Some((mode, channel)) => {
                progress::follow(client, Streamed::Restore(&id), channel, mode, out).await
            }
            None => plain(client, &id, json).await,
        }
    };
    let restored = match (restoring.await, &safety) {
        (Ok(restored), _) => restored,
        (Err(stop), Some(safety)) => return Err(stop.with_safety(&safety.id)),
        (Err(stop), None) => return Err(stop),
    };
    if ndjson {
        return Ok(());
    }
    if json {
        let value = serde_json::json!({ "restored": restored, "safety_backup": safety });
        writeln!(out, "{}", output::json_line(&value)).ok();
    } else {
        writeln!(out, "Restored backup {}", output::summary(&restored)).ok();
        if let Some(safety) = &safety {
            writeln!(out, "To undo: pieces-backups restore {}", safety.id).ok();
        }
    }
    Ok(())
}

/// A plain restore, with a spinner on a terminal that shows the status polled alongside; Ctrl-C
/// cancels it on the server.
async fn plain(client: &BackupsClient, id: &BackupId, json: bool) -> Result<Backup, Stop> {
    let spinner = Spinner::start("Restoring…", json);
    let operation = Restore::new(id.clone());
    let mut run = pin!(client.restore_watched(operation, |event| spinner.show(event)));
    let ended = until_ctrl_c(run.as_mut()).await;
    spinner.finish();
    match ended {
        Some(result) => result.map_err(|err| Stop::during(err, Ongoing::restoration(id, None))),
        // No event says that the cancel took effect: the status, asked afterwards, does.
        None => {
            Err(interrupt::cancel(client, Running::Restoration, id.as_str(), run, |_| false).await)
        }
    }
}

/// Backs the local data up before anything is replaced. A failure stops the restore: the data
/// is unchanged, and there would be nothing to undo it with.
async fn safety_backup(client: &BackupsClient, json: bool) -> Result<Backup, Stop> {
    let spinner = Spinner::start("Backing the local data up first (safety backup)…", json);
    let made = until_ctrl_c(client.create()).await;
    spinner.finish();
    match made {
        Some(Ok(safety)) => Ok(safety),
        Some(Err(err)) => Err(Stop::Failed {
            exit: Exit::for_error(&err),
            message: format!(
                "the safety backup of the local data failed, so nothing was restored and the \
                 local data is unchanged: {err} (to restore without one: --no-safety-backup)"
            ),
        }),
        None => Err(Stop::Interrupted(
            "nothing was restored; the safety backup was being made and may still appear in \
             `pieces-backups list`"
                .into(),
        )),
    }
}

/// Asks on the terminal, naming the backup, before its content replaces the local data.
async fn confirm(client: &BackupsClient, id: &BackupId, safety: Safety) -> Result<(), Stop> {
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
    let first = match safety {
        Safety::Backup => "A safety backup of the local data is made first, to undo it with.",
        Safety::Skip => "No safety backup is made (--no-safety-backup): it cannot be undone.",
    };
    ask::yes_or_stop(
        &format!(
            "Restore backup {}? Everything local will be replaced by its content. {first}",
            output::summary(&backup)
        ),
        format!("backup {id} not restored; the local data is unchanged (answer y to restore)"),
    )
}
