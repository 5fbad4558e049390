//! [`UreqTransport`]: the SDK's [`Transport`] over ureq, a synchronous HTTP/1.1 client.

use core::fmt;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use ureq::config::AutoHeaderValue;

use backups_proto::trace::CallTrace;
use backups_proto::{Attempt, Error, Limits, Operation, Timeouts, Transport};

use crate::background;
use crate::body::UreqBody;
use crate::errors::from_call_error;

/// How long an unused pooled connection is kept: 90 s, as in `backups-hyper`.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The [`Transport`] and [`SocketTransport`](backups_proto::SocketTransport) of the blocking
/// client: HTTP/1.1 over [ureq](https://docs.rs/ureq) 3 and WebSockets over
/// [tungstenite](https://docs.rs/tungstenite), with no async runtime.
///
/// **Its futures block the thread that polls them**: the call is made when the future is first
/// polled, and a body's frames are read as they are polled. That is what the blocking
/// [`Client`](crate::Client) wants (its executor is the waiting thread), and what makes a call as
/// cheap as ureq's own. Under an async runtime, use `backups-hyper` instead.
///
/// - A plain call (list, get, delete, a status, a cancel) is bounded by the request timeout
///   ([`TimeoutKind::Request`](backups_proto::TimeoutKind::Request)) in each of its phases:
///   sending the request, waiting for the head, reading the body. (Not as one total: ureq
///   bounds a total by looking the host name up on a thread of its own, for every call.)
/// - A progress stream's head is bounded by the request timeout and by the idle timeout, and its
///   body by the idle timeout between two reads
///   ([`TimeoutKind::Idle`](backups_proto::TimeoutKind::Idle)).
/// - A plain create or restore ([`Operation::runs_long`]) is bounded by nothing but the connect
///   timeout: it answers when its work is done. It runs on a thread of its own, so that the
///   client can watch it by its status meanwhile (the only calls whose futures do not block).
/// - A refused connection is [`Error::Transport`] of kind
///   [`Connect`](backups_proto::TransportKind::Connect) (ureq's connect timeout:
///   [`TimeoutKind::Connect`](backups_proto::TimeoutKind::Connect)), so that the client retries
///   idempotent calls; a failure after the connection was made is kind
///   [`Io`](backups_proto::TransportKind::Io).
/// - [`Transport::sleep`] is a timer on a thread of its own (`futures-timer`), so that the client
///   can retry, follow a broken stream and watch a plain create or restore.
/// - Keep-alive connections are pooled by ureq's agent; cloning the transport shares the pool.
///
/// No proxy is used, whatever the environment says (`HTTP_PROXY`): Pieces OS runs on this
/// machine. Each call is a `tracing` span named `backups_call`, as with `backups-hyper`'s transport (its
/// fields: operation, method, path, attempt, status, duration_ms, error), closed when the body
/// ends. Each request is sent once, exactly as built (no redirects followed, no header added but
/// `Host` and `Content-Length`): retries are the client's. Plain `http` only: Pieces OS listens
/// on localhost without TLS.
///
/// ```
/// use backups_blocking::UreqTransport;
/// use backups_proto::{Client, Endpoint, Timeouts};
///
/// let transport = UreqTransport::new(Timeouts::default());
/// let client = Client::new(transport, Endpoint::new("http://127.0.0.1:39300".parse()?));
/// # let _ = client;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    timeouts: Timeouts,
    /// What the transport bounds itself: WebSocket messages and a refused handshake's body.
    /// HTTP bodies are bounded by the client, which reads them.
    limits: Limits,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport")
            .field("timeouts", &self.timeouts)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new(Timeouts::default())
    }
}

impl UreqTransport {
    /// A transport with these timeouts, the default pool and the default [`Limits`].
    pub fn new(timeouts: Timeouts) -> Self {
        Self::with_pool(timeouts, DEFAULT_POOL_IDLE_TIMEOUT, usize::MAX)
    }

    /// A transport whose pool keeps an unused connection for `idle_timeout`, and at most
    /// `max_idle` of them.
    pub fn with_pool(timeouts: Timeouts, idle_timeout: Duration, max_idle: usize) -> Self {
        // The request exactly as built: no status turned into an error, no redirect followed,
        // no User-Agent, Accept or Accept-Encoding of ureq's own. Set on the agent, not per
        // call: a call whose User-Agent setting differs from the agent's gets no pooled
        // connection.
        let agent = ureq::Agent::config_builder()
            // Pieces OS is on this machine: a proxy from the environment (HTTP_PROXY without a
            // NO_PROXY for it) would send its calls elsewhere. backups-hyper uses none either.
            .proxy(None)
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(AutoHeaderValue::None)
            .accept(AutoHeaderValue::None)
            .accept_encoding(AutoHeaderValue::None)
            .timeout_connect(Some(timeouts.connect()))
            .max_idle_age(idle_timeout)
            .max_idle_connections(max_idle)
            .max_idle_connections_per_host(max_idle)
            .build()
            .new_agent();
        Self {
            agent,
            timeouts,
            limits: Limits::default(),
        }
    }

    /// The same transport with other [`Limits`] on what it reads by itself: one WebSocket
    /// message (`max_frame`, [`Error::FrameTooLarge`]) and the body of a refused WebSocket
    /// handshake (`max_body`). [`ClientBuilder::build`](crate::ClientBuilder::build) gives it the
    /// client's.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The limits the transport applies itself.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// ureq's agent: its connection pool.
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// One HTTP call, made on this thread; bounded as the type's docs say.
    fn call(
        agent: &ureq::Agent,
        timeouts: Timeouts,
        request: Request<Bytes>,
        operation: Option<Operation>,
        kind: CallKind,
    ) -> Result<Response<UreqBody>, Error> {
        let attempt = request.extensions().get::<Attempt>().map_or(1, |a| a.0);
        let mut trace = CallTrace::new(operation, attempt, request.method(), request.uri().path());
        let answered = trace
            .span()
            .in_scope(|| Self::exchange(agent, timeouts, request, operation, kind));
        match answered {
            Ok(response) => {
                trace.record_head(response.status());
                let (head, body) = response.into_parts();
                let streamed = kind == CallKind::Streamed;
                Ok(Response::from_parts(
                    head,
                    UreqBody::new(body, operation, streamed, trace),
                ))
            }
            Err(error) => {
                trace.finish(Err(&error));
                Err(error)
            }
        }
    }

    /// Sends the request and reads the head, with the timeouts of its kind of call.
    fn exchange(
        agent: &ureq::Agent,
        timeouts: Timeouts,
        request: Request<Bytes>,
        operation: Option<Operation>,
        kind: CallKind,
    ) -> Result<Response<ureq::Body>, Error> {
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, body.as_ref());
        let configured = agent.configure_request(request);
        let configured = match kind {
            CallKind::Long => configured,
            CallKind::Streamed => configured
                .timeout_recv_response(Some(timeouts.request()))
                .timeout_per_read(Some(timeouts.idle())),
            // Each phase rather than ureq's total (`timeout_global`): a total bounds the name
            // lookup too, which ureq then runs on a thread of its own for every call (about
            // 18 µs, most of a local call); the phases need no thread.
            CallKind::Plain => configured
                .timeout_send_request(Some(timeouts.request()))
                .timeout_recv_response(Some(timeouts.request()))
                .timeout_recv_body(Some(timeouts.request())),
        };
        agent
            .run(configured.build())
            .map_err(|err| from_call_error(err, operation))
    }
}

/// How a call is bounded and where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallKind {
    /// A call answered whole, bounded by the request timeout; made on the polling thread.
    Plain,
    /// A progress stream over HTTP: its head by the request timeout, its reads by the idle
    /// timeout.
    Streamed,
    /// A plain create or restore, answered when its work is done: unbounded, on a thread of its
    /// own, watched by the client meanwhile.
    Long,
}

impl CallKind {
    fn of(operation: Option<Operation>) -> Self {
        match operation {
            Some(op) if op.runs_long() && !op.is_streamed() => Self::Long,
            Some(op) if op.is_streamed() && !op.is_websocket() => Self::Streamed,
            _ => Self::Plain,
        }
    }
}

impl Transport for UreqTransport {
    type Body = UreqBody;

    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<UreqBody>, Error>> + Send {
        let operation = request.extensions().get::<Operation>().copied();
        let agent = self.agent.clone();
        let timeouts = self.timeouts;
        let kind = CallKind::of(operation);
        async move {
            if kind == CallKind::Long {
                background::run(move || Self::call(&agent, timeouts, request, operation, kind))
                    .await
            } else {
                Self::call(&agent, timeouts, request, operation, kind)
            }
        }
    }

    fn sleep(&self, duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        Some(futures_timer::Delay::new(duration))
    }
}
