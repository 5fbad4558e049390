//! [`HyperTransport`]: the SDK's [`Transport`] over hyper 1 and hyper-util's pooled client.

use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use pin_project_lite::pin_project;
use tokio::time::Instant;
use tokio::time::Sleep;
use tracing::Instrument;
use tracing::instrument::Instrumented;

use backups_proto::{
    Attempt, Error, Limits, Operation, TimeoutKind, Timeouts, Transport, TransportKind,
};

use crate::body::{HyperBody, after};
use crate::errors::from_client_error;
use backups_proto::trace::CallTrace;

/// TCP keep-alive: the first probe after 30 s of silence, then one every 10 s, and the
/// connection is dropped after 3 unanswered probes.
const TCP_KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
const TCP_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const TCP_KEEPALIVE_RETRIES: u32 = 3;

/// How long an unused pooled connection is kept: 90 s.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The default [`Transport`]: HTTP/1.1 over hyper 1, with a pool of keep-alive connections.
///
/// - Connections are pooled and reused (HTTP keep-alive, TCP keep-alive, `TCP_NODELAY`).
/// - The headers phase is bound by the request timeout; opening a connection by the connect
///   timeout. A plain call's body is bound by the same request deadline, a progress stream's by
///   the idle timeout between chunks (see [`HyperBody`]).
/// - A refused connection is [`Error::Transport`] of kind
///   [`Connect`](backups_proto::TransportKind::Connect); anything failing after the connection
///   was made is kind [`Io`](backups_proto::TransportKind::Io).
/// - It sends each request once: retries are the client's ([`RetryPolicy`](backups_proto::RetryPolicy), given to
///   [`ClientBuilder::retry`](crate::ClientBuilder::retry)); a retry's span records its
///   [`Attempt`].
/// - Each call is a `tracing` span named `backups_call` (see the crate docs).
///
/// Plain `http` only: Pieces OS listens on localhost without TLS.
///
/// Creating one needs no runtime; sending needs a Tokio runtime with the time and IO drivers
/// enabled (`#[tokio::main]` has both). Cloning is cheap and shares the pool.
#[derive(Clone)]
pub struct HyperTransport {
    client: HyperClient<HttpConnector, Full<Bytes>>,
    timeouts: Timeouts,
    /// What the transport itself bounds: WebSocket messages and a refused handshake's body.
    /// HTTP bodies are bounded by the client, which reads them.
    limits: Limits,
}

impl Default for HyperTransport {
    fn default() -> Self {
        Self::new(Timeouts::default())
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("timeouts", &self.timeouts)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport with these timeouts and the default pool settings.
    pub fn new(timeouts: Timeouts) -> Self {
        Self::with_pool(timeouts, DEFAULT_POOL_IDLE_TIMEOUT, usize::MAX)
    }

    /// A transport with explicit pool settings: how long an unused connection is kept, and how
    /// many unused connections are kept at most.
    pub fn with_pool(
        timeouts: Timeouts,
        pool_idle_timeout: Duration,
        pool_max_idle: usize,
    ) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeouts.connect()));
        // Requests are small and written at once; Nagle's delay only adds latency.
        connector.set_nodelay(true);
        // Keep-alive probes find a peer that vanished without closing the connection (a machine
        // asleep, a network gone) within about a minute, even during a long plain restore
        // that sends nothing until it is done.
        connector.set_keepalive(Some(TCP_KEEPALIVE_IDLE));
        connector.set_keepalive_interval(Some(TCP_KEEPALIVE_INTERVAL));
        connector.set_keepalive_retries(Some(TCP_KEEPALIVE_RETRIES));
        let client = HyperClient::builder(TokioExecutor::new())
            // The timer lets the pool drop connections that have been idle too long.
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(pool_idle_timeout)
            .pool_max_idle_per_host(pool_max_idle)
            // A request queued on a pooled connection that turns out to be closed, before any of
            // it was written, is resent on a new one; it is hyper-util's default, spelled out
            // because the never-resend-a-POST rule depends on "before any of it was written".
            .retry_canceled_requests(true)
            .build(connector);
        Self {
            client,
            timeouts,
            limits: Limits::default(),
        }
    }

    /// The same transport with other [`Limits`] on what it reads by itself: the size of one
    /// WebSocket message (`max_frame`, [`Error::FrameTooLarge`]) and of the body of a refused
    /// WebSocket handshake (`max_body`). HTTP bodies are read, and bounded, by the client.
    ///
    /// [`ClientBuilder::build`](crate::ClientBuilder::build) sets the client's limits here too;
    /// a transport made by hand for a [`backups_proto::Client`] with other limits should be
    /// given the same ones.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits the transport applies itself (see [`with_limits`](Self::with_limits)).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// One call. The work before the first poll is done here, so that the future the caller
    /// holds keeps only what lives across an await: it stays small, and moving it costs little.
    pub(crate) fn call(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<HyperBody>, Error>> + Send + '_ {
        let operation = request.extensions().get::<Operation>().copied();
        let attempt = request.extensions().get::<Attempt>().map_or(1, |a| a.0);
        let trace = CallTrace::new(operation, attempt, request.method(), request.uri().path());
        // A plain create or restore answers only when its work is done, which may take longer
        // than any request timeout: the client watches it by its status instead.
        let unbounded = operation.is_some_and(|op| op.runs_long() && !op.is_streamed());
        let deadline = if unbounded {
            after(Duration::MAX)
        } else {
            after(self.timeouts.request())
        };
        CallFuture {
            sent: self
                .send_once(operation, request)
                .instrument(trace.span().clone()),
            timer: None,
            deadline,
            idle: self.timeouts.idle(),
            operation,
            trace: Some(trace),
        }
    }

    /// Sends the request once.
    fn send_once(
        &self,
        operation: Option<Operation>,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Incoming>, Error>> + Send + '_ {
        // Kept for error messages; sharing the URI's bytes, it copies nothing.
        let authority = request.uri().authority().cloned();
        let sent = self.client.request(request.map(Full::new));
        async move {
            sent.await
                .map_err(|error| client_error(error, authority.as_ref(), operation))
        }
    }
}

pin_project! {
    /// The future of one call: the request sent, bound by the request deadline, then the response
    /// with its body wrapped in a [`HyperBody`].
    struct CallFuture<F> {
        #[pin]
        sent: Instrumented<F>,
        // Armed the first time the answer has to be waited for, as in `HyperBody`: creating the
        // future needs no runtime.
        #[pin]
        timer: Option<Sleep>,
        deadline: Instant,
        idle: Duration,
        operation: Option<Operation>,
        // Taken when the future completes.
        trace: Option<CallTrace>,
    }
}

impl<F> Future for CallFuture<F>
where
    F: Future<Output = Result<Response<Incoming>, Error>>,
{
    type Output = Result<Response<HyperBody>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // The call is polled before the timer, so an answer that is there always wins.
        let result = match this.sent.poll(cx) {
            Poll::Ready(result) => result,
            Poll::Pending => {
                if this.timer.is_none() {
                    this.timer
                        .set(Some(tokio::time::sleep_until(*this.deadline)));
                }
                match this.timer.as_pin_mut().map(|timer| timer.poll(cx)) {
                    Some(Poll::Ready(())) => {
                        Err(Error::timeout(TimeoutKind::Request).with_operation(*this.operation))
                    }
                    _ => return Poll::Pending,
                }
            }
        };
        let Some(mut trace) = this.trace.take() else {
            return Poll::Ready(Err(Error::transport(
                TransportKind::Io,
                "the call was polled after it completed",
            )));
        };
        let response = match result {
            Ok(answer) => answer,
            Err(error) => {
                trace.finish(Err(&error));
                return Poll::Ready(Err(error));
            }
        };
        trace.record_head(response.status());
        let operation = *this.operation;
        let (head, incoming) = response.into_parts();
        // A WebSocket handshake's body is only read when it was refused: an error text, read
        // whole like a plain call's.
        let body = if operation.is_some_and(|op| op.is_streamed() && !op.is_websocket()) {
            // A stream may legitimately last longer than any deadline; only silence is an error.
            HyperBody::with_idle_timeout(incoming, operation, *this.idle, trace)
        } else {
            HyperBody::with_deadline(incoming, operation, *this.deadline, trace)
        };
        Poll::Ready(Ok(Response::from_parts(head, body)))
    }
}

impl Transport for HyperTransport {
    type Body = HyperBody;

    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<HyperBody>, Error>> + Send {
        self.call(request)
    }

    fn sleep(&self, duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        Some(tokio::time::sleep(duration))
    }
}

/// The SDK's error for a failed attempt. Only a failure needs the target as text.
fn client_error(
    error: hyper_util::client::legacy::Error,
    authority: Option<&http::uri::Authority>,
    operation: Option<Operation>,
) -> Error {
    from_client_error(error, authority.map_or("", |a| a.as_str()), operation)
}
