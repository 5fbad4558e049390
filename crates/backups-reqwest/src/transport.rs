//! [`ReqwestTransport`]: the SDK's [`Transport`] over a caller's [`reqwest::Client`].

use core::fmt;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};

use backups_proto::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, Error, Limits, Operation, TimeoutKind, Transport,
};

use futures_util::future::Either;

use crate::body::{FAR_AWAY, ReqwestBody, after};
use crate::direct::{self, has_dot_segment};
use crate::errors::from_send_error;

/// A [`Transport`] and [`SocketTransport`](backups_proto::SocketTransport) on a
/// [`reqwest::Client`]: the caller's proxies, TLS settings, default headers and connection pool,
/// with the SDK's timeouts and limits enforced on top.
///
/// - A plain call (list, get, delete, a status, a cancel) is bounded, head and body, by the
///   request timeout ([`TimeoutKind::Request`]).
/// - A progress stream's head is bounded by the request timeout, its body only by the idle
///   timeout between two chunks ([`TimeoutKind::Idle`]).
/// - A plain create or restore is bounded by nothing here: it answers when its work is done,
///   and the client watches it by its status. The client's own total timeout
///   (`ClientBuilder::timeout`) is lifted for these calls and for progress streams, so that it
///   cannot cut them; it still applies to the other calls. A client-wide `read_timeout` cannot
///   be lifted per request: leave it unset, or longer than the longest silence of a restore.
/// - A refused connection is [`Error::Transport`] of kind
///   [`Connect`](backups_proto::TransportKind::Connect) (reqwest's `connect_timeout`:
///   [`TimeoutKind::Connect`]), so the client's retries of idempotent calls work; a failure after
///   the connection was made is kind [`Io`](backups_proto::TransportKind::Io).
/// - [`Transport::sleep`] is tokio's, so that the client can retry, follow a broken stream and
///   watch a plain create or restore.
///
/// Each request is sent once: retries are the client's. Sending needs a Tokio runtime with the
/// time and IO drivers, as reqwest does. Cloning is cheap and shares the client's pool.
///
/// ```no_run
/// use std::time::Duration;
/// use backups_proto::{Client, Endpoint};
/// use backups_reqwest::ReqwestTransport;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let http = reqwest::Client::new(); // the application's own client
/// let transport = ReqwestTransport::new(http).with_idle_timeout(Duration::from_secs(20));
/// let client = Client::new(transport, Endpoint::new("http://127.0.0.1:39300".parse()?));
/// println!("{} backups", client.list().await?.len());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    request_timeout: Duration,
    idle_timeout: Duration,
    /// What the transport bounds itself: WebSocket messages and a refused handshake's body.
    /// HTTP bodies are bounded by the client, which reads them.
    limits: Limits,
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("request_timeout", &self.request_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl ReqwestTransport {
    /// A transport on `client`, with the default request and idle timeouts and limits.
    pub fn new(client: reqwest::Client) -> Self {
        Self {
            client,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            limits: Limits::default(),
        }
    }

    /// The same transport with another request timeout ([`TimeoutKind::Request`]): a plain
    /// call's head and body, a stream's head, a WebSocket handshake.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The same transport with another idle timeout ([`TimeoutKind::Idle`]): the longest silence
    /// between two chunks of a progress stream or two messages of a socket.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The same transport with other [`Limits`] on what it reads by itself: one WebSocket
    /// message (`max_frame`, [`Error::FrameTooLarge`]) and the body of a refused WebSocket
    /// handshake (`max_body`). Give it the limits of the [`backups_proto::Client`] it serves.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The reqwest client requests go through.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The request timeout in force.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The idle timeout in force.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The limits the transport applies itself.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Hands `request` to reqwest; resolves with the response head. Only calls that the
    /// transport does not bound by the request timeout lift the client's own total timeout.
    pub(crate) fn execute(
        &self,
        request: Request<Bytes>,
        operation: Option<Operation>,
    ) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + 'static {
        if has_dot_segment(request.uri().path()) {
            return Either::Left(direct::send(request, operation));
        }
        let lift = operation.is_some_and(|op| op.runs_long() || op.is_streamed());
        let sent = reqwest::Request::try_from(request).map(|mut request| {
            if lift {
                *request.timeout_mut() = Some(FAR_AWAY);
            }
            self.client.execute(request)
        });
        Either::Right(async move {
            match sent {
                Ok(sent) => sent.await.map_err(|err| from_send_error(err, operation)),
                Err(err) => Err(from_send_error(err, operation)),
            }
        })
    }

    /// One HTTP call, bounded as the type's docs say.
    fn call(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<ReqwestBody>, Error>> + Send + 'static {
        let operation = request.extensions().get::<Operation>().copied();
        // A plain create or restore answers only when its work is done: the client watches it.
        let unbounded = operation.is_some_and(|op| op.runs_long() && !op.is_streamed());
        let streamed = operation.is_some_and(|op| op.is_streamed() && !op.is_websocket());
        let deadline = after(if unbounded {
            Duration::MAX
        } else {
            self.request_timeout
        });
        let idle = self.idle_timeout;
        let sent = self.execute(request, operation);
        async move {
            let response = if unbounded {
                sent.await?
            } else {
                match tokio::time::timeout_at(deadline, sent).await {
                    Ok(response) => response?,
                    Err(_) => {
                        let timeout = Error::timeout(TimeoutKind::Request);
                        return Err(timeout.with_operation(operation));
                    }
                }
            };
            let (head, body) = http::Response::<reqwest::Body>::from(response).into_parts();
            let body = if streamed {
                // A stream may rightly last longer than any deadline; only silence is an error.
                ReqwestBody::with_idle_timeout(body, operation, idle)
            } else {
                ReqwestBody::with_deadline(body, operation, deadline)
            };
            Ok(Response::from_parts(head, body))
        }
    }
}

impl Transport for ReqwestTransport {
    type Body = ReqwestBody;

    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<ReqwestBody>, Error>> + Send {
        self.call(request)
    }

    fn sleep(&self, duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        Some(tokio::time::sleep(duration))
    }
}
