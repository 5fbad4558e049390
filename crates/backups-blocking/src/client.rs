//! [`Client`], the blocking client, and its [`ClientBuilder`].

use bytes::Bytes;

use backups_proto::models::{Backup, BackupStreamedProgress, SeededBackup};
use backups_proto::operations::{AnyOperation, AnyOutput, ApiOperation, ChannelOperation};
use backups_proto::{
    Client as ProtoClient, Endpoint, Error, IntoBackupId, Limits, Operation, Polling, SafeRestore,
};

use crate::progress::{Progress, Watch};
use crate::transport::UreqTransport;
use crate::wait::wait;

/// A blocking Backups API client: every operation of the async
/// [`backups_proto::Client`] as a plain call, progress as iterators.
///
/// It sends through an [`UreqTransport`] (ureq and tungstenite on the calling thread). Cloning is
/// cheap and shares the connection pool. It can be used from many threads at once, and from any
/// thread: a plain `fn main`, a `spawn_blocking` closure, a thread inside an async runtime. On an
/// async runtime's own worker it works too, but blocks that worker as any blocking IO does.
///
/// ```no_run
/// // Find the running Pieces OS (port file, then ports 39300 to 39333, then 1000 and 5323).
/// let client = backups_blocking::Client::discover()?;
/// for backup in client.list()?.iter() {
///     println!("{} {}", backup.id, backup.device_name);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: ProtoClient<UreqTransport>,
}

impl Client {
    /// A blocking client over an async client of this SDK with the [`UreqTransport`] (for
    /// settings the builder does not have).
    pub fn from_inner(inner: ProtoClient<UreqTransport>) -> Self {
        Self { inner }
    }

    /// The underlying async client: its futures block the thread that polls them (see
    /// [`UreqTransport`]).
    pub fn inner(&self) -> &ProtoClient<UreqTransport> {
        &self.inner
    }

    /// The transport: ureq and tungstenite.
    pub fn transport(&self) -> &UreqTransport {
        self.inner.transport()
    }

    /// Where requests go and the headers they carry.
    pub fn endpoint(&self) -> &Endpoint {
        self.inner.endpoint()
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.inner.limits()
    }

    /// How streams that end early are followed.
    pub fn polling(&self) -> Polling {
        self.inner.polling()
    }

    /// `POST /backups/create` with a seed.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    pub fn create_with(&self, seed: SeededBackup) -> Result<Backup, Error> {
        wait(self.inner.create_with(seed))
    }

    /// A safety backup of the local data, then the restore; as
    /// [`backups_proto::Client::restore_safely`]: the outer error is a failed safety backup
    /// (nothing was replaced), and the safety backup comes back whatever the restore did.
    ///
    /// # Errors
    ///
    /// As [`create`](Self::create), for the safety backup.
    pub fn restore_safely(
        &self,
        id: impl IntoBackupId,
        on_event: impl FnMut(&BackupStreamedProgress),
    ) -> Result<SafeRestore, Error> {
        wait(self.inner.restore_safely(id, on_event))
    }

    /// Follows the create or restore `operation` of backup `id` by its status alone to its end;
    /// as [`backups_proto::Client::follow_status`].
    ///
    /// # Errors
    ///
    /// As [`Progress::follow`].
    pub fn follow_status(
        &self,
        operation: Operation,
        id: impl IntoBackupId,
        on_event: impl FnMut(&BackupStreamedProgress),
    ) -> Result<Backup, Error> {
        wait(self.inner.follow_status(operation, id, on_event))
    }

    /// Runs any operation given as a value, the streamed ones read to their end (and followed,
    /// as [`Progress::follow`] does) through `on_event`, called on this thread.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    pub fn run(
        &self,
        operation: &AnyOperation,
        on_event: impl FnMut(&BackupStreamedProgress),
    ) -> Result<AnyOutput, Error> {
        wait(self.inner.run(operation, on_event))
    }

    /// Runs any operation whose response is read whole.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    pub fn execute<O: ApiOperation>(&self, operation: &O) -> Result<O::Output, Error> {
        wait(self.inner.execute(operation))
    }

    /// Runs an operation and returns its typed value together with the body exactly as the
    /// server sent it.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    pub fn execute_raw<O: ApiOperation>(&self, operation: &O) -> Result<(O::Output, Bytes), Error> {
        wait(self.inner.execute_raw(operation))
    }

    /// WebSocket `/backups/streamed/progress`: a snapshot of every creation and restoration in
    /// progress at once, then one on every change, until the [`Watch`] is dropped.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list), for the handshake.
    pub fn watch_progress(&self) -> Result<Watch, Error> {
        let snapshots = wait(self.inner.watch_progress())?;
        Ok(Watch::new(snapshots))
    }

    /// WebSocket `/backups/create/streamed/websocket`: makes a backup, returning its progress
    /// events as they come, ending with the final one.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list), for the handshake.
    pub fn create_over_websocket(&self) -> Result<Progress, Error> {
        let stream = wait(self.inner.create_over_websocket())?;
        Ok(Progress::new(stream, self.inner.clone()))
    }

    /// WebSocket `/backup/{backup}/restore/streamed/websocket`: restores a backup, returning its
    /// progress events as they come, ending with the final one.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list), for the handshake.
    pub fn restore_over_websocket(&self, id: impl IntoBackupId) -> Result<Progress, Error> {
        let stream = wait(self.inner.restore_over_websocket(id))?;
        Ok(Progress::new(stream, self.inner.clone()))
    }

    /// Opens a create or restore socket given as a value (to pass a seed or a backup).
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list), for the handshake.
    pub fn open_progress_socket<C: ChannelOperation>(
        &self,
        channel: &C,
    ) -> Result<Progress, Error> {
        let stream = wait(self.inner.open_progress_socket(channel))?;
        Ok(Progress::new(stream, self.inner.clone()))
    }
}
