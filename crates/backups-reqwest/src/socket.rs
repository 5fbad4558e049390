//! [`Socket`]: the WebSocket channels over reqwest's HTTP/1.1 upgrade
//! ([`reqwest::Response::upgrade`]) and tokio-tungstenite.

use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::{SinkExt, StreamExt};
use http::header::{HeaderMap, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use http::{Request, Response, StatusCode};
use tokio::time::{Instant, Sleep};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message as WsMessage, Utf8Bytes};

use backups_proto::{
    Error, Handshake, Message, Operation, SocketTransport, TimeoutKind, TransportKind,
    describe_chain, socket_error,
};

use crate::body::after;
use crate::errors::from_body_error;
use crate::transport::ReqwestTransport;

/// How long a dropped [`Socket`] may take to send its close frame and read the peer's answer,
/// in a task of its own, before the connection is simply dropped.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

type WebSocket = WebSocketStream<reqwest::Upgraded>;

/// The WebSocket channels (`watch_progress`, `create_over_websocket`,
/// `restore_over_websocket`) over reqwest's HTTP/1.1 upgrade.
///
/// The handshake goes through the caller's `reqwest::Client` like any call (its pool, proxy
/// and default headers), bounded by the request timeout up to the first message sent. A fresh
/// `Sec-WebSocket-Key` is added and the answer's `Sec-WebSocket-Accept` checked; a `101`
/// without a valid one is refused. Any other status is read whole, bounded by the transport's
/// `max_body`, and handed back as [`Handshake::Refused`]. The client must speak HTTP/1.1 to the
/// server (reqwest's default for `http` URLs; not with `http2_prior_knowledge`).
impl SocketTransport for ReqwestTransport {
    type Socket = Socket;

    fn connect(
        &self,
        request: Request<Bytes>,
        first: Option<String>,
    ) -> impl Future<Output = Result<Handshake<Socket>, Error>> + Send {
        self.handshake(request, first)
    }
}

impl ReqwestTransport {
    async fn handshake(
        &self,
        mut request: Request<Bytes>,
        first: Option<String>,
    ) -> Result<Handshake<Socket>, Error> {
        // The operation names every error and decides the frame limit's error; a request built
        // by backups-proto always carries it.
        let Some(operation) = request
            .extensions()
            .get::<Operation>()
            .copied()
            .filter(|op| op.is_websocket())
        else {
            return Err(Error::InvalidRequest {
                reason: "a WebSocket handshake must carry its channel's Operation, as the \
                         requests built by backups-proto do"
                    .into(),
            });
        };
        let limits = self.limits();
        let key = generate_key();
        let value = HeaderValue::from_str(&key).map_err(|_| Error::InvalidRequest {
            reason: "the generated Sec-WebSocket-Key is not a header value".into(),
        })?;
        request.headers_mut().insert(SEC_WEBSOCKET_KEY, value);

        let deadline = after(self.request_timeout());
        let max_frame = limits.max_frame;
        let sent = self.execute(request, Some(operation));
        let open = async move {
            let response = sent.await?;
            if response.status() != StatusCode::SWITCHING_PROTOCOLS {
                return read_refused(operation, response, limits.max_body)
                    .await
                    .map(Opened::Refused);
            }
            if !upgrades(response.headers(), &key) {
                // The client reads a 101 that did not upgrade as an unexpected status.
                return Ok(Opened::Refused(head_only(&response)));
            }
            let upgraded = response.upgrade().await.map_err(|err| {
                Error::transport(
                    TransportKind::Io,
                    describe_chain("upgrading the connection", &err),
                )
            })?;
            // The frame limit is the client's too, so an oversized message is refused from its
            // header, never buffered.
            let config = WebSocketConfig::default()
                .max_message_size(Some(max_frame))
                .max_frame_size(Some(max_frame));
            let mut socket =
                WebSocketStream::from_raw_socket(upgraded, Role::Client, Some(config)).await;
            if let Some(first) = first {
                socket
                    .send(WsMessage::text(first))
                    .await
                    .map_err(|err| socket_error(err, operation, max_frame))?;
            }
            Ok(Opened::Upgraded(socket))
        };
        let opened = match tokio::time::timeout_at(deadline, open).await {
            Ok(opened) => opened.map_err(|err| err.with_operation(operation))?,
            Err(_) => return Err(Error::timeout(TimeoutKind::Request).with_operation(operation)),
        };
        Ok(match opened {
            Opened::Refused(response) => Handshake::Refused(response),
            Opened::Upgraded(socket) => Handshake::Upgraded(Socket {
                socket: Some(socket),
                operation,
                max_frame,
                idle: self.idle_timeout(),
                last: Instant::now(),
                timer: None,
                done: false,
            }),
        })
    }
}

/// What the handshake came to, before it is told as a [`Handshake`].
enum Opened {
    Refused(Response<Bytes>),
    Upgraded(WebSocket),
}

/// Whether a `101` answer upgrades the request with `key` to a WebSocket: `Upgrade:
/// websocket` and the `Sec-WebSocket-Accept` that RFC 6455 derives from the key (which shows the
/// server read this handshake, not a cached or replayed one).
fn upgrades(headers: &HeaderMap, key: &str) -> bool {
    let websocket = headers
        .get(UPGRADE)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let expected = derive_accept_key(key.as_bytes());
    websocket
        && headers
            .get(SEC_WEBSOCKET_ACCEPT)
            .is_some_and(|accept| accept.as_bytes() == expected.as_bytes())
}

/// The head of `response` with an empty body.
fn head_only(response: &reqwest::Response) -> Response<Bytes> {
    let mut head = Response::new(Bytes::new());
    *head.status_mut() = response.status();
    *head.version_mut() = response.version();
    *head.headers_mut() = response.headers().clone();
    head
}

/// Reads a refused handshake's answer whole, at most `limit` bytes, for the client to name the
/// error.
async fn read_refused(
    operation: Operation,
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Response<Bytes>, Error> {
    let too_large = || Error::BodyTooLarge {
        operation: Some(operation),
        limit,
    };
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(too_large());
    }
    let mut refused = head_only(&response);
    let mut text = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| from_body_error(err, Some(operation), false))?
    {
        if (text.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        text.extend_from_slice(&chunk);
    }
    *refused.body_mut() = text.freeze();
    Ok(refused)
}

/// An open WebSocket of [`ReqwestTransport`]: the
/// [`SocketTransport::Socket`] that `watch_progress`, `create_over_websocket` and
/// `restore_over_websocket` read.
///
/// It yields each text message (its payload shared with tokio-tungstenite's buffer), each binary
/// message and the peer's close, and otherwise:
/// - answers pings: the pong goes out as the socket is polled for the next message;
/// - ends with [`Error::Timeout`] of kind [`TimeoutKind::Idle`] when nothing (not even a ping)
///   comes for longer than the idle timeout
///   ([`ReqwestTransport::with_idle_timeout`]);
/// - ends with [`Error::FrameTooLarge`] for a message larger than the transport's `max_frame`
///   ([`ReqwestTransport::with_limits`]), read no further than its header;
/// - ends with [`Error::Truncated`] when the connection closes without a close frame;
/// - once dropped, sends a close frame (1000) and waits for the peer's answer in a task of its
///   own, for at most [`CLOSE_TIMEOUT`] (nothing is sent when dropped outside a Tokio runtime,
///   or after the closing handshake is over).
///
/// After an error it yields nothing more.
pub struct Socket {
    /// `None` once the closing handshake is over: nothing is left to close.
    socket: Option<WebSocket>,
    operation: Operation,
    max_frame: usize,
    idle: Duration,
    /// When the last frame came.
    last: Instant,
    /// Armed the first time the socket has to wait, and moved only when it does: a message
    /// costs a clock reading, not a timer update.
    timer: Option<Pin<Box<Sleep>>>,
    /// An error was yielded.
    done: bool,
}

impl Socket {
    /// The channel this socket belongs to.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    fn fail(&mut self, error: Error) -> Poll<Option<Result<Message, Error>>> {
        self.done = true;
        self.timer = None;
        Poll::Ready(Some(Err(error)))
    }
}

impl Stream for Socket {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let Some(socket) = this.socket.as_mut().filter(|_| !this.done) else {
                return Poll::Ready(None);
            };
            // The socket before the timer, so that a message already there always wins.
            match socket.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(message))) => {
                    this.last = Instant::now();
                    let message = match message {
                        WsMessage::Text(text) => Message::Text(Bytes::from(text)),
                        WsMessage::Binary(bytes) => Message::Binary(bytes),
                        WsMessage::Close(frame) => {
                            Message::Close(frame.map(|frame| u16::from(frame.code)))
                        }
                        // tungstenite queues the pong itself; polling again writes it out, then
                        // reads on.
                        WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => continue,
                    };
                    return Poll::Ready(Some(Ok(message)));
                }
                Poll::Ready(Some(Err(err))) => {
                    let err = socket_error(err, this.operation, this.max_frame);
                    return this.fail(err);
                }
                Poll::Ready(None) => {
                    // The closing handshake is over (or the peer is gone): nothing to close.
                    this.socket = None;
                    this.timer = None;
                    return Poll::Ready(None);
                }
                Poll::Pending => {
                    let deadline = this
                        .last
                        .checked_add(this.idle)
                        .unwrap_or_else(|| after(this.idle));
                    let timer = this
                        .timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                    if timer.deadline() != deadline {
                        timer.as_mut().reset(deadline);
                    }
                    if timer.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let err = Error::timeout(TimeoutKind::Idle).with_operation(this.operation);
                    return this.fail(err);
                }
            }
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let Some(mut socket) = self.socket.take() else {
            return;
        };
        // Drop cannot wait, so the close goes out in a task; without a runtime, the connection
        // is just dropped.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let close = async {
                let frame = CloseFrame {
                    code: CloseCode::Normal,
                    reason: Utf8Bytes::default(),
                };
                if socket.close(Some(frame)).await.is_ok() {
                    // Read on to the peer's answering close, so that the server closes the TCP
                    // connection first, as RFC 6455 would have it.
                    while let Some(Ok(_)) = socket.next().await {}
                }
            };
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, close).await;
        });
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("operation", &self.operation)
            .field("open", &self.socket.is_some())
            .field("max_frame", &self.max_frame)
            .field("idle_timeout", &self.idle)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
