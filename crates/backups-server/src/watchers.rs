//! The clients of the progress channel (`GET /backups/streamed/progress`) and how a snapshot
//! reaches them: each has a bounded queue of encoded snapshots, filled without waiting (the
//! jobs' lock is held) and emptied by the client's socket.
//!
//! A create of many small files can make a hundred snapshots in a few milliseconds, faster than
//! any socket is scheduled. So a full queue first coalesces: a queued snapshot that only
//! recorded progress is dropped for the new one (every later snapshot holds newer news).
//! Snapshots where an operation starts or ends are never dropped, so every client sees each
//! operation's INITIALIZED and terminal entries; a client with [`QUEUE`] of those unread is not
//! reading at all and is cut off.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use backups_models::BackupsStreamedProgress;
use bytes::Bytes;
use tokio::sync::Notify;

/// How many snapshots may wait for one client.
pub(crate) const QUEUE: usize = 64;

/// Why a snapshot was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// An operation started or ended: never coalesced away.
    Milestone,
    /// An operation progressed: superseded by any later snapshot.
    Progress,
}

/// What a client's queue yields.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// The next snapshot, as JSON text.
    Snapshot(Bytes),
    /// The client let its queue fill with snapshots that cannot be coalesced: it is cut off.
    Cut,
}

#[derive(Debug, Default)]
struct Queue {
    state: Mutex<QueueState>,
    /// Woken on every push and on the cut.
    ready: Notify,
}

#[derive(Debug, Default)]
struct QueueState {
    items: VecDeque<(Bytes, Change)>,
    cut: bool,
    /// The client's side was dropped.
    gone: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update leaves the queue consistent, so a holder that panicked harms no one.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Queue {
    /// Queues a snapshot; `false` once the client is gone or cut off.
    fn push(&self, snapshot: &Bytes, change: Change) -> bool {
        let mut state = lock(&self.state);
        if state.gone || state.cut {
            return false;
        }
        if state.items.len() >= QUEUE {
            // Any progress snapshot can go: a later one (at worst this one) holds newer news.
            match state
                .items
                .iter()
                .rposition(|(_, queued)| *queued == Change::Progress)
            {
                Some(stale) => {
                    state.items.remove(stale);
                }
                None => {
                    state.cut = true;
                    state.items.clear();
                }
            }
        }
        if !state.cut {
            state.items.push_back((snapshot.clone(), change));
        }
        let open = !state.cut;
        drop(state);
        self.ready.notify_one();
        open
    }
}

/// One client's side of the progress channel. Dropping it unsubscribes.
#[derive(Debug)]
pub(crate) struct Subscription {
    queue: Arc<Queue>,
}

impl Subscription {
    /// The next snapshot, waiting for one if none is queued.
    pub(crate) async fn next(&self) -> Next {
        loop {
            {
                let mut state = lock(&self.queue.state);
                if state.cut {
                    return Next::Cut;
                }
                if let Some((snapshot, _)) = state.items.pop_front() {
                    return Next::Snapshot(snapshot);
                }
            }
            // A push between the check and here left a permit: no wake-up is lost.
            self.queue.ready.notified().await;
        }
    }

    /// Resolves once the client is cut off (while its socket is busy writing).
    pub(crate) async fn cut(&self) {
        while !lock(&self.queue.state).cut {
            self.queue.ready.notified().await;
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        lock(&self.queue.state).gone = true;
    }
}

/// Every client of the progress channel.
#[derive(Debug, Default)]
pub(crate) struct Watchers {
    list: Vec<Arc<Queue>>,
}

impl Watchers {
    /// Whether anyone listens; forgets the clients that left or were cut off, so that building
    /// a snapshot is skipped when nobody would read it.
    pub(crate) fn wanted(&mut self) -> bool {
        self.list.retain(|queue| {
            let state = lock(&queue.state);
            !state.gone && !state.cut
        });
        !self.list.is_empty()
    }

    /// A new client, whose queue starts with `first`, the current snapshot.
    pub(crate) fn add(&mut self, first: &BackupsStreamedProgress) -> Subscription {
        let queue = Arc::new(Queue::default());
        queue.push(&encode(first), Change::Milestone);
        self.list.push(Arc::clone(&queue));
        Subscription { queue }
    }

    /// Queues `snapshot` for every client. Never waits: the caller holds the jobs' lock.
    pub(crate) fn publish(&mut self, snapshot: &BackupsStreamedProgress, change: Change) {
        if !self.wanted() {
            return;
        }
        let encoded = encode(snapshot);
        self.list.retain(|queue| queue.push(&encoded, change));
    }
}

/// One snapshot as the text of a WebSocket message, encoded once for every client.
fn encode(snapshot: &BackupsStreamedProgress) -> Bytes {
    // Serializing these models cannot fail (string keys, finite numbers).
    Bytes::from(serde_json::to_vec(snapshot).unwrap_or_else(|_| b"{}".to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready<F: std::future::Future>(future: F) -> Option<F::Output> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(future).poll(&mut cx) {
            std::task::Poll::Ready(out) => Some(out),
            std::task::Poll::Pending => None,
        }
    }

    fn snapshot(n: usize) -> BackupsStreamedProgress {
        let mut snapshot = BackupsStreamedProgress::default();
        snapshot.backups = Some(vec![Default::default(); n]);
        snapshot
    }

    #[test]
    fn a_full_queue_coalesces_progress_and_keeps_milestones() {
        let mut watchers = Watchers::default();
        let slow = watchers.add(&snapshot(0));
        for _ in 1..QUEUE {
            watchers.publish(&snapshot(1), Change::Progress);
        }
        // Full: each new snapshot, milestone or progress, drops a queued progress one.
        for n in 2..QUEUE {
            watchers.publish(&snapshot(n), Change::Milestone);
        }
        watchers.publish(&snapshot(100), Change::Progress);
        watchers.publish(&snapshot(101), Change::Progress);
        assert!(watchers.wanted());
        let mut expected: Vec<usize> = vec![0];
        expected.extend(2..QUEUE);
        expected.push(101);
        let mut seen = Vec::new();
        while let Some(Next::Snapshot(text)) = ready(slow.next()) {
            seen.push(text);
        }
        let expected: Vec<_> = expected.into_iter().map(|n| encode(&snapshot(n))).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_client_with_a_queue_full_of_milestones_is_cut_off() {
        let mut watchers = Watchers::default();
        let slow = watchers.add(&snapshot(0));
        let quick = watchers.add(&snapshot(0));
        assert!(ready(quick.next()).is_some());
        for _ in 0..QUEUE {
            watchers.publish(&snapshot(1), Change::Milestone);
            assert!(matches!(ready(quick.next()), Some(Next::Snapshot(_))));
        }
        assert_eq!(watchers.list.len(), 1, "the slow one is gone");
        assert_eq!(ready(slow.cut()), Some(()));
        assert_eq!(
            ready(slow.next()),
            Some(Next::Cut),
            "what was queued is dropped"
        );
        drop(quick);
        assert!(!watchers.wanted());
    }
}
