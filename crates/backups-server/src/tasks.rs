//! Creates and restores run as background tasks: a client that leaves (a dropped connection, a
//! closed stream) does not stop them; only the cancel endpoints do.

use std::sync::Arc;

use backups_models::{Backup, BackupStreamedProgress, ProgressStatus};
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::StoreError;
use crate::control::Control;
use crate::jobs::{JobHandle, Kind, Refusal};
use crate::progress;
use crate::record::backup_record;
use crate::state::AppState;
use crate::swap;

/// How a create or restore ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The backup made, or the backup restored (boxed: the other outcomes are small).
    Done(Box<Backup>),
    /// Why it failed.
    Failed(String),
    /// A cancel stopped it before its commit point, at this percentage; nothing of it remains.
    Canceled(u64),
}

/// A create or restore running in the background.
#[derive(Debug)]
pub(crate) struct Started {
    /// Resolves to the outcome once the work (and its job record) is finished.
    pub(crate) done: JoinHandle<Outcome>,
    /// The NDJSON lines of its progress, when asked for: the first (INITIALIZED, with the
    /// backup) is already queued.
    pub(crate) events: Option<mpsc::Receiver<Bytes>>,
}

impl Started {
    /// Waits for the outcome.
    pub(crate) async fn outcome(self) -> Outcome {
        self.done
            .await
            .unwrap_or_else(|err| Outcome::Failed(format!("the task failed: {err}")))
    }
}

/// An event stream, when `streamed`, with the INITIALIZED event queued.
fn channel(
    streamed: bool,
    backup: &Backup,
) -> (Option<mpsc::Sender<Bytes>>, Option<mpsc::Receiver<Bytes>>) {
    if !streamed {
        return (None, None);
    }
    // Events are few (at most one per percent), so a small buffer never holds the work back.
    let (tx, rx) = mpsc::channel(128);
    // The buffer is empty: this cannot fail.
    let _ = tx.try_send(progress::ndjson_line(&progress::initialized(
        backup.clone(),
    )));
    (Some(tx), Some(rx))
}

/// Ends a job: records the outcome, sends the last event, and hands the outcome on.
async fn conclude(
    handle: JobHandle,
    outcome: Outcome,
    made: bool,
    events: Option<mpsc::Sender<Bytes>>,
) -> Outcome {
    let outcome = match outcome {
        Outcome::Canceled(_) => Outcome::Canceled(handle.percent()),
        other => other,
    };
    let last: BackupStreamedProgress = match &outcome {
        Outcome::Done(backup) => progress::completed((**backup).clone()),
        Outcome::Failed(_) => progress::failed(),
        Outcome::Canceled(percent) => progress::canceled(*percent),
    };
    match &outcome {
        Outcome::Done(backup) => {
            handle.finish(ProgressStatus::Completed, made.then(|| (**backup).clone()));
        }
        Outcome::Failed(_) => handle.finish(ProgressStatus::Failed, None),
        Outcome::Canceled(_) => handle.finish(ProgressStatus::Canceled, None),
    }
    if let Some(events) = events {
        // Fails only when the client left.
        let _ = events.send(progress::ndjson_line(&last)).await;
    }
    outcome
}

fn outcome_of(result: Result<Backup, StoreError>) -> Outcome {
    match result {
        Ok(backup) => Outcome::Done(Box::new(backup)),
        Err(StoreError::Canceled) => Outcome::Canceled(0),
        Err(err) => Outcome::Failed(err.to_string()),
    }
}

/// Starts a create of the data directory; refused while a restore runs.
pub(crate) fn start_create(state: &Arc<AppState>, streamed: bool) -> Result<Started, Refusal> {
    let new_id = state.store.next_id();
    let provisional = backup_record(&new_id, &state.origin, 0);
    let handle = state.jobs.start(Kind::Create, provisional.clone())?;
    let (tx, rx) = channel(streamed, &provisional);
    let state = Arc::clone(state);
    let done = tokio::spawn(async move {
        let shared = state.store.share().await;
        let data = Arc::clone(&state.data_gate).read_owned().await;
        let mut watch = handle.watch(state.pace, tx.clone());
        let worker = Arc::clone(&state);
        let joined = tokio::task::spawn_blocking(move || {
            worker.store.create(
                &shared,
                &new_id,
                &worker.data_dir,
                &worker.origin,
                &mut watch,
            )
        })
        .await;
        drop(data);
        let outcome = match joined {
            Ok(result) => outcome_of(result),
            Err(err) => Outcome::Failed(format!("the backup task failed: {err}")),
        };
        conclude(handle, outcome, true, tx).await
    });
    Ok(Started { done, events: rx })
}

/// Starts a restore of `backup` into the data directory; refused while another restore runs.
pub(crate) fn start_restore(
    state: &Arc<AppState>,
    backup: Backup,
    streamed: bool,
) -> Result<Started, Refusal> {
    let handle = state.jobs.start(Kind::Restore, backup.clone())?;
    let (tx, rx) = channel(streamed, &backup);
    let state = Arc::clone(state);
    let done = tokio::spawn(async move {
        let outcome = restore(&state, &handle, backup, tx.clone()).await;
        conclude(handle, outcome, false, tx).await
    });
    Ok(Started { done, events: rx })
}

async fn restore(
    state: &Arc<AppState>,
    handle: &JobHandle,
    backup: Backup,
    events: Option<mpsc::Sender<Bytes>>,
) -> Outcome {
    // Held shared throughout, so that no delete collects the objects being read.
    let _shared = state.store.share().await;
    let mut watch = handle.watch(state.pace, events);
    let worker = Arc::clone(state);
    let id = backup.id.clone();
    let staged = tokio::task::spawn_blocking(move || {
        let staged = worker.store.manifest(&id).and_then(|manifest| {
            swap::stage(worker.store.root(), &manifest, &worker.data_dir, &mut watch)
        });
        (staged, watch)
    })
    .await;
    let (staged, mut watch) = match staged {
        Ok((Ok(staged), watch)) => (staged, watch),
        Ok((Err(err), _)) => return outcome_of(Err(err)),
        Err(err) => return Outcome::Failed(format!("the restore task failed: {err}")),
    };
    // Creates in flight finish before the data directory changes under them.
    let _data = Arc::clone(&state.data_gate).write_owned().await;
    let committed = watch.commit();
    let joined = tokio::task::spawn_blocking(move || match committed {
        Ok(()) => staged.swap_in().map(|_summary| ()),
        Err(canceled) => staged.abandon().and(Err(canceled.into())),
    })
    .await;
    match joined {
        Ok(result) => outcome_of(result.map(|()| backup)),
        Err(err) => Outcome::Failed(format!("the restore task failed: {err}")),
    }
}
