//! Ctrl-C during a create or restore: stop waiting, and ask Pieces OS to cancel the operation
//! rather than leave it running unseen.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use backups_hyper::BackupsClient;
use backups_models::{Backup, ProgressStatus};
use backups_proto::Error;

use crate::ongoing::Running;
use crate::stop::Stop;

/// How long the operation may go on after its cancel was accepted, before the command stops
/// waiting for its end and leaves the user a status command to check.
const SETTLE: Duration = Duration::from_secs(10);

/// `None` when Ctrl-C comes first. A failure to listen for Ctrl-C leaves `future` alone, as
/// the default handling of the signal still ends the process.
pub(crate) async fn until_ctrl_c<F: Future>(future: F) -> Option<F::Output> {
    tokio::select! {
        // Polled first: `ctrl_c` installs its handler on its first poll, which must come before
        // `future` prints the first event, or a Ctrl-C right after it would kill the process
        // instead of cancelling.
        biased;
        Ok(()) = tokio::signal::ctrl_c() => None,
        output = future => Some(output),
    }
}

/// After Ctrl-C: asks the server to cancel `running` of backup `id`, then waits (briefly) for
/// `run`, the interrupted call, to end; `was_cancel` tells whether its failure is the cancel
/// taking effect. Says on stderr that it is cancelling, and returns the outcome to report.
///
/// `run` is still open: a server that stops on a closed connection must not turn the cancel
/// into a "nothing in progress" failure, and the call's own end says whether it stopped.
pub(crate) async fn cancel<F>(
    client: &BackupsClient,
    running: Running,
    id: &str,
    run: Pin<&mut F>,
    was_cancel: impl FnOnce(&Error) -> bool,
) -> Stop
where
    F: Future<Output = Result<Backup, Error>>,
{
    let noun = running.noun();
    let check = running.status_command(id);
    eprintln!("pieces-backups: cancelling backup {id}…");
    match until_ctrl_c(running.cancel(client, id)).await {
        Some(Ok(())) => {}
        Some(Err(err)) => {
            return Stop::Interrupted(format!(
                "could not cancel the {noun} of backup {id}: {err}; check where it stands with \
                 {check}"
            ));
        }
        None => {
            return Stop::Interrupted(format!(
                "stopped waiting for the cancel of backup {id}; check where it stands with {check}"
            ));
        }
    }
    let message = match tokio::time::timeout(SETTLE, until_ctrl_c(run)).await {
        Ok(Some(Ok(_))) => {
            format!("the {noun} of backup {id} finished before the cancel took effect")
        }
        Ok(Some(Err(err))) if was_cancel(&err) => format!("cancelled the {noun} of backup {id}"),
        // The call's end does not say: the status does. "Cancelled" only when the server says
        // CANCELED, as a failure for any other reason is no cancel.
        _ => match settled(client, running, id).await {
            Some(ProgressStatus::Canceled) => format!("cancelled the {noun} of backup {id}"),
            Some(ProgressStatus::Completed) => {
                format!("the {noun} of backup {id} finished before the cancel took effect")
            }
            _ => format!(
                "asked Pieces OS to cancel the {noun} of backup {id}; check that it stopped \
                 with {check}"
            ),
        },
    };
    Stop::Interrupted(message)
}

/// The operation's status as Pieces OS reports it now, if it answers in time.
async fn settled(client: &BackupsClient, running: Running, id: &str) -> Option<ProgressStatus> {
    let asked = tokio::time::timeout(SETTLE, until_ctrl_c(running.status(client, id))).await;
    match asked {
        Ok(Some(Ok((status, _)))) => status.value,
        _ => None,
    }
}
