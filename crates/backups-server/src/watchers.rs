//! The clients of the progress channel (`GET /backups/streamed/progress`) and how a snapshot
//! reaches them: each has a bounded queue of encoded snapshots, and one that lets its queue fill
//! up is cut off rather than buffered for without end.

use std::sync::Arc;

use backups_models::BackupsStreamedProgress;
use bytes::Bytes;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Notify, mpsc};

/// How many snapshots may wait for one client. A reader this far behind is not reading at all
/// (snapshots come at most once per percent of each operation), so it is cut off.
pub(crate) const QUEUE: usize = 64;

/// One client's side of the progress channel.
#[derive(Debug)]
pub(crate) struct Subscription {
    /// The encoded snapshots, the current one first.
    pub(crate) snapshots: mpsc::Receiver<Bytes>,
    /// Notified once when the client was cut off for letting its queue fill up.
    pub(crate) cut: Arc<Notify>,
}

#[derive(Debug)]
struct Subscriber {
    tx: mpsc::Sender<Bytes>,
    cut: Arc<Notify>,
}

/// Every client of the progress channel.
#[derive(Debug, Default)]
pub(crate) struct Watchers {
    list: Vec<Subscriber>,
}

impl Watchers {
    /// Whether anyone listens; forgets the clients that left, so that building a snapshot is
    /// skipped when nobody would read it.
    pub(crate) fn wanted(&mut self) -> bool {
        self.list.retain(|subscriber| !subscriber.tx.is_closed());
        !self.list.is_empty()
    }

    /// A new client, whose queue starts with `first`, the current snapshot.
    pub(crate) fn add(&mut self, first: &BackupsStreamedProgress) -> Subscription {
        let (tx, snapshots) = mpsc::channel(QUEUE);
        // The queue is empty: this cannot fail.
        let _ = tx.try_send(encode(first));
        let cut = Arc::new(Notify::new());
        self.list.push(Subscriber {
            tx,
            cut: Arc::clone(&cut),
        });
        Subscription { snapshots, cut }
    }

    /// Queues `snapshot` for every client. Never waits: the caller holds the jobs' lock, and a
    /// client whose queue is full is dropped and told so through its `cut`.
    pub(crate) fn publish(&mut self, snapshot: &BackupsStreamedProgress) {
        if !self.wanted() {
            return;
        }
        let encoded = encode(snapshot);
        self.list
            .retain(|subscriber| match subscriber.tx.try_send(encoded.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    subscriber.cut.notify_one();
                    false
                }
                Err(TrySendError::Closed(_)) => false,
            });
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

    #[test]
    fn a_client_that_does_not_read_is_cut_off() {
        let mut watchers = Watchers::default();
        let mut slow = watchers.add(&BackupsStreamedProgress::default());
        let mut quick = watchers.add(&BackupsStreamedProgress::default());
        for _ in 0..QUEUE {
            watchers.publish(&BackupsStreamedProgress::default());
            assert!(quick.snapshots.try_recv().is_ok());
        }
        assert!(watchers.wanted());
        assert_eq!(watchers.list.len(), 1, "the slow one is gone");
        // The cut is remembered until the socket looks.
        assert!(ready(std::pin::pin!(slow.cut.notified())));
        assert!(slow.snapshots.try_recv().is_ok(), "what was queued stays");
        drop(quick);
        assert!(!watchers.wanted());
    }

    fn ready(future: std::pin::Pin<&mut impl std::future::Future>) -> bool {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        future.poll(&mut cx).is_ready()
    }
}
