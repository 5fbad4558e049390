//! Progress events of a create or restore, and the streaming body that carries them.

use std::convert::Infallible;
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

/// A response body fed by a channel, so that each line is sent as soon as it is made.
#[derive(Debug)]
pub(crate) struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl ChannelBody {
    /// A body that ends when every sender is dropped.
    pub(crate) fn new(rx: mpsc::Receiver<Bytes>) -> Self {
        Self { rx }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
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
