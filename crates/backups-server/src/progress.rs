//! Progress events of a create or restore, and the streaming body that carries them.

use std::pin::Pin;
use std::task::{Context, Poll};

use backups_models::{Backup, BackupStreamedProgress, Number, ProgressStatus};
use bytes::Bytes;
use http_body::{Body, Frame};
use tokio::sync::mpsc;

/// The first event: nothing copied yet. It carries the backup (for a create, as far as known),
/// so that a client can ask for its status or cancel it while it runs.
pub(crate) fn initialized(backup: Backup) -> BackupStreamedProgress {
    BackupStreamedProgress::new(ProgressStatus::Initialized, Number::from(0u32)).with_backup(backup)
}

/// The last event of a backup that was made.
pub(crate) fn completed(backup: Backup) -> BackupStreamedProgress {
    BackupStreamedProgress::new(ProgressStatus::Completed, Number::from(100u32)).with_backup(backup)
}

/// The last event of a backup that could not be made: no backup, no percentage.
pub(crate) fn failed() -> BackupStreamedProgress {
    let mut event = BackupStreamedProgress::default();
    event.status = Some(ProgressStatus::Failed);
    event
}

/// The last event of an operation canceled at `percent`: nothing of it remains.
pub(crate) fn canceled(percent: u64) -> BackupStreamedProgress {
    BackupStreamedProgress::new(ProgressStatus::Canceled, Number::from(percent))
}

/// One NDJSON line.
pub(crate) fn ndjson_line(event: &BackupStreamedProgress) -> Bytes {
    // Serializing these models cannot fail (string keys, finite numbers); an empty object
    // would still be a valid line.
    let mut line = serde_json::to_vec(event).unwrap_or_else(|_| b"{}".to_vec());
    line.push(b'\n');
    Bytes::from(line)
}

/// Turns byte counts into IN-PROGRESS events, one per whole percent gained.
#[derive(Debug, Default)]
pub(crate) struct Percent {
    last: u64,
}

impl Percent {
    /// The last percentage reported.
    pub(crate) fn last(&self) -> u64 {
        self.last
    }

    /// The event to send after `done` of `total` bytes, if the percentage rose. It stays below
    /// 100 until the operation is complete: 100 belongs to COMPLETED.
    pub(crate) fn step(&mut self, done: u64, total: u64) -> Option<BackupStreamedProgress> {
        if done == 0 || total == 0 {
            return None;
        }
        let percent = (u128::from(done) * 100 / u128::from(total)).min(99) as u64;
        (percent > self.last).then(|| {
            self.last = percent;
            BackupStreamedProgress::new(ProgressStatus::InProgress, Number::from(percent))
        })
    }
}

/// Why a progress stream ended early: it was cut on purpose after the configured number of
/// events (`ServerConfig::drop_streams_after`). As a body error it makes hyper close the
/// connection before the chunked body's end, so the client sees a broken connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("progress stream cut after the configured number of events")]
pub(crate) struct StreamCut;

/// A response body fed by a channel, so that each line is sent as soon as it is made.
#[derive(Debug)]
pub(crate) struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
    /// Lines still to send before the cut, when one is configured.
    left: Option<u32>,
    /// The cut was put off once, so that hyper writes out the last line before it.
    flushed: bool,
}

impl ChannelBody {
    /// A body that ends when every sender is dropped, or breaks after `cut_after` lines.
    pub(crate) fn new(rx: mpsc::Receiver<Bytes>, cut_after: Option<u32>) -> Self {
        Self {
            rx,
            left: cut_after,
            flushed: false,
        }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = StreamCut;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamCut>>> {
        if self.left == Some(0) {
            // hyper flushes what it holds when the body is not ready, but may drop it unsent
            // on an error: so first one round of "not ready", then the cut.
            if !std::mem::replace(&mut self.flushed, true) {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            return Poll::Ready(Some(Err(StreamCut)));
        }
        let polled = self.rx.poll_recv(cx);
        if let (Poll::Ready(Some(_)), Some(left)) = (&polled, self.left.as_mut()) {
            *left -= 1;
        }
        polled.map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rises_and_stops_below_100() {
        let mut percent = Percent::default();
        assert!(percent.step(0, 10).is_none());
        let first = percent.step(5, 10).and_then(|e| e.percentage);
        assert_eq!(first, Some(Number::from(50u32)));
        assert!(percent.step(5, 10).is_none());
        let last = percent.step(10, 10).and_then(|e| e.percentage);
        assert_eq!(last, Some(Number::from(99u32)));
        assert!(percent.step(3, 0).is_none());
    }

    #[test]
    fn lines_end_with_newline() {
        let line = ndjson_line(&canceled(7));
        assert_eq!(&line[..], b"{\"percentage\":7,\"status\":\"CANCELED\"}\n");
        assert_eq!(&ndjson_line(&failed())[..], b"{\"status\":\"FAILED\"}\n");
    }
}
