//! [`Client`], the blocking client, and its [`ClientBuilder`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};

use backups_hyper::{BackupsClient, DiscoveryError, IntoBaseUrl, RetryPolicy, Timeouts};
use backups_proto::models::{Backup, BackupStreamedProgress, SeededBackup};
use backups_proto::operations::{AnyOperation, AnyOutput, ApiOperation, ChannelOperation};
use backups_proto::{
    BaseUrl, Client as ProtoClient, Endpoint, Error, IntoBackupId, Limits, Operation, Polling,
    SafeRestore,
};

use crate::progress::{Progress, Watch};
use crate::thread::{RuntimeThread, ThreadLocate, ThreadTransport};
use crate::wait::{self, block_on, wait};

/// A blocking Backups API client: every operation of
/// [`backups_hyper::BackupsClient`] as a plain call, progress as iterators.
///
/// It sends through a [`ThreadTransport`]: the hyper transport on a current-thread Tokio runtime
/// of its own thread (see the crate docs for why). Cloning is cheap and shares that thread and
/// its connection pool; the thread stops when the last clone (and the last [`Progress`] or
/// [`Watch`]) is dropped. It can be used from many threads at once.
///
/// Every call refuses with [`Error::InvalidRequest`] when made inside an async runtime, where
/// blocking would stall it: use [`backups_hyper::BackupsClient`] there.
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
    inner: ProtoClient<ThreadTransport>,
}

impl Client {
    /// A client for the API's documented base URL, `http://localhost:1000`, with every default.
    ///
    /// Current Pieces OS versions listen on 39300 to 39333 instead: see
    /// [`discover`](Self::discover).
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when the runtime thread cannot be started.
    pub fn localhost() -> Result<Self, Error> {
        ClientBuilder::new().build()
    }

    /// A builder for every setting: base URL, timeouts, limits, headers, retries, pool.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Finds the running Pieces OS with the default
    /// [`Discovery`](backups_hyper::discovery::Discovery) and returns a client for it with every
    /// default.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::NotFound`] with what each place held, or
    /// [`DiscoveryError::Client`] (inside an async runtime, [`Error::InvalidRequest`]).
    pub fn discover() -> Result<Self, DiscoveryError> {
        ClientBuilder::new().discover()
    }

    /// A blocking client with the settings of an async one (base URL, headers, timeouts, retry
    /// policy, limits, polling), on a runtime thread of its own. The connection pool is not
    /// shared with `client`: it lives on the new thread.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when the runtime thread cannot be started.
    pub fn from_async(client: &BackupsClient) -> Result<Self, Error> {
        Ok(Self::on(RuntimeThread::start()?, client))
    }

    fn on(runtime: Arc<RuntimeThread>, client: &BackupsClient) -> Self {
        let transport = ThreadTransport::on(runtime.clone(), client.transport().clone());
        let mut inner = ProtoClient::new(transport, client.endpoint().clone())
            .with_limits(client.limits())
            .with_polling(client.polling())
            .with_retry(client.retry_policy());
        if let Some(locator) = client.locator() {
            inner = inner.with_locator(Arc::new(ThreadLocate::on(runtime, locator.clone())));
        }
        Self { inner }
    }

    /// The underlying async client, over the [`ThreadTransport`]: its futures may be awaited
    /// under any executor.
    pub fn inner(&self) -> &ProtoClient<ThreadTransport> {
        &self.inner
    }

    /// The transport: the hyper transport on the runtime thread.
    pub fn transport(&self) -> &ThreadTransport {
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
        wait("Client::create_with", self.inner.create_with(seed))
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
        wait(
            "Client::restore_safely",
            self.inner.restore_safely(id, on_event),
        )
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
        wait(
            "Client::follow_status",
            self.inner.follow_status(operation, id, on_event),
        )
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
        wait("Client::run", self.inner.run(operation, on_event))
    }

    /// Runs any operation whose response is read whole.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    pub fn execute<O: ApiOperation>(&self, operation: &O) -> Result<O::Output, Error> {
        wait("Client::execute", self.inner.execute(operation))
    }

    /// Runs an operation and returns its typed value together with the body exactly as the
    /// server sent it.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    pub fn execute_raw<O: ApiOperation>(&self, operation: &O) -> Result<(O::Output, Bytes), Error> {
        wait("Client::execute_raw", self.inner.execute_raw(operation))
    }

    /// WebSocket `/backups/streamed/progress`: a snapshot of every creation and restoration in
    /// progress at once, then one on every change, until the [`Watch`] is dropped.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list), for the handshake.
    pub fn watch_progress(&self) -> Result<Watch, Error> {
        let snapshots = wait("Client::watch_progress", self.inner.watch_progress())?;
        Ok(Watch::new(snapshots, self.inner.clone()))
    }

    /// WebSocket `/backups/create/streamed/websocket`: makes a backup, returning its progress
    /// events as they come, ending with the final one.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list), for the handshake.
    pub fn create_over_websocket(&self) -> Result<Progress, Error> {
        let stream = wait(
            "Client::create_over_websocket",
            self.inner.create_over_websocket(),
        )?;
        Ok(Progress::new(stream, self.inner.clone()))
    }

    /// WebSocket `/backup/{backup}/restore/streamed/websocket`: restores a backup, returning its
    /// progress events as they come, ending with the final one.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list), for the handshake.
    pub fn restore_over_websocket(&self, id: impl IntoBackupId) -> Result<Progress, Error> {
        let stream = wait(
            "Client::restore_over_websocket",
            self.inner.restore_over_websocket(id),
        )?;
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
        let stream = wait(
            "Client::open_progress_socket",
            self.inner.open_progress_socket(channel),
        )?;
        Ok(Progress::new(stream, self.inner.clone()))
    }
}

/// Builds a blocking [`Client`]: the settings of [`backups_hyper::ClientBuilder`], which it
/// wraps (and can be made from, with [`From`]).
///
/// Setters never fail; the first invalid value is reported by [`build`](Self::build) as
/// [`Error::InvalidRequest`].
///
/// ```
/// use std::time::Duration;
/// use backups_blocking::{Client, RetryPolicy};
///
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:39300")
///     .request_timeout(Duration::from_secs(30))
///     .application_id("my-app")
///     .retry(RetryPolicy::new(5))
///     .build()?;
/// assert_eq!(client.endpoint().base_url().to_string(), "http://127.0.0.1:39300");
/// assert_eq!(client.endpoint().headers()["x-application-id"], "my-app");
/// # Ok::<(), backups_blocking::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ClientBuilder {
    inner: backups_hyper::ClientBuilder,
}

impl From<backups_hyper::ClientBuilder> for ClientBuilder {
    fn from(inner: backups_hyper::ClientBuilder) -> Self {
        Self { inner }
    }
}

impl ClientBuilder {
    /// Every default: `http://localhost:1000`, the default [`Timeouts`], [`RetryPolicy`] and
    /// [`Limits`], this SDK's User-Agent.
    pub fn new() -> Self {
        Self::default()
    }

    fn map(
        self,
        f: impl FnOnce(backups_hyper::ClientBuilder) -> backups_hyper::ClientBuilder,
    ) -> Self {
        Self {
            inner: f(self.inner),
        }
    }

    /// Where Pieces OS listens, such as `http://127.0.0.1:39300` (a path prefix is kept).
    pub fn base_url(self, base_url: impl IntoBaseUrl) -> Self {
        self.map(|b| b.base_url(base_url))
    }

    /// The time allowed to open a connection (default 5 s).
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.map(|b| b.connect_timeout(timeout))
    }

    /// The time allowed for a whole plain call, and for the headers of a stream (default 120 s).
    pub fn request_timeout(self, timeout: Duration) -> Self {
        self.map(|b| b.request_timeout(timeout))
    }

    /// The longest silence between two events of a progress stream or messages of a socket
    /// (default 60 s).
    pub fn idle_timeout(self, timeout: Duration) -> Self {
        self.map(|b| b.idle_timeout(timeout))
    }

    /// All three timeouts at once.
    pub fn timeouts(self, timeouts: Timeouts) -> Self {
        self.map(|b| b.timeouts(timeouts))
    }

    /// The largest response body read whole (default 64 MiB); larger is
    /// [`Error::BodyTooLarge`].
    pub fn max_body(self, bytes: u64) -> Self {
        self.map(|b| b.max_body(bytes))
    }

    /// The largest single progress event or socket message; larger is
    /// [`Error::FrameTooLarge`].
    pub fn max_frame(self, bytes: usize) -> Self {
        self.map(|b| b.max_frame(bytes))
    }

    /// Both limits at once.
    pub fn limits(self, limits: Limits) -> Self {
        self.map(|b| b.limits(limits))
    }

    /// The wait between two polls of a status while a create or restore is followed by it
    /// (default 500 ms).
    pub fn poll_interval(self, interval: Duration) -> Self {
        self.map(|b| b.poll_interval(interval))
    }

    /// How creates and restores are followed by their status; as
    /// [`backups_hyper::ClientBuilder::polling`].
    pub fn polling(self, polling: Polling) -> Self {
        self.map(|b| b.polling(polling))
    }

    /// When the idempotent GETs that could not connect are retried (default
    /// [`RetryPolicy::default`]; [`RetryPolicy::none`] turns it
    /// off). A POST is never resent.
    pub fn retry(self, policy: RetryPolicy) -> Self {
        self.map(|b| b.retry(policy))
    }

    /// Replaces the User-Agent (default `pieces-backups-rs/<version>`).
    pub fn user_agent(self, user_agent: &str) -> Self {
        self.map(|b| b.user_agent(user_agent))
    }

    /// Adds a header to every request; a later value for the same name replaces an earlier one.
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        self.map(|b| b.header(name, value))
    }

    /// Sends `X-Application-ID: <id>` with every request.
    pub fn application_id(self, id: &str) -> Self {
        self.map(|b| b.application_id(id))
    }

    /// How long an unused pooled connection is kept (default 90 s).
    pub fn pool_idle_timeout(self, timeout: Duration) -> Self {
        self.map(|b| b.pool_idle_timeout(timeout))
    }

    /// How many unused connections are kept per host at most (default: no limit).
    pub fn pool_max_idle(self, count: usize) -> Self {
        self.map(|b| b.pool_max_idle(count))
    }

    /// The base URL that will be used (the default when none was set).
    pub fn get_base_url(&self) -> BaseUrl {
        self.inner.get_base_url()
    }

    /// Builds the client and starts its runtime thread. Works anywhere, inside an async runtime
    /// too (only the calls refuse there).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] for an invalid setting, [`Error::Transport`] when the runtime
    /// thread cannot be started.
    pub fn build(self) -> Result<Client, Error> {
        let client = self.inner.build()?;
        Client::from_async(&client)
    }

    /// Finds the running Pieces OS with the default
    /// [`Discovery`](backups_hyper::discovery::Discovery) (on the runtime thread), then builds a
    /// client for it with these settings (the base URL set here is ignored).
    ///
    /// # Errors
    ///
    /// As [`Client::discover`].
    pub fn discover(self) -> Result<Client, DiscoveryError> {
        wait::check("ClientBuilder::discover").map_err(DiscoveryError::Client)?;
        let runtime = RuntimeThread::start().map_err(DiscoveryError::Client)?;
        let found =
            block_on(runtime.spawn(self.inner.discover())).map_err(DiscoveryError::Client)??;
        Ok(Client::on(runtime, &found))
    }
}
