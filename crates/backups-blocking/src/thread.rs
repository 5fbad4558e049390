//! [`ThreadTransport`]: the hyper transport on a Tokio runtime of its own thread, reached from
//! any thread and any executor through channels.

use core::fmt;
use std::future::{Future, poll_fn};
use std::panic::resume_unwind;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::sync::{mpsc, oneshot};

use backups_hyper::{HyperBody, HyperTransport, Socket};
use backups_proto::{
    Error, Handshake, Locate, LocateFuture, Message, SocketTransport, Transport, TransportKind,
};

/// How many body frames or socket messages the runtime thread reads ahead of the caller.
const READ_AHEAD: usize = 4;

/// The name of the runtime thread, as debuggers and panics show it.
const THREAD_NAME: &str = "backups-blocking-runtime";

/// A current-thread Tokio runtime running on a thread of its own until the last clone of its
/// [`ThreadTransport`] is dropped.
pub(crate) struct RuntimeThread {
    handle: tokio::runtime::Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RuntimeThread {
    /// Starts the thread and its runtime (IO and time drivers enabled).
    pub(crate) fn start() -> Result<Arc<Self>, Error> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(runtime.handle().clone()));
                // The runtime runs every task spawned on it (calls, body readers, the pool's
                // connections and timers) until the transport is dropped. Dropping the runtime
                // then drops whatever is left, which closes its connections.
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|err| not_started(&err))?;
        let handle = match ready_rx.recv() {
            Ok(Ok(handle)) => handle,
            Ok(Err(err)) => return Err(not_started(&err)),
            Err(err) => return Err(not_started(&err)),
        };
        Ok(Arc::new(Self {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        }))
    }

    /// Runs `future` on the runtime thread; the returned [`Task`] resolves to its output, and
    /// dropping it cancels the future.
    pub(crate) fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Task(self.handle.spawn(future))
    }
}

impl Drop for RuntimeThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Waits for the runtime to drop its tasks and connections, unless this is the
            // runtime's own thread (it then ends by itself once this returns).
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

impl fmt::Debug for RuntimeThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeThread")
            .field("thread", &self.thread.as_ref().map(|t| t.thread().id()))
            .finish_non_exhaustive()
    }
}

/// The async client's [`Locate`] (discovery, on Tokio's IO) run on the runtime thread, so that
/// the blocking client finds a restarted Pieces OS again from any thread.
#[derive(Debug)]
pub(crate) struct ThreadLocate {
    runtime: Arc<RuntimeThread>,
    inner: Arc<dyn Locate>,
}

impl ThreadLocate {
    pub(crate) fn on(runtime: Arc<RuntimeThread>, inner: Arc<dyn Locate>) -> Self {
        Self { runtime, inner }
    }
}

impl Locate for ThreadLocate {
    fn locate(&self) -> LocateFuture<'_> {
        let inner = self.inner.clone();
        let task = self.runtime.spawn(async move { inner.locate().await });
        Box::pin(async move { task.await.ok().flatten() })
    }
}

fn not_started(err: &dyn std::error::Error) -> Error {
    Error::transport(
        TransportKind::Io,
        format!("cannot start the runtime thread of backups-blocking: {err}"),
    )
}

/// A task on the runtime thread, as a future any executor can wait on. Dropping it cancels the
/// task; a panic in the task is resumed where the task is awaited.
pub(crate) struct Task<T>(tokio::task::JoinHandle<T>);

impl<T> Future for Task<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(match ready!(Pin::new(&mut self.0).poll(cx)) {
            Ok(output) => Ok(output),
            Err(err) if err.is_panic() => resume_unwind(err.into_panic()),
            Err(err) => Err(Error::transport(
                TransportKind::Io,
                format!("the runtime thread of backups-blocking dropped the call: {err}"),
            )),
        })
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// [`HyperTransport`] run on a Tokio runtime of its own thread: a [`Transport`] and
/// [`SocketTransport`] that any thread and any executor can use, with no Tokio runtime of
/// their own. It is what [`Client`](crate::Client) sends through.
///
/// Each request is sent by a task on the runtime thread; the response head comes back through a
/// channel, and a task on that thread reads the body (or the socket) a few frames ahead of the
/// caller and hands them over through another. So everything hyper does in the background
/// happens on a runtime that keeps running between calls: pooled connections stay alive and
/// are dropped when idle too long, timeouts fire, a dropped socket sends its close frame. The
/// hyper transport's connect, request and idle timeouts, retries, limits and tracing are those
/// of the wrapped transport, unchanged.
///
/// Dropping a body or socket stops its reader task at once (its connection is dropped, or the
/// socket closed), as with hyper itself. Cloning shares the thread; dropping the last clone
/// stops the runtime, dropping any connection still open, and waits for the thread to end.
///
/// ```
/// use backups_blocking::ThreadTransport;
/// use backups_hyper::HyperTransport;
/// use backups_proto::{Client, Endpoint};
///
/// // A client over it works under any executor, or none at all: `backups_blocking::Client`
/// // waits on one with a parked thread.
/// let transport = ThreadTransport::new(HyperTransport::default())?;
/// let client = Client::new(transport, Endpoint::new("http://127.0.0.1:39300".parse()?));
/// # let _ = client;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ThreadTransport {
    runtime: Arc<RuntimeThread>,
    hyper: HyperTransport,
}

impl fmt::Debug for ThreadTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadTransport")
            .field("runtime", &self.runtime)
            .field("hyper", &self.hyper)
            .finish()
    }
}

impl ThreadTransport {
    /// Starts a runtime thread for `hyper`.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] when the thread or its runtime cannot be started.
    pub fn new(hyper: HyperTransport) -> Result<Self, Error> {
        Ok(Self::on(RuntimeThread::start()?, hyper))
    }

    pub(crate) fn on(runtime: Arc<RuntimeThread>, hyper: HyperTransport) -> Self {
        Self { runtime, hyper }
    }

    /// The wrapped hyper transport (its timeouts, retry policy and limits).
    pub fn hyper(&self) -> &HyperTransport {
        &self.hyper
    }
}

impl Transport for ThreadTransport {
    type Body = ChannelBody;

    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<ChannelBody>, Error>> + Send {
        let hyper = self.hyper.clone();
        let task = self.runtime.spawn(async move {
            let (parts, body) = hyper.send(request).await?.into_parts();
            let upper = body.size_hint().upper();
            let (frames, rx) = mpsc::channel(READ_AHEAD);
            tokio::spawn(forward_body(body, frames));
            Ok(Response::from_parts(parts, ChannelBody { rx, upper }))
        });
        async move { task.await? }
    }

    fn sleep(&self, duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        // The timer is made on the runtime thread: Tokio's timers need its context.
        let task = self
            .runtime
            .spawn(async move { tokio::time::sleep(duration).await });
        Some(async move {
            let _ = task.await;
        })
    }
}

impl SocketTransport for ThreadTransport {
    type Socket = ChannelSocket;

    fn connect(
        &self,
        request: Request<Bytes>,
        first: Option<String>,
    ) -> impl Future<Output = Result<Handshake<ChannelSocket>, Error>> + Send {
        let hyper = self.hyper.clone();
        let task = self.runtime.spawn(async move {
            Ok(match hyper.connect(request, first).await? {
                Handshake::Upgraded(socket) => {
                    let (messages, rx) = mpsc::channel(READ_AHEAD);
                    tokio::spawn(forward_socket(socket, messages));
                    Handshake::Upgraded(ChannelSocket { rx })
                }
                Handshake::Refused(response) => Handshake::Refused(response),
            })
        });
        async move { task.await? }
    }
}

/// Reads `body` on the runtime thread into `frames`, until its end, an error, or the caller
/// dropping the [`ChannelBody`].
async fn forward_body(mut body: HyperBody, frames: mpsc::Sender<Result<Frame<Bytes>, Error>>) {
    loop {
        let frame = tokio::select! {
            biased;
            () = frames.closed() => return,
            frame = body.frame() => frame,
        };
        let Some(frame) = frame else { return };
        let failed = frame.is_err();
        if frames.send(frame).await.is_err() || failed {
            return;
        }
    }
}

/// Reads `socket` on the runtime thread into `messages`, until its end, an error, or the caller
/// dropping the [`ChannelSocket`]; the socket is dropped here, on the runtime, so that its
/// close frame goes out.
async fn forward_socket(mut socket: Socket, messages: mpsc::Sender<Result<Message, Error>>) {
    loop {
        let message = tokio::select! {
            biased;
            () = messages.closed() => return,
            message = poll_fn(|cx| Pin::new(&mut socket).poll_next(cx)) => message,
        };
        let Some(message) = message else { return };
        let failed = message.is_err();
        if messages.send(message).await.is_err() || failed {
            return;
        }
    }
}

/// The body of a response received through a [`ThreadTransport`]: the frames that the runtime
/// thread reads from hyper's body, with its errors (timeouts included) as they were.
pub struct ChannelBody {
    rx: mpsc::Receiver<Result<Frame<Bytes>, Error>>,
    /// The size hyper announced (`Content-Length`), an upper bound on what is left.
    upper: Option<u64>,
}

impl fmt::Debug for ChannelBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelBody")
            .field("upper", &self.upper)
            .finish_non_exhaustive()
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        self.rx.poll_recv(cx)
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = SizeHint::new();
        if let Some(upper) = self.upper {
            hint.set_upper(upper);
        }
        hint
    }
}

/// A WebSocket opened through a [`ThreadTransport`]: the messages that the runtime thread reads
/// from the hyper socket. Dropping it closes the socket (with a close frame) on that thread.
pub struct ChannelSocket {
    rx: mpsc::Receiver<Result<Message, Error>>,
}

impl fmt::Debug for ChannelSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelSocket").finish_non_exhaustive()
    }
}

impl Stream for ChannelSocket {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
