//! [`ReplayTransport`]: a [`Transport`] that plays a case back, checking every request.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};

use backups_proto::{Error, Operation, Transport, TransportKind};

use crate::case::{Case, Exchange, RecordedResponse};
use crate::matching::{Mismatch, SeenRequest, differences};

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
        Self::from_exchanges(case.name.clone(), case.exchanges.clone())
    }

    /// A transport replaying these exchanges, under a name used in reports.
    pub fn from_exchanges(case: impl Into<String>, exchanges: Vec<Exchange>) -> Self {
        Self {
            shared: Arc::new(Shared {
                case: case.into(),
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
        let response = exchange.response.clone();
        // The exchange is used up either way: the next request is compared with the next one.
        state.next += 1;
        if found.is_empty() {
            Ok(response)
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
        Ok(response_of(recorded, op_of(&request)))
    }

    /// A replay has no time: waiting between two polls of a status is instant.
    fn sleep(&self, _duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        Some(std::future::ready(()))
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
