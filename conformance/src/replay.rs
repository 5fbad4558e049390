//! [`ReplayTransport`]: a [`Transport`] that plays a case back, checking every request.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};

use backups_proto::{
    Error, Handshake, Message, Operation, SocketTransport, TimeoutKind, Transport, TransportKind,
};
use futures_util::stream::Stream;

use crate::case::{Case, Exchange, RecordedResponse, ReplayMessage, SocketScript};
use crate::matching::{Mismatch, SeenMessage, SeenRequest, differences, message_difference};

/// A transport that answers with a case's recorded responses, in order, after checking that each
/// request is the recorded one.
///
/// - Requests must come in the recorded order; each is checked for method, path and query, the
///   recorded headers (a subset; `User-Agent` and other client-specific headers are relaxed
///   unless the case requires them), forbidden headers, and the body (JSON compared as JSON).
///   It must also carry its [`Operation`] in its extensions.
/// - A request that does not match gets an [`Error::Transport`] whose source is the [`Mismatch`]
///   (its `Display` is a readable diff), and the mismatch is remembered.
/// - The response body streams in the recorded chunks, one frame each, with a `Pending` poll
///   before each so that a reader that assumes a chunk is always ready is caught.
/// - [`finish`](Self::finish) reports mismatches and unused exchanges. If it is never called, the
///   last clone to be dropped panics with that report: a forgotten check cannot pass silently.
///
/// ```
/// use backups_conformance::{Case, ReplayTransport};
/// use backups_proto::{Client, Endpoint};
///
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let case = Case::load("exchanges/list_success.har".as_ref())?;
/// let replay = ReplayTransport::new(&case);
/// let client = Client::new(replay.clone(), Endpoint::default());
/// let backups = block_on(client.list())?;
/// assert_eq!(backups.len(), 2);
/// replay.finish()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReplayTransport {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    case: String,
    state: Mutex<State>,
    /// How many replayed bodies are still being read: a wait does not end while one is, see
    /// [`ReplayTransport`]'s `sleep`.
    in_flight: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct State {
    exchanges: Vec<Exchange>,
    next: usize,
    mismatches: Vec<Mismatch>,
    finished: bool,
}

/// What [`ReplayTransport::finish`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayError {
    /// The case.
    pub case: String,
    /// The requests that did not match.
    pub mismatches: Vec<Mismatch>,
    /// The exchanges never requested, as `operation METHOD path`.
    pub unused: Vec<String>,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "replay of case {} failed:", self.case)?;
        for mismatch in &self.mismatches {
            write!(f, "  {mismatch}")?;
        }
        for unused in &self.unused {
            writeln!(f, "  recorded exchange never requested: {unused}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ReplayError {}

impl ReplayTransport {
    /// A transport replaying `case`.
    pub fn new(case: &Case) -> Self {
        Self::from_exchanges(case.name.clone(), case.served())
    }

    /// A transport replaying these exchanges, under a name used in reports.
    pub fn from_exchanges(case: impl Into<String>, exchanges: Vec<Exchange>) -> Self {
        Self {
            shared: Arc::new(Shared {
                case: case.into(),
                in_flight: Arc::new(AtomicUsize::new(0)),
                state: Mutex::new(State {
                    exchanges,
                    next: 0,
                    mismatches: Vec::new(),
                    finished: false,
                }),
            }),
        }
    }

    /// Checks that every exchange was requested and matched; after this, dropping does not panic.
    pub fn finish(&self) -> Result<(), ReplayError> {
        let mut state = self.shared.lock();
        state.finished = true;
        self.shared.report(&state)
    }

    /// How many exchanges have been requested so far.
    pub fn used(&self) -> usize {
        self.shared.lock().next
    }

    fn answer(&self, request: &Request<Bytes>) -> Result<RecordedResponse, Mismatch> {
        self.take(request, None).map(|exchange| exchange.response)
    }

    /// Uses up the next exchange for `request` (and, for a channel, the client's `first`
    /// message), returning it if everything matched.
    fn take(
        &self,
        request: &Request<Bytes>,
        first: Option<Option<&str>>,
    ) -> Result<Exchange, Mismatch> {
        let mut state = self.shared.lock();
        let index = state.next;
        let Some(exchange) = state.exchanges.get(index) else {
            let mismatch = Mismatch {
                case: self.shared.case.clone(),
                exchange: index,
                differences: vec![format!(
                    "unexpected request {} {}: every recorded exchange has been used",
                    request.method(),
                    request.uri()
                )],
            };
            state.mismatches.push(mismatch.clone());
            return Err(mismatch);
        };
        let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let seen = SeenRequest {
            method: request.method(),
            path_and_query,
            headers: request.headers(),
            body: request.body(),
        };
        let mut found = differences(&exchange.request, &seen);
        let expected_op = exchange.call.operation();
        let op = request.extensions().get::<Operation>();
        if op != Some(&expected_op) {
            found.push(format!(
                "extensions: expected Operation::{expected_op:?}, got {op:?}"
            ));
        }
        if let Some(first) = first {
            // A refused handshake upgrades nothing, so nothing can have been sent.
            let upgraded = exchange.response.status == http::StatusCode::SWITCHING_PROTOCOLS;
            let expected = exchange.socket.as_ref().and_then(SocketScript::first_sent);
            let seen = first.filter(|_| upgraded).map(SeenMessage::Text);
            found.extend(message_difference(expected, seen));
        }
        let exchange = exchange.clone();
        // The exchange is used up either way: the next request is compared with the next one.
        state.next += 1;
        if found.is_empty() {
            Ok(exchange)
        } else {
            let mismatch = Mismatch {
                case: self.shared.case.clone(),
                exchange: index,
                differences: found,
            };
            state.mismatches.push(mismatch.clone());
            Err(mismatch)
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while the lock was held leaves the state usable for a report.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn report(&self, state: &State) -> Result<(), ReplayError> {
        let unused: Vec<String> = state.exchanges[state.next.min(state.exchanges.len())..]
            .iter()
            .map(|exchange| {
                format!(
                    "{} {} {}",
                    exchange.call.operation(),
                    exchange.request.method,
                    exchange.request.path_and_query
                )
            })
            .collect();
        if state.mismatches.is_empty() && unused.is_empty() {
            Ok(())
        } else {
            Err(ReplayError {
                case: self.case.clone(),
                mismatches: state.mismatches.clone(),
                unused,
            })
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let state = self.lock();
        if state.finished {
            return;
        }
        let report = self.report(&state);
        drop(state);
        if let Err(report) = report {
            panic!("{report}(ReplayTransport::finish was never called)");
        }
    }
}

impl Transport for ReplayTransport {
    type Body = ReplayBody;

    async fn send(&self, request: Request<Bytes>) -> Result<Response<ReplayBody>, Error> {
        let recorded = self
            .answer(&request)
            .map_err(|mismatch| Error::transport(TransportKind::Io, mismatch))?;
        let mut response = response_of(recorded, op_of(&request));
        response.body_mut().in_flight = Some(InFlight::new(&self.shared.in_flight));
        Ok(response)
    }

    /// A replay has no time: a wait ends as soon as no replayed body is being read. Waiting
    /// between two polls of a status after a stream broke is instant; a wait made alongside a
    /// call (a plain restore's status watch) ends only after the call's answer was read, as it
    /// would on a server that answers at once.
    fn sleep(&self, _duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        let in_flight = self.shared.in_flight.clone();
        Some(std::future::poll_fn(move |cx| {
            if in_flight.load(Ordering::Acquire) == 0 {
                Poll::Ready(())
            } else {
                // The body being read wakes its own task at each chunk; this wait is polled
                // again with it.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }))
    }
}

/// The WebSocket channels: the handshake is checked like an HTTP request, and so is the first
/// message the client sends; the socket yields the recorded messages.
impl SocketTransport for ReplayTransport {
    type Socket = ReplaySocket;

    async fn connect(
        &self,
        request: Request<Bytes>,
        first: Option<String>,
    ) -> Result<Handshake<ReplaySocket>, Error> {
        let exchange = self
            .take(&request, Some(first.as_deref()))
            .map_err(|mismatch| Error::transport(TransportKind::Io, mismatch))?;
        let operation = op_of(&request);
        let recorded = exchange.response;
        if recorded.status != http::StatusCode::SWITCHING_PROTOCOLS {
            let (parts, _) = response_of(recorded.clone(), operation).into_parts();
            return Ok(Handshake::Refused(Response::from_parts(
                parts,
                recorded.body(),
            )));
        }
        let script = exchange.socket.unwrap_or_default();
        Ok(Handshake::Upgraded(ReplaySocket::new(&script, operation)))
    }
}

/// The socket of a replayed channel: the recorded messages the server sends, one per poll with a
/// `Pending` poll before each, then how the recording ends:
/// - after a close message, nothing (`None`);
/// - after `_stall`, [`Error::Timeout`] (idle): the replay has no clock, so it stands for a
///   transport whose idle timeout has run out on the silent server;
/// - with neither, [`Error::Truncated`]: the connection dropped without a close frame.
#[derive(Debug)]
pub struct ReplaySocket {
    items: VecDeque<Result<Message, Error>>,
    stall: bool,
}

impl ReplaySocket {
    /// The socket of `script` on `operation`'s channel.
    pub fn new(script: &SocketScript, operation: Operation) -> Self {
        let mut items: VecDeque<Result<Message, Error>> = script
            .received()
            .map(|message| {
                Ok(match message {
                    ReplayMessage::Text(text) => Message::Text(Bytes::from(text.clone())),
                    ReplayMessage::Binary(bytes) => Message::Binary(bytes.clone()),
                    ReplayMessage::Close(code) => Message::Close(*code),
                })
            })
            .collect();
        if script.stall {
            items.push_back(Err(Error::Timeout {
                operation: Some(operation),
                kind: TimeoutKind::Idle,
            }));
        } else if !script.closes() {
            items.push_back(Err(Error::Truncated {
                operation,
                detail: "the connection closed without a close frame (recorded)".into(),
            }));
        }
        Self { items, stall: true }
    }
}

impl Stream for ReplaySocket {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.stall && !self.items.is_empty() {
            self.stall = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.stall = true;
        Poll::Ready(self.items.pop_front())
    }
}

fn op_of(request: &Request<Bytes>) -> Operation {
    request
        .extensions()
        .get::<Operation>()
        .copied()
        .unwrap_or(Operation::List)
}

/// The `http::Response` a recorded response replays as, for a call of `operation`.
pub fn response_of(recorded: RecordedResponse, operation: Operation) -> Response<ReplayBody> {
    let body = ReplayBody::new(recorded.chunks, recorded.abort, operation);
    let mut response = Response::new(body);
    *response.status_mut() = recorded.status;
    for (name, value) in recorded.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// A response body delivering recorded chunks one frame at a time.
#[derive(Debug)]
pub struct ReplayBody {
    chunks: VecDeque<Bytes>,
    abort: bool,
    operation: Operation,
    /// Whether the next poll yields `Pending` before handing out a chunk.
    stall: bool,
    /// Counts the body as being read until it is dropped.
    in_flight: Option<InFlight>,
}

/// One body being read, counted in [`Shared::in_flight`] from its making to its drop.
#[derive(Debug)]
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ReplayBody {
    /// A body of these chunks; with `abort`, it fails after the last one as a dropped connection
    /// does: with [`Error::Truncated`], as the transport contract asks of a body cut short.
    pub fn new(chunks: Vec<Bytes>, abort: bool, operation: Operation) -> Self {
        Self {
            chunks: chunks.into(),
            abort,
            operation,
            stall: true,
            in_flight: None,
        }
    }
}

impl Body for ReplayBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if self.stall && (!self.chunks.is_empty() || self.abort) {
            self.stall = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.stall = true;
        if let Some(chunk) = self.chunks.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if std::mem::take(&mut self.abort) {
            return Poll::Ready(Some(Err(Error::Truncated {
                operation: self.operation,
                detail: "the connection closed before the body was complete (recorded _abort)"
                    .into(),
            })));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && !self.abort
    }

    fn size_hint(&self) -> SizeHint {
        let len: usize = self.chunks.iter().map(Bytes::len).sum();
        if self.abort {
            SizeHint::default()
        } else {
            SizeHint::with_exact(len as u64)
        }
    }
}
