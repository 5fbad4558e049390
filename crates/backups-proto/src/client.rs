//! [`Client`]: every operation over any [`Transport`].

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::Response;
use http::header::CONTENT_LENGTH;
use http_body::Body;

use backups_models::{
    Asset, Assets, Backup, BackupStatus, BackupStreamedProgress, Backups, SeededBackup,
};

use crate::operations::{
    self, AnyOperation, AnyOutput, ApiOperation, ChannelOperation, Create, CreateOverWebSocket,
    RestoreOverWebSocket, WatchProgress, stream,
};
use crate::progress_stream::BodyEvents;
use crate::{
    Attempt, DEFAULT_MAX_FRAME, Endpoint, Error, Handshake, IntoBackupId, Locate, Operation,
    Polling, ProgressDecoder, ProgressStream, RetryPolicy, Snapshots, SocketEvents,
    SocketTransport, Transport,
};

/// The default limit on a whole response body: 64 MiB, room for a listing of about 250,000
/// backups.
pub const DEFAULT_MAX_BODY: u64 = 64 * 1024 * 1024;

/// Size limits on what the client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest whole response body read into memory, in bytes.
    pub max_body: u64,
    /// The largest single progress event, in bytes.
    pub max_frame: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: DEFAULT_MAX_BODY,
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

impl Limits {
    /// Sets the body limit.
    pub fn with_max_body(mut self, max_body: u64) -> Self {
        self.max_body = max_body;
        self
    }

    /// Sets the progress event limit.
    pub fn with_max_frame(mut self, max_frame: usize) -> Self {
        self.max_frame = max_frame;
        self
    }
}

/// A Backups API client over a [`Transport`].
///
/// Cloning is cheap when the transport's clone is.
///
/// ```
/// use backups_proto::{Client, Endpoint, transport_fn};
/// use bytes::Bytes;
/// use http_body_util::Full;
///
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let transport = transport_fn(|request| async move {
///     assert_eq!(request.uri().path(), "/backups");
///     let body = Full::new(Bytes::from_static(br#"{"iterable":[]}"#));
///     Ok(http::Response::new(body))
/// });
/// let client = Client::new(transport, Endpoint::default());
/// let backups = block_on(client.list())?;
/// assert!(backups.is_empty());
/// # Ok::<(), backups_proto::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client<T> {
    pub(crate) transport: T,
    pub(crate) endpoint: Arc<Endpoint>,
    limits: Limits,
    pub(crate) polling: Polling,
    /// Finds Pieces OS again while following, after a connection failed.
    pub(crate) locator: Option<Arc<dyn Locate>>,
    retry: RetryPolicy,
}

impl<T> Client<T> {
    /// A client sending to `endpoint` over `transport` (a [`Transport`] for the HTTP calls, a
    /// [`SocketTransport`] for the WebSocket channels, or both), with the default limits.
    pub fn new(transport: T, endpoint: Endpoint) -> Self {
        Self {
            transport,
            endpoint: Arc::new(endpoint),
            limits: Limits::default(),
            polling: Polling::default(),
            locator: None,
            retry: RetryPolicy::default(),
        }
    }

    /// The same client retrying idempotent calls that could not connect by `retry` (the default
    /// is [`RetryPolicy::default`]; [`RetryPolicy::none`] turns retries off).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// When failed calls are sent again.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The same client following creates and restores with other [`Polling`].
    pub fn with_polling(mut self, polling: Polling) -> Self {
        self.polling = polling;
        self
    }

    /// How creates and restores are followed by their status.
    pub fn polling(&self) -> Polling {
        self.polling
    }

    /// The same client finding Pieces OS again with `locator` when a connection fails while it
    /// follows an operation (a Pieces OS that restarted on another port); without one, the
    /// same base URL is polled patiently.
    pub fn with_locator(mut self, locator: Arc<dyn Locate>) -> Self {
        self.locator = Some(locator);
        self
    }

    /// The locator, if the client has one.
    pub fn locator(&self) -> Option<&Arc<dyn Locate>> {
        self.locator.as_ref()
    }

    /// The same client with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Where requests go and the headers they carry.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

/// Expands the table's HTTP entries into the client's methods, one family per kind.
macro_rules! client_methods {
    (
        http {
            $(
                $(#[doc = $doc:expr])*
                $Variant:ident {
                    kind: $kind:ident,
                    inputs: ($($input:ident),*),
                    output: $Output:ty,
                    any: $Any:ident,
                    methods: [$($method:ident),+],
                    spec: { $($spec:tt)* } $(,)?
                }
            ),* $(,)?
        }
        sockets { $($sockets:tt)* }
    ) => {
        impl<T: Transport> Client<T> {
            $(
                client_method!($kind $Variant ($($input),*) $Output [$($method),+] $(#[doc = $doc])*);
            )*
        }
    };
}

/// The methods of one operation: by its kind, and by whether its path names a backup.
macro_rules! client_method {
    // An optional body and nothing else: the method takes it by reference, as callers keep it.
    ($kind:ident $Value:ident (assets) $Output:ty [$method:ident] $(#[doc = $doc:expr])*) => {
        client_method!(@body $Value assets Assets [$method] $Output, $(#[doc = $doc])*);
    };
    ($kind:ident $Value:ident (asset) $Output:ty [$method:ident] $(#[doc = $doc:expr])*) => {
        client_method!(@body $Value asset Asset [$method] $Output, $(#[doc = $doc])*);
    };
    (@body $Value:ident $field:ident $Body:ident [$method:ident] $Output:ty, $(#[doc = $doc:expr])*) => {
        $(#[doc = $doc])*
        pub async fn $method(&self, $field: Option<&$Body>) -> Result<$Output, Error> {
            self.execute(&operations::$Value {
                $field: $field.cloned(),
            })
            .await
        }
    };
    ($kind:ident $Value:ident (id $(, $backup:ident)?) $Output:ty [$method:ident] $(#[doc = $doc:expr])*) => {
        $(#[doc = $doc])*
        pub async fn $method(&self, id: impl IntoBackupId) -> Result<$Output, Error> {
            self.execute(&operations::$Value::new(id.into_backup_id()?))
                .await
        }
    };
    ($kind:ident $Value:ident ($($input:ident)?) $Output:ty [$method:ident] $(#[doc = $doc:expr])*) => {
        $(#[doc = $doc])*
        pub async fn $method(&self) -> Result<$Output, Error> {
            self.execute(&operations::$Value::default()).await
        }
    };
    (stream $Value:ident (id $(, $backup:ident)?) $Output:ty [$method:ident, $with:ident] $(#[doc = $doc:expr])*) => {
        $(#[doc = $doc])*
        pub async fn $method(
            &self,
            id: impl IntoBackupId,
        ) -> Result<ProgressStream<BodyEvents<T::Body>>, Error> {
            self.$with(operations::$Value::new(id.into_backup_id()?))
                .await
        }

        client_method!(@value stream $Value $method $with);
    };
    (stream $Value:ident ($($seed:ident)?) $Output:ty [$method:ident, $with:ident] $(#[doc = $doc:expr])*) => {
        $(#[doc = $doc])*
        pub async fn $method(&self) -> Result<ProgressStream<BodyEvents<T::Body>>, Error> {
            self.$with(operations::$Value::default()).await
        }

        client_method!(@value stream $Value $method $with);
    };
    (work $Value:ident (id $(, $backup:ident)?) $Output:ty [$method:ident, $watched:ident] $(#[doc = $doc:expr])*) => {
        $(#[doc = $doc])*
        pub async fn $method(&self, id: impl IntoBackupId) -> Result<Backup, Error> {
            self.$watched(operations::$Value::new(id.into_backup_id()?), |_| {})
                .await
        }

        client_method!(@value work $Value $method $watched);
    };
    (work $Value:ident ($($seed:ident)?) $Output:ty [$method:ident, $watched:ident] $(#[doc = $doc:expr])*) => {
        $(#[doc = $doc])*
        pub async fn $method(&self) -> Result<Backup, Error> {
            self.$watched(operations::$Value::default(), |_| {}).await
        }

        client_method!(@value work $Value $method $watched);
    };
    // The method that takes the operation as a value: the same for every shape of input.
    (@value stream $Value:ident $method:ident $with:ident) => {
        #[doc = concat!("[`", stringify!($method), "`](Self::", stringify!($method), ") with the operation given as a value (to pass a body).")]
        pub async fn $with(
            &self,
            operation: operations::$Value,
        ) -> Result<ProgressStream<BodyEvents<T::Body>>, Error> {
            self.open_stream(&operation).await
        }
    };
    (@value work $Value:ident $method:ident $watched:ident) => {
        #[doc = concat!("[`", stringify!($method), "`](Self::", stringify!($method), ") with the operation given as a value (to pass a body), each change polled alongside reported to `on_event`.")]
        pub async fn $watched(
            &self,
            operation: operations::$Value,
            mut on_event: impl FnMut(&BackupStreamedProgress),
        ) -> Result<Backup, Error> {
            self.run_watched(&operation, &mut on_event).await
        }
    };
}

crate::__operations!(client_methods);

impl<T: Transport> Client<T> {
    /// `POST /backups/create` with a seed; see [`create`](Self::create).
    pub async fn create_with(&self, seed: SeededBackup) -> Result<Backup, Error> {
        self.create_watched(Create { seed: Some(seed) }, |_| {})
            .await
    }

    /// Sends a streamed operation's request and hands its body to a [`ProgressStream`], or
    /// reads an error answer whole and names the error.
    pub(crate) async fn open_stream<O: ApiOperation>(
        &self,
        operation: &O,
    ) -> Result<ProgressStream<BodyEvents<T::Body>>, Error> {
        let op = O::OPERATION;
        let request = operation.request(&self.endpoint)?;
        let response = self
            .transport
            .send(request)
            .await
            .map_err(with_operation(op))?;
        if !stream::check_head(op, &response)? {
            // An error status: read its text and let the parser name the error.
            let response = self.read_whole(op, response).await?;
            return Err(match O::parse_response(response) {
                Err(err) => err,
                Ok(_) => Error::Truncated {
                    operation: op,
                    detail: "no progress event came".into(),
                },
            });
        }
        let decoder = ProgressDecoder::with_max_frame(self.limits.max_frame);
        let events = BodyEvents::new(op, response.into_body(), decoder);
        Ok(ProgressStream::new(op, events).with_backup_id(operation.backup_id().cloned()))
    }

    /// Runs any operation whose response is read whole.
    pub async fn execute<O: ApiOperation>(&self, operation: &O) -> Result<O::Output, Error> {
        O::parse_response(self.fetch(operation).await?)
    }

    /// Runs an operation and returns its typed value together with the body exactly as the
    /// server sent it (for printing or storing a response verbatim).
    pub async fn execute_raw<O: ApiOperation>(
        &self,
        operation: &O,
    ) -> Result<(O::Output, Bytes), Error> {
        let response = self.fetch(operation).await?;
        // Cloning `Bytes` shares the buffer; nothing is copied.
        let body = response.body().clone();
        Ok((O::parse_response(response)?, body))
    }

    /// Runs any operation given as a value, the streamed ones read to their end through
    /// `on_event`: one code path for tools that handle every operation alike.
    pub async fn run(
        &self,
        operation: &AnyOperation,
        on_event: impl FnMut(&BackupStreamedProgress),
    ) -> Result<AnyOutput, Error> {
        operation.run_on(self, on_event).await
    }

    /// Sends an operation's request, again while the [`RetryPolicy`] allows, and reads its
    /// whole response.
    async fn fetch<O: ApiOperation>(&self, operation: &O) -> Result<Response<Bytes>, Error> {
        let op = O::OPERATION;
        let request = operation.request(&self.endpoint)?;
        let response = match self.transport.send(request).await {
            Ok(response) => response,
            // Boxed: a call that succeeds at once (nearly all of them) does not carry the
            // retries' state.
            Err(error) => Box::pin(self.resend(operation, error.with_operation(op))).await?,
        };
        self.read_whole(op, response).await
    }

    /// The attempts after a first one failed with `error`: each waits on the transport's timer
    /// and sends the request built anew (a request is not `Clone`, and building it again costs
    /// nothing on the calls that never fail).
    async fn resend<O: ApiOperation>(
        &self,
        operation: &O,
        mut error: Error,
    ) -> Result<Response<T::Body>, Error> {
        let op = O::OPERATION;
        let mut attempt = 1;
        loop {
            let delay = match self.retry.delay_after(attempt) {
                Some(delay) if self.retry.allows(Some(op), &error) => delay,
                _ => return Err(error),
            };
            let Some(timer) = self.transport.sleep(delay) else {
                return Err(error);
            };
            timer.await;
            attempt += 1;
            let mut request = operation.request(&self.endpoint)?;
            request.extensions_mut().insert(Attempt(attempt));
            error = match self.transport.send(request).await {
                Ok(response) => return Ok(response),
                Err(failure) => failure.with_operation(op),
            };
        }
    }

    /// Sends a request of `op` and reads its whole response.
    pub(crate) async fn send_and_read(
        &self,
        op: Operation,
        request: http::Request<Bytes>,
    ) -> Result<Response<Bytes>, Error> {
        // Sent where it is awaited, so the transport's future is stored once in this one.
        let response = self
            .transport
            .send(request)
            .await
            .map_err(with_operation(op))?;
        self.read_whole(op, response).await
    }

    async fn read_whole(
        &self,
        op: Operation,
        response: Response<T::Body>,
    ) -> Result<Response<Bytes>, Error> {
        let limit = self.limits.max_body;
        let too_large = || Error::BodyTooLarge {
            operation: Some(op),
            limit,
        };
        let (parts, mut body) = response.into_parts();
        // hyper reports a declared `Content-Length` as the body's size hint, so the common case
        // needs no header lookup; the header is read for bodies that give no bound.
        let declared = body.size_hint().upper().or_else(|| {
            parts
                .headers
                .get(CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok())
        });
        if declared.is_some_and(|length| length > limit) {
            return Err(too_large());
        }
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        let mut total: u64 = 0;
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let frame = frame.map_err(|err| err.into().with_operation(op))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            total += data.len() as u64;
            if total > limit {
                return Err(too_large());
            }
            // A body in one chunk (the common case) is handed over without a copy.
            match first.take() {
                None if rest.is_empty() => first = Some(data),
                None => rest.extend_from_slice(&data),
                Some(earlier) => {
                    rest.reserve(
                        declared
                            .map_or(0, |d| d as usize)
                            .max(earlier.len() + data.len()),
                    );
                    rest.extend_from_slice(&earlier);
                    rest.extend_from_slice(&data);
                }
            }
        }
        let bytes = first.unwrap_or_else(|| rest.freeze());
        Ok(Response::from_parts(parts, bytes))
    }
}

impl<T: SocketTransport> Client<T> {
    /// WebSocket `/backups/streamed/progress`: a snapshot of every creation and restoration in
    /// progress at once, then one on every change, until the stream is dropped.
    pub async fn watch_progress(&self) -> Result<Snapshots<T::Socket>, Error> {
        let socket = self.open_socket(&WatchProgress).await?;
        Ok(Snapshots::new(socket, self.limits.max_frame))
    }

    /// WebSocket `/backups/create/streamed/websocket`: makes a backup, returning its progress
    /// events as they come, ending with the final one.
    pub async fn create_over_websocket(
        &self,
    ) -> Result<ProgressStream<SocketEvents<T::Socket>>, Error> {
        self.open_progress_socket(&CreateOverWebSocket::default())
            .await
    }

    /// WebSocket `/backup/{backup}/restore/streamed/websocket`: restores a backup, returning its
    /// progress events as they come, ending with the final one.
    pub async fn restore_over_websocket(
        &self,
        id: impl IntoBackupId,
    ) -> Result<ProgressStream<SocketEvents<T::Socket>>, Error> {
        self.open_progress_socket(&RestoreOverWebSocket::new(id.into_backup_id()?))
            .await
    }

    /// Opens a create or restore socket given as a value (to pass a seed or a backup).
    pub async fn open_progress_socket<C: ChannelOperation>(
        &self,
        channel: &C,
    ) -> Result<ProgressStream<SocketEvents<T::Socket>>, Error> {
        let socket = self.open_socket(channel).await?;
        let events = SocketEvents::new(C::OPERATION, socket, self.limits.max_frame);
        let stream = ProgressStream::new(C::OPERATION, events);
        Ok(stream.with_backup_id(channel.backup_id().cloned()))
    }

    /// Opens `channel`'s socket; a refused handshake is read as an HTTP call's error.
    async fn open_socket<C: ChannelOperation>(&self, channel: &C) -> Result<T::Socket, Error> {
        let op = C::OPERATION;
        let request = channel.request(&self.endpoint)?;
        let first = channel.first_message()?;
        let handshake = self
            .transport
            .connect(request, first)
            .await
            .map_err(with_operation(op))?;
        match handshake {
            Handshake::Upgraded(socket) => Ok(socket),
            Handshake::Refused(response) => Err(refused(op, &response)),
        }
    }
}

/// The error of a handshake answered with anything but `101`.
fn refused(op: Operation, response: &Response<Bytes>) -> Error {
    match crate::response::check_status(op, response) {
        Err(err) => err,
        // `101` is the operation's success status, yet the transport did not upgrade.
        Ok(()) => Error::UnexpectedStatus {
            operation: op,
            status: response.status(),
            excerpt: "the transport did not complete the WebSocket upgrade".into(),
        },
    }
}

/// Names the operation in a transport's error.
fn with_operation(op: Operation) -> impl FnOnce(Error) -> Error {
    move |err| err.with_operation(op)
}
