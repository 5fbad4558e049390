//! A create or restore that has started: which one, of which backup, and what a failure after
//! its start must tell the user (the backup's id, and the command that shows how it ended),
//! since Pieces OS may still be working on it.

use backups_hyper::BackupsClient;
use backups_models::{BackupStatus, ProgressStatus};
use backups_proto::operations::{CreationStatus, RestorationStatus};
use backups_proto::{BackupId, Error, ErrorKind, IntoBackupId, TimeoutKind};

use crate::exit::Exit;

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
    pub(crate) async fn status(
        self,
        client: &BackupsClient,
        id: impl IntoBackupId,
    ) -> Result<(BackupStatus, Vec<u8>), Error> {
        let id = id.into_backup_id()?;
        let (status, raw) = match self {
            Self::Creation => client.execute_raw(&CreationStatus { id }).await?,
            Self::Restoration => client.execute_raw(&RestorationStatus { id }).await?,
        };
        Ok((status, raw.to_vec()))
    }

    /// Asks the server to stop the operation.
    pub(crate) async fn cancel(
        self,
        client: &BackupsClient,
        id: impl IntoBackupId,
    ) -> Result<(), Error> {
        match self {
            Self::Creation => client.cancel_creation(id).await,
            Self::Restoration => client.cancel_restoration(id).await,
        }
    }
}

/// A create or restore that was started, for the message of a failure that ends it.
#[derive(Debug, Clone)]
pub(crate) struct Ongoing {
    /// Which operation.
    pub(crate) running: Running,
    /// Its backup, once known: a restore's from the start, a create's from its first event.
    pub(crate) id: Option<String>,
    /// The safety backup made before a restore, which undoes it.
    pub(crate) safety: Option<String>,
}

impl Ongoing {
    /// The creation of a backup whose id is not known yet.
    pub(crate) fn creation() -> Self {
        Self {
            running: Running::Creation,
            id: None,
            safety: None,
        }
    }

    /// The restoration of backup `id`, after the safety backup `safety` if one was made.
    pub(crate) fn restoration(id: &BackupId, safety: Option<&str>) -> Self {
        Self {
            running: Running::Restoration,
            id: Some(id.as_str().to_owned()),
            safety: safety.map(str::to_owned),
        }
    }

    /// The exit status and the message for `error`, which ended the operation: what happened,
    /// and what the user can check, so that nobody is left guessing whether it still runs.
    pub(crate) fn failure(&self, error: &Error) -> (Exit, String) {
        let exit = Exit::for_error(error);
        let noun = self.running.noun();
        let mut message = match (error.kind(), &self.id) {
            (ErrorKind::OutcomeUnknown, Some(id)) => format!(
                "Pieces OS restarted during the {noun} of backup {id} and no longer knows of it, \
                 so whether the {noun} finished cannot be told ({error}). Check your data, \
                 {command} (\"no such backup\" there confirms the restart) and \
                 `pieces-backups list`",
                command = self.running.status_command(id),
            ),
            // Not by this command's Ctrl-C (that is `Stop::Interrupted`): by another client, or
            // by Pieces OS as it shut down.
            (ErrorKind::Ended, _)
                if self.running == Running::Restoration
                    && matches!(
                        error,
                        Error::Ended {
                            status: ProgressStatus::Canceled,
                            ..
                        }
                    ) =>
            {
                format!(
                    "the {noun} was cancelled on Pieces OS (by another client, or as Pieces OS \
                     stopped), which puts the original data back ({error})"
                )
            }
            (ErrorKind::Timeout(TimeoutKind::Unanswered), _) => {
                format!("Pieces OS stopped answering during the {noun} ({error})")
            }
            (ErrorKind::Transport(_), _) if !error.is_connect() => {
                format!("lost the connection to Pieces OS during the {noun}: {error}")
            }
            _ => error.to_string(),
        };
        if !started_nothing(error) && error.kind() != ErrorKind::OutcomeUnknown {
            match &self.id {
                Some(id) => message.push_str(&format!(
                    "; see how the {noun} of backup {id} ended with {}",
                    self.running.status_command(id)
                )),
                None => message.push_str(&format!(
                    "; the {noun} may still be running on Pieces OS: look for it with \
                     `pieces-backups watch` or `pieces-backups list`"
                )),
            }
        }
        if let Some(safety) = &self.safety {
            message.push_str(&format!(
                "; the local data as it was before the restore is in the safety backup \
                 {safety} (to undo: `pieces-backups restore {safety}`)"
            ));
        }
        (exit, message)
    }
}

/// Whether `error` says that the operation never ran: the request was never sent, or Pieces OS
/// refused it (no such backup, sign in, too old), so there is nothing to look for.
fn started_nothing(error: &Error) -> bool {
    error.is_connect()
        || matches!(
            error.kind(),
            ErrorKind::NotFound
                | ErrorKind::InvalidRequest
                | ErrorKind::Unauthenticated
                | ErrorKind::OsOutdated
        )
}
