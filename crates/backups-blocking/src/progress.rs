//! The progress of a streamed create or restore ([`Progress`]) and the progress socket's
//! snapshots ([`Watch`]), as iterators.

use core::fmt;

use backups_proto::models::{Backup, BackupStreamedProgress, BackupsStreamedProgress};
use backups_proto::{
    BackupId, BodyEvents, Client as ProtoClient, Error, Operation, ProgressStream, Snapshots,
    SocketEvents,
};

use crate::body::UreqBody;
use crate::socket::Socket;
use crate::transport::UreqTransport;
use crate::wait::wait;

/// A progress stream over an HTTP body or a WebSocket.
// One per streamed call, made and moved once: boxing the body's decoder would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Stream {
    Body(ProgressStream<BodyEvents<UreqBody>>),
    Socket(ProgressStream<SocketEvents<Socket>>),
}

impl From<ProgressStream<BodyEvents<UreqBody>>> for Stream {
    fn from(stream: ProgressStream<BodyEvents<UreqBody>>) -> Self {
        Self::Body(stream)
    }
}

impl From<ProgressStream<SocketEvents<Socket>>> for Stream {
    fn from(stream: ProgressStream<SocketEvents<Socket>>) -> Self {
        Self::Socket(stream)
    }
}

/// The same code for either kind of stream.
macro_rules! either {
    ($stream:expr, $s:ident => $body:expr) => {
        match $stream {
            Stream::Body($s) => $body,
            Stream::Socket($s) => $body,
        }
    };
}

/// The progress events of a streamed create or restore, over HTTP (`create_streamed`,
/// `restore_streamed`) or a WebSocket (`create_over_websocket`, `restore_over_websocket`), as
/// an [`Iterator`] that blocks for each event.
///
/// It yields each event as it comes and ends after the final one (`COMPLETED`, `FAILED` or
/// `CANCELED`). A stream cut short, or ending before a final status, yields
/// [`Error::Truncated`] as its last item; an error always ends the iteration. The transport's
/// idle timeout bounds the wait for each event.
///
/// [`finish`](Self::finish) reads the rest and returns the finished backup;
/// [`follow`](Self::follow) does too, and follows a server that ends the stream early by polling
/// the operation's status. Dropping it stops reading (an HTTP stream's connection is dropped, a
/// socket closed); the operation goes on on the server, and is stopped with
/// [`Client::cancel_creation`](crate::Client::cancel_creation) or
/// [`cancel_restoration`](crate::Client::cancel_restoration) by [`backup_id`](Self::backup_id).
pub struct Progress {
    stream: Stream,
    client: ProtoClient<UreqTransport>,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("operation", &self.operation())
            .field("backup_id", &self.backup_id())
            .field("ended_early", &self.ended_early())
            .finish_non_exhaustive()
    }
}

impl Progress {
    pub(crate) fn new(stream: impl Into<Stream>, client: ProtoClient<UreqTransport>) -> Self {
        Self {
            stream: stream.into(),
            client,
        }
    }

    /// The streamed operation.
    pub fn operation(&self) -> Operation {
        either!(&self.stream, s => s.operation())
    }

    /// The id of the backup being created or restored, once an event has named it (the first one
    /// does, on the reference server): what the status and cancel calls take.
    pub fn backup_id(&self) -> Option<&BackupId> {
        either!(&self.stream, s => s.backup_id())
    }

    /// Whether the stream ended cleanly before a final status: the shape of a server that
    /// answers with one early event and goes on in the background ([`follow`](Self::follow)
    /// handles it).
    pub fn ended_early(&self) -> bool {
        either!(&self.stream, s => s.ended_early())
    }

    /// Reads the events still to come, calling `on_event` for each (on this thread), and
    /// returns the backup of the `COMPLETED` event; a `FAILED` or `CANCELED` event is an
    /// [`Error::Ended`].
    ///
    /// # Errors
    ///
    /// As the stream's items.
    pub fn finish(self, on_event: impl FnMut(&BackupStreamedProgress)) -> Result<Backup, Error> {
        either!(self.stream, s => wait(s.finish(on_event)))
    }

    /// [`finish`](Self::finish), and when the server ended the stream cleanly before a final
    /// status, follows the operation to its end by polling its status, reporting each change to
    /// `on_event` as an event (see [`backups_proto::Client::follow`]).
    ///
    /// # Errors
    ///
    /// As [`finish`](Self::finish); a status that stays unchanged for the idle timeout is an
    /// [`Error::Timeout`].
    pub fn follow(self, on_event: impl FnMut(&BackupStreamedProgress)) -> Result<Backup, Error> {
        either!(self.stream, s => wait(self.client.follow(s, on_event)))
    }
}

impl Iterator for Progress {
    type Item = Result<BackupStreamedProgress, Error>;

    /// The next event, blocking until it comes; `None` after the last one.
    fn next(&mut self) -> Option<Self::Item> {
        either!(&mut self.stream, s => wait(s.next_event()))
    }
}

/// The snapshots of the progress WebSocket ([`Client::watch_progress`](crate::Client::watch_progress)),
/// as an [`Iterator`] that blocks for each: every creation and restoration in progress, at once
/// and on every change.
///
/// The server never ends it by itself: stop by dropping it, which closes the socket. A message
/// that is not a snapshot, an abnormal close, or the transport's idle timeout on a silent socket
/// is an error, after which the iteration ends.
pub struct Watch {
    snapshots: Snapshots<Socket>,
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("snapshots", &self.snapshots)
            .finish_non_exhaustive()
    }
}

impl Watch {
    pub(crate) fn new(snapshots: Snapshots<Socket>) -> Self {
        Self { snapshots }
    }
}

impl Iterator for Watch {
    type Item = Result<BackupsStreamedProgress, Error>;

    /// The next snapshot, blocking until it comes; `None` after a normal close.
    fn next(&mut self) -> Option<Self::Item> {
        wait(self.snapshots.next_snapshot())
    }
}
