//! The creates and restores of this process, for the status and cancel endpoints: the running
//! ones, and the last [`KEEP_FINISHED`] finished ones with their final status. Every change of a
//! running one is also a new snapshot for the clients of the progress channel.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use backups_models::{
    Backup, BackupStatus, BackupStreamedProgress, BackupsStreamedProgress, Number, ProgressStatus,
};
use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

use crate::control::{Canceled, Control};
use crate::progress::{self, Percent};
use crate::watchers::{Change, Subscription, Watchers};

/// How many finished operations keep answering their status; older ones answer 404.
pub(crate) const KEEP_FINISHED: usize = 1000;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Create,
    Restore,
}

/// Why a job could not start, or a cancel was refused: the text of a 500 answer.
pub(crate) type Refusal = String;

/// Every job of this process.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    inner: Mutex<Inner>,
    /// Woken each time a job ends, for shutdown to wait until none runs.
    ended: Notify,
}

#[derive(Debug, Default)]
struct Inner {
    running: HashMap<(Kind, String), Arc<Job>>,
    finished: HashMap<(Kind, String), BackupStatus>,
    /// Keys of `finished`, oldest first.
    order: VecDeque<(Kind, String)>,
    /// The start order of the next job: snapshots list operations in the order they started.
    next_seq: u64,
    /// The clients of the progress channel.
    watchers: Watchers,
    /// The server is shutting down: no job starts any more.
    closing: bool,
}

impl Inner {
    /// Every running job, plus `ending` (one that just ended, with its terminal event), in the
    /// order they started.
    fn snapshot(
        &self,
        ending: Option<(Kind, u64, BackupStreamedProgress)>,
    ) -> BackupsStreamedProgress {
        let mut entries: Vec<(Kind, u64, BackupStreamedProgress)> = self
            .running
            .values()
            .map(|job| {
                let state = lock(&job.state);
                let entry =
                    BackupStreamedProgress::new(state.value.clone(), Number::from(state.percent))
                        .with_backup(state.backup.clone());
                (job.kind, job.seq, entry)
            })
            .collect();
        entries.extend(ending);
        entries.sort_by_key(|(_, seq, _)| *seq);
        let mut snapshot = BackupsStreamedProgress::default();
        let (creates, restores): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .partition(|(kind, _, _)| *kind == Kind::Create);
        // Empty arrays rather than absent ones: "nothing runs" is an answer too.
        snapshot.backups = Some(creates.into_iter().map(|(_, _, entry)| entry).collect());
        snapshot.restorations = Some(restores.into_iter().map(|(_, _, entry)| entry).collect());
        snapshot
    }

    /// Sends the current snapshot to the progress channel's clients, if there are any.
    fn publish(&mut self, change: Change, ending: Option<(Kind, u64, BackupStreamedProgress)>) {
        if self.watchers.wanted() {
            let snapshot = self.snapshot(ending);
            self.watchers.publish(&snapshot, change);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update leaves the maps consistent, so a holder that panicked harms no one.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Jobs {
    /// Registers a running job on `backup` (for a create, the backup as far as known).
    ///
    /// One restore at a time, and no create while a restore runs: a snapshot taken while the
    /// data directory is being replaced would be of neither tree.
    pub(crate) fn start(
        self: &Arc<Self>,
        kind: Kind,
        backup: Backup,
    ) -> Result<JobHandle, Refusal> {
        let mut inner = lock(&self.inner);
        if inner.closing {
            return Err("the server is shutting down".into());
        }
        if let Some(((_, running), _)) = inner
            .running
            .iter()
            .find(|((kind, _), _)| *kind == Kind::Restore)
        {
            return Err(match kind {
                Kind::Restore => format!(
                    "a restore of backup {running} is in progress; wait for it to finish or \
                     cancel it (POST /backup/{running}/restoration/cancel)"
                ),
                Kind::Create => format!(
                    "a restore of backup {running} is in progress; create the backup once it \
                     has finished"
                ),
            });
        }
        let key = (kind, backup.id.clone());
        if inner.running.contains_key(&key) {
            return Err(format!("backup {} is already being created", backup.id));
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let job = Arc::new(Job {
            kind,
            seq,
            state: Mutex::new(State {
                backup,
                percent: 0,
                value: ProgressStatus::Initialized,
                cancel: false,
                committed: false,
            }),
            wake: Condvar::new(),
        });
        inner.running.insert(key, Arc::clone(&job));
        inner.publish(Change::Milestone, None);
        Ok(JobHandle {
            jobs: Arc::clone(self),
            job,
            finished: false,
        })
    }

    /// A new client of the progress channel: its queue starts with the current snapshot, and
    /// every change from then on follows, none missed and none twice (both happen under the
    /// same lock).
    pub(crate) fn subscribe(&self) -> Subscription {
        let mut inner = lock(&self.inner);
        let snapshot = inner.snapshot(None);
        inner.watchers.add(&snapshot)
    }

    /// A running job's progress changed: a new snapshot for the progress channel.
    fn changed(&self) {
        lock(&self.inner).publish(Change::Progress, None);
    }

    /// The status of the running or recently finished job of this kind on `id`.
    pub(crate) fn status(&self, kind: Kind, id: &str) -> Option<BackupStatus> {
        let inner = lock(&self.inner);
        let key = (kind, id.to_owned());
        if let Some(job) = inner.running.get(&key) {
            let state = lock(&job.state);
            let mut status = BackupStatus::new(state.backup.clone());
            status.percentage = Some(Number::from(state.percent));
            status.value = Some(state.value.clone());
            return Some(status);
        }
        inner.finished.get(&key).cloned()
    }

    /// Asks the running job of this kind on `id` to stop. Refused when none runs, or when it
    /// has passed its commit point (it is then about to complete).
    pub(crate) fn cancel(&self, kind: Kind, id: &str) -> Result<(), Refusal> {
        let inner = lock(&self.inner);
        let Some(job) = inner.running.get(&(kind, id.to_owned())) else {
            return Err(match kind {
                Kind::Create => "no backup is being created with that id".into(),
                Kind::Restore => "no restore of that backup is in progress".into(),
            });
        };
        let mut state = lock(&job.state);
        if state.committed {
            return Err(match kind {
                Kind::Create => "the backup is being committed and can no longer be canceled",
                Kind::Restore => "the restore is being swapped in and can no longer be canceled",
            }
            .into());
        }
        state.cancel = true;
        job.wake.notify_all();
        Ok(())
    }

    /// Shutdown: refuses every new job, and cancels every running one that has not reached its
    /// commit point (those that have are a few syncs from completing). Each stops at its next
    /// progress step, or at once when it is pausing (`progress_delay`, the silent phase).
    pub(crate) fn stop_all(&self) {
        let mut inner = lock(&self.inner);
        inner.closing = true;
        for job in inner.running.values() {
            let mut state = lock(&job.state);
            if !state.committed {
                state.cancel = true;
                job.wake.notify_all();
            }
        }
    }

    /// Resolves once no job runs: every canceled one has cleaned up and recorded its end.
    pub(crate) async fn idle(&self) {
        loop {
            let ended = self.ended.notified();
            let mut ended = std::pin::pin!(ended);
            // Registered before the check, so that an end between the two is not missed.
            ended.as_mut().enable();
            if lock(&self.inner).running.is_empty() {
                return;
            }
            ended.await;
        }
    }

    fn finish(&self, job: &Job, value: ProgressStatus, made: Option<Backup>) {
        let mut inner = lock(&self.inner);
        let status = {
            let state = lock(&job.state);
            let mut status = BackupStatus::new(made.unwrap_or_else(|| state.backup.clone()));
            let percent = if value == ProgressStatus::Completed {
                100
            } else {
                state.percent
            };
            status.percentage = Some(Number::from(percent));
            status.value = Some(value);
            status
        };
        let key = (job.kind, status.backup.id.clone());
        inner.running.remove(&key);
        // The terminal event is in one snapshot, and the operation is gone from the next.
        let mut last = BackupStreamedProgress::default().with_backup(status.backup.clone());
        last.percentage = status.percentage;
        last.status = status.value.clone();
        inner.publish(Change::Milestone, Some((job.kind, job.seq, last)));
        inner.order.retain(|old| *old != key);
        inner.order.push_back(key.clone());
        inner.finished.insert(key, status);
        while inner.order.len() > KEEP_FINISHED {
            if let Some(oldest) = inner.order.pop_front() {
                inner.finished.remove(&oldest);
            }
        }
        drop(inner);
        self.ended.notify_waiters();
    }
}

/// One running create or restore.
#[derive(Debug)]
pub(crate) struct Job {
    kind: Kind,
    /// When it started, among the jobs of this process.
    seq: u64,
    state: Mutex<State>,
    /// Notified on a cancel, so that a pause (a delay, the silent phase) ends at once.
    wake: Condvar,
}

#[derive(Debug)]
struct State {
    /// For a create, the backup as far as known: its bytes so far.
    backup: Backup,
    percent: u64,
    value: ProgressStatus,
    cancel: bool,
    /// Past the commit point: cancels are refused.
    committed: bool,
}

/// The running job, owned by the task doing the work. Finishing it, or dropping it (a task that
/// panicked), moves the job to the finished ones.
#[derive(Debug)]
pub(crate) struct JobHandle {
    jobs: Arc<Jobs>,
    job: Arc<Job>,
    finished: bool,
}

impl JobHandle {
    /// What the work reports to: progress into the job's status and, when `events` is given,
    /// IN-PROGRESS lines to a stream. Each step then pauses `pace.delay`, and the first to
    /// reach 50 % pauses `pace.silent` more.
    pub(crate) fn watch(&self, pace: Pace, events: Option<mpsc::Sender<Bytes>>) -> Watch {
        Watch {
            jobs: Arc::clone(&self.jobs),
            job: Arc::clone(&self.job),
            pace,
            percent: Percent::default(),
            events,
        }
    }

    /// The percentage reached so far.
    pub(crate) fn percent(&self) -> u64 {
        lock(&self.job.state).percent
    }

    /// Records how the job ended; `made` is the backup a create made.
    pub(crate) fn finish(mut self, value: ProgressStatus, made: Option<Backup>) {
        self.finished = true;
        self.jobs.finish(&self.job, value, made);
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        if !self.finished {
            self.jobs.finish(&self.job, ProgressStatus::Failed, None);
        }
    }
}

/// How a job is slowed down, for tests of clients (`ServerConfig::progress_delay` and
/// `ServerConfig::silent_phase`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Pace {
    /// After every progress step.
    pub(crate) delay: Duration,
    /// Once, when the progress first reaches 50 %: no event is sent meanwhile.
    pub(crate) silent: Duration,
}

/// Where the silent phase falls: about half way.
const SILENT_AT: u64 = 50;

/// The [`Control`] of a job: records progress, streams it, slows it down, and stops it once a
/// cancel was accepted.
#[derive(Debug)]
pub(crate) struct Watch {
    jobs: Arc<Jobs>,
    job: Arc<Job>,
    /// The silent phase is set to zero once it has been kept.
    pace: Pace,
    percent: Percent,
    events: Option<mpsc::Sender<Bytes>>,
}

impl Watch {
    fn canceled(&self) -> Result<(), Canceled> {
        if lock(&self.job.state).cancel {
            Err(Canceled)
        } else {
            Ok(())
        }
    }

    /// Waits `how_long`, unless a cancel (or the shutdown) comes first: a pause must never
    /// hold up a stop, whatever delay a test asked for.
    fn pause(&self, how_long: Duration) -> Result<(), Canceled> {
        if how_long.is_zero() {
            return self.canceled();
        }
        let state = lock(&self.job.state);
        let (state, _) = self
            .job
            .wake
            .wait_timeout_while(state, how_long, |state| !state.cancel)
            .unwrap_or_else(PoisonError::into_inner);
        if state.cancel { Err(Canceled) } else { Ok(()) }
    }
}

impl Control for Watch {
    fn step(&mut self, done: u64, total: u64) -> Result<(), Canceled> {
        let event = self.percent.step(done, total);
        {
            let mut state = lock(&self.job.state);
            if self.job.kind == Kind::Create {
                state.backup.bytes = Number::from(done);
            }
            if event.is_some() {
                state.percent = self.percent.last();
                state.value = ProgressStatus::InProgress;
            }
        }
        if event.is_some() {
            // After the job's own lock is released: the snapshot takes the jobs' lock first.
            self.jobs.changed();
        }
        if let (Some(event), Some(events)) = (event, &self.events) {
            // Fails only when the client left; the work goes on (only a cancel stops it).
            let _ = events.blocking_send(progress::ndjson_line(&event));
        }
        self.canceled()?;
        if !self.pace.silent.is_zero() && self.percent.last() >= SILENT_AT {
            // While the job's lock is free: its status keeps answering IN-PROGRESS.
            let silent = std::mem::take(&mut self.pace.silent);
            self.pause(silent)?;
        }
        self.pause(self.pace.delay)
    }

    fn commit(&mut self) -> Result<(), Canceled> {
        let mut state = lock(&self.job.state);
        if state.cancel {
            return Err(Canceled);
        }
        state.committed = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::NewId;
    use crate::origin::Origin;
    use crate::record::backup_record;
    use crate::watchers::Next;
    use std::future::Future;

    fn backup(n: usize) -> Backup {
        let id = NewId {
            id: format!("{:013}-0000", n),
            millis: n as u64,
        };
        backup_record(&id, &Origin::this_server(), 0)
    }

    #[test]
    fn finished_jobs_are_kept_up_to_the_bound() {
        let jobs = Arc::new(Jobs::default());
        for n in 0..KEEP_FINISHED + 5 {
            let handle = jobs.start(Kind::Create, backup(n)).expect("starts");
            handle.finish(ProgressStatus::Completed, None);
        }
        let first = backup(0).id;
        let last = backup(KEEP_FINISHED + 4).id;
        assert!(jobs.status(Kind::Create, &first).is_none(), "forgotten");
        let status = jobs.status(Kind::Create, &last).expect("kept");
        assert_eq!(status.value, Some(ProgressStatus::Completed));
        assert_eq!(status.percentage, Some(Number::from(100u32)));
        assert!(jobs.status(Kind::Restore, &last).is_none(), "kinds apart");
    }

    #[test]
    fn cancel_is_refused_after_commit_and_when_nothing_runs() {
        let jobs = Arc::new(Jobs::default());
        let b = backup(1);
        assert!(jobs.cancel(Kind::Create, &b.id).is_err());
        let handle = jobs.start(Kind::Create, b.clone()).expect("starts");
        let mut watch = handle.watch(Pace::default(), None);
        assert!(watch.step(1, 2).is_ok());
        assert!(watch.commit().is_ok());
        assert!(jobs.cancel(Kind::Create, &b.id).is_err(), "committed");
        drop(handle);
        let status = jobs.status(Kind::Create, &b.id).expect("finished");
        assert_eq!(
            status.value,
            Some(ProgressStatus::Failed),
            "a dropped job failed"
        );
        assert_eq!(status.percentage, Some(Number::from(50u32)));
    }

    #[test]
    fn a_canceled_job_stops_at_its_next_step_and_cannot_commit() {
        let jobs = Arc::new(Jobs::default());
        let b = backup(2);
        let handle = jobs.start(Kind::Restore, b.clone()).expect("starts");
        assert!(jobs.start(Kind::Restore, backup(3)).is_err(), "one restore");
        assert!(jobs.start(Kind::Create, backup(4)).is_err(), "no create");
        let mut watch = handle.watch(Pace::default(), None);
        jobs.cancel(Kind::Restore, &b.id).expect("accepted");
        assert_eq!(watch.step(1, 2), Err(Canceled));
        assert_eq!(watch.commit(), Err(Canceled));
        handle.finish(ProgressStatus::Canceled, None);
        assert!(jobs.start(Kind::Create, backup(4)).is_ok());
    }

    #[test]
    fn snapshots_follow_an_operation_from_its_start_to_its_end() {
        let jobs = Arc::new(Jobs::default());
        let sub = jobs.subscribe();
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut poll = |sub: &Subscription| match std::pin::pin!(sub.next()).poll(&mut cx) {
            std::task::Poll::Ready(Next::Snapshot(text)) => Some(text),
            _ => None,
        };
        let mut next = || -> BackupsStreamedProgress {
            let text = poll(&sub).expect("a snapshot");
            serde_json::from_slice(&text).expect("JSON")
        };
        let first = next();
        assert_eq!(first.backups, Some(vec![]));
        assert_eq!(first.restorations, Some(vec![]));

        let b = backup(5);
        let handle = jobs.start(Kind::Create, b.clone()).expect("starts");
        let started = next().backups.expect("backups");
        assert_eq!(started.len(), 1);
        assert_eq!(started[0].status, Some(ProgressStatus::Initialized));
        assert_eq!(
            started[0].backup.as_ref().map(|b| b.id.as_str()),
            Some(b.id.as_str())
        );

        let mut watch = handle.watch(Pace::default(), None);
        watch.step(1, 2).expect("step");
        let step = &next().backups.expect("backups")[0];
        assert_eq!(step.status, Some(ProgressStatus::InProgress));
        assert_eq!(step.percentage, Some(Number::from(50u32)));
        watch.step(1, 2).expect("step");
        handle.finish(ProgressStatus::Completed, None);
        let last = next();
        assert_eq!(
            last.backups.expect("backups")[0].status,
            Some(ProgressStatus::Completed)
        );

        jobs.start(Kind::Restore, backup(6))
            .expect("starts")
            .finish(ProgressStatus::Failed, None);
        let restore = next();
        assert_eq!(restore.backups, Some(vec![]), "the create has left");
        assert_eq!(
            restore.restorations.expect("restorations")[0].status,
            Some(ProgressStatus::Initialized)
        );
        let failed = next().restorations.expect("restorations");
        assert_eq!(failed[0].status, Some(ProgressStatus::Failed));
        assert!(poll(&sub).is_none(), "one snapshot per change");
    }
}
