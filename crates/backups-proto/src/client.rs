//! [`Client`]: every operation over any [`Transport`].

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http::Response;
use http::header::CONTENT_LENGTH;
use http_body::Body;

use backups_models::{Backup, BackupStreamedProgress, Backups, SeededBackup};

use crate::operations::{
    AnyOperation, AnyOutput, ApiOperation, CreateBackup, CreateBackupStreamed, DeleteBackup,
    ListBackups,
};
use crate::{BackupId, DEFAULT_MAX_FRAME, Endpoint, Error, Operation, ProgressDecoder, Transport};

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
    transport: T,
    endpoint: Arc<Endpoint>,
    limits: Limits,
}

impl<T: Transport> Client<T> {
    /// A client sending to `endpoint` over `transport`, with the default limits.
    pub fn new(transport: T, endpoint: Endpoint) -> Self {
        Self {
            transport,
            endpoint: Arc::new(endpoint),
            limits: Limits::default(),
        }
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

    /// `GET /backups`: every backup.
    pub async fn list(&self) -> Result<Backups, Error> {
        self.execute(&ListBackups).await
    }

    /// `POST /backups/create` without a seed: makes a backup and returns it.
    pub async fn create(&self) -> Result<Backup, Error> {
        self.execute(&CreateBackup::default()).await
    }

    /// `POST /backups/create` with a seed.
    pub async fn create_with(&self, seed: SeededBackup) -> Result<Backup, Error> {
        self.execute(&CreateBackup { seed: Some(seed) }).await
    }

    /// `POST /backups/create/streamed`: makes a backup, returning its progress events as they
    /// come.
    pub async fn create_streamed(&self) -> Result<ProgressStream<T::Body>, Error> {
        self.create_streamed_with(CreateBackupStreamed::default())
            .await
    }

    /// `POST /backups/create/streamed` with the operation spelled out (to pass a seed).
    pub async fn create_streamed_with(
        &self,
        operation: CreateBackupStreamed,
    ) -> Result<ProgressStream<T::Body>, Error> {
        let op = Operation::CreateStreamed;
        let request = operation.request(&self.endpoint)?;
        let response = self
            .transport
            .send(request)
            .await
            .map_err(with_operation(op))?;
        if !CreateBackupStreamed::check_head(&response)? {
            // An error status: read its text and let the parser name the error.
            let response = self.read_whole(op, response).await?;
            return Err(match CreateBackupStreamed::parse_response(response) {
                Err(err) => err,
                Ok(_) => Error::Truncated {
                    operation: op,
                    detail: "no progress event came".into(),
                },
            });
        }
        Ok(ProgressStream {
            operation: op,
            body: Some(response.into_body()),
            decoder: ProgressDecoder::with_max_frame(self.limits.max_frame),
            saw_terminal: false,
            done: false,
        })
    }

    /// `POST /backups/{backup}/delete`.
    pub async fn delete(&self, id: &BackupId) -> Result<(), Error> {
        self.execute(&DeleteBackup::new(id.clone())).await
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

    /// Sends an operation's request and reads its whole response.
    async fn fetch<O: ApiOperation>(&self, operation: &O) -> Result<Response<Bytes>, Error> {
        let request = operation.request(&self.endpoint)?;
        // Sent where it is awaited, so the transport's future is stored once in this one.
        let response = self
            .transport
            .send(request)
            .await
            .map_err(with_operation(O::OPERATION))?;
        self.read_whole(O::OPERATION, response).await
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

/// Names the operation in a transport's error.
fn with_operation(op: Operation) -> impl FnOnce(Error) -> Error {
    move |err| err.with_operation(op)
}

/// The progress events of a streamed create, as a [`Stream`].
///
/// It ends after the body ends. A body cut inside an event, or ending before a final status
/// (`COMPLETED`, `FAILED` or `CANCELED`), yields [`Error::Truncated`] as its last item; the
/// transport's idle timeout bounds the silence between events.
pub struct ProgressStream<B> {
    /// The streamed operation, named in errors.
    operation: Operation,
    body: Option<B>,
    decoder: ProgressDecoder,
    saw_terminal: bool,
    done: bool,
}

impl<B> std::fmt::Debug for ProgressStream<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressStream")
            .field("operation", &self.operation)
            .field("decoder", &self.decoder)
            .field("saw_terminal", &self.saw_terminal)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<B> ProgressStream<B>
where
    B: Body<Data = Bytes, Error: Into<Error>> + Unpin,
{
    /// The next event, or `None` after the last one; the same as `StreamExt::next`, without
    /// needing a stream utility crate.
    pub async fn next_event(&mut self) -> Option<Result<BackupStreamedProgress, Error>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Reads the stream to its end, calling `on_event` for each event, and returns the backup of
    /// the `COMPLETED` event; a `FAILED` or `CANCELED` event is an [`Error::Internal`].
    pub async fn finish(
        mut self,
        mut on_event: impl FnMut(&BackupStreamedProgress),
    ) -> Result<Backup, Error> {
        let mut backup = None;
        let mut failure = None;
        while let Some(event) = self.next_event().await {
            let event = event?;
            on_event(&event);
            if let Some(status) = event.status.as_ref().filter(|s| s.is_terminal()) {
                match event.backup {
                    Some(done) if *status == backups_models::ProgressStatus::Completed => {
                        backup = Some(done)
                    }
                    _ => failure = Some(status.clone()),
                }
            }
        }
        match (backup, failure) {
            (Some(backup), _) => Ok(*backup),
            (None, Some(status)) => Err(Error::Internal {
                operation: self.operation,
                message: format!("the backup ended with status {status}"),
            }),
            (None, None) => Err(Error::Truncated {
                operation: self.operation,
                detail: "the stream ended without the finished backup".into(),
            }),
        }
    }
}

impl<B> Stream for ProgressStream<B>
where
    B: Body<Data = Bytes, Error: Into<Error>> + Unpin,
{
    type Item = Result<BackupStreamedProgress, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.decoder.next_event() {
                match &item {
                    Ok(event) => this.saw_terminal |= event.is_terminal(),
                    Err(_) => {
                        this.done = true;
                        this.body = None;
                    }
                }
                return Poll::Ready(Some(item));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let Some(body) = this.body.as_mut() else {
                this.done = true;
                this.decoder.finish();
                if !this.decoder.has_failed() && !this.saw_terminal {
                    return Poll::Ready(Some(Err(Error::Truncated {
                        operation: this.operation,
                        detail:
                            "the stream ended before a final status (COMPLETED, FAILED or CANCELED)"
                                .into(),
                    })));
                }
                continue;
            };
            match ready!(Pin::new(body).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        this.decoder.push_bytes(data);
                    }
                }
                Some(Err(err)) => {
                    this.done = true;
                    this.body = None;
                    return Poll::Ready(Some(Err(err.into().with_operation(this.operation))));
                }
                None => this.body = None,
            }
        }
    }
}
