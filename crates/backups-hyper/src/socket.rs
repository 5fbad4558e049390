//! [`Socket`]: the WebSocket channels over hyper's upgrade and tokio-tungstenite (the
//! `websocket` feature).

use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::{SinkExt, StreamExt};
use http::header::{
    CONTENT_LENGTH, HeaderMap, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::time::{Instant, Sleep};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message as WsMessage, Utf8Bytes};

use backups_proto::{
    Error, Handshake, Message, Operation, SocketTransport, TimeoutKind, TransportKind, socket_error,
};

use crate::body::{HyperBody, after};
use crate::errors::Failure;
use crate::transport::HyperTransport;
use backups_proto::trace::CallTrace;

/// How long a dropped [`Socket`] may take to send its close frame and read the peer's answer,
/// in a task of its own, before the connection is simply dropped.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

type WebSocket = WebSocketStream<TokioIo<Upgraded>>;

/// The WebSocket channels (`watch_progress`, `create_over_websocket`,
/// `restore_over_websocket`) over hyper's HTTP/1.1 upgrade.
///
/// The handshake is a call like any other: pooled connection, connect timeout, request
/// timeout for the answer (and for the upgrade and the first message), tracing span, error
/// mapping. A fresh `Sec-WebSocket-Key` is added and the answer's `Sec-WebSocket-Accept`
/// checked; a `101` without a valid one is refused. Any other status is read whole, bounded by
/// the transport's `max_body`, and handed back as [`Handshake::Refused`].
impl SocketTransport for HyperTransport {
    type Socket = Socket;

    fn connect(
        &self,
        request: Request<Bytes>,
        first: Option<String>,
    ) -> impl Future<Output = Result<Handshake<Socket>, Error>> + Send {
        self.handshake(request, first)
    }
}

impl HyperTransport {
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
        let deadline = after(self.timeouts().request());
        let key = generate_key();
        let value = HeaderValue::from_str(&key).map_err(|_| Error::InvalidRequest {
            reason: "the generated Sec-WebSocket-Key is not a header value".into(),
        })?;
        request.headers_mut().insert(SEC_WEBSOCKET_KEY, value);

        let mut response = self.call(request).await?;
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return read_refused(operation, response, limits.max_body)
                .await
                .map(Handshake::Refused);
        }
        let on_upgrade = hyper::upgrade::on(&mut response);
        let (parts, body) = response.into_parts();
        let mut trace = body.into_trace();
        if let Some(problem) = bad_upgrade(&parts.headers, &key) {
            // The client reads a 101 that did not upgrade as an unexpected status; the span
            // keeps the reason.
            trace.finish(Err(&Error::UnexpectedStatus {
                operation,
                status: parts.status,
                excerpt: problem.into(),
            }));
            return Ok(Handshake::Refused(Response::from_parts(
                parts,
                Bytes::new(),
            )));
        }

        let max_frame = limits.max_frame;
        let open = async move {
            let upgraded = on_upgrade.await.map_err(|err| {
                Error::transport(
                    TransportKind::Io,
                    Failure::new("upgrading the connection", &err),
                )
            })?;
            // The frame limit is the crate's too, so an oversized message is refused from its
            // header, never buffered.
            let config = WebSocketConfig::default()
                .max_message_size(Some(max_frame))
                .max_frame_size(Some(max_frame));
            let mut socket = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Client,
                Some(config),
            )
            .await;
            if let Some(first) = first {
                socket
                    .send(WsMessage::text(first))
                    .await
                    .map_err(|err| socket_error(err, operation, max_frame))?;
            }
            Ok::<_, Error>(socket)
        };
        let socket = match tokio::time::timeout_at(deadline, open).await {
            Ok(Ok(socket)) => socket,
            Ok(Err(err)) => {
                let err = err.with_operation(operation);
                trace.finish(Err(&err));
                return Err(err);
            }
            Err(_) => {
                let err = Error::timeout(TimeoutKind::Request).with_operation(operation);
                trace.finish(Err(&err));
                return Err(err);
            }
        };
        Ok(Handshake::Upgraded(Socket {
            socket: Some(socket),
            operation,
            max_frame,
            idle: self.timeouts().idle(),
            last: Instant::now(),
            timer: None,
            done: false,
            trace,
        }))
    }
}

/// Why a `101` answer is not a WebSocket upgrade of the request with `key`, if it is not.
fn bad_upgrade(headers: &HeaderMap, key: &str) -> Option<&'static str> {
    let upgrade = headers.get(http::header::UPGRADE);
    if !upgrade.is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket")) {
        return Some("the 101 answer does not upgrade to websocket");
    }
    let expected = derive_accept_key(key.as_bytes());
    match headers.get(SEC_WEBSOCKET_ACCEPT) {
        Some(accept) if accept.as_bytes() == expected.as_bytes() => None,
        Some(_) => Some("the 101 answer's Sec-WebSocket-Accept does not match the key sent"),
        None => Some("the 101 answer has no Sec-WebSocket-Accept"),
    }
}

/// Reads a refused handshake's answer whole, at most `limit` bytes, for the client to name the
/// error.
async fn read_refused(
    operation: Operation,
    response: Response<HyperBody>,
    limit: u64,
) -> Result<Response<Bytes>, Error> {
    let too_large = || Error::BodyTooLarge {
        operation: Some(operation),
        limit,
    };
    let (parts, mut body) = response.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut text = BytesMut::new();
    while let Some(frame) = body.frame().await {
        // The body's errors are the SDK's already, with the request deadline applied.
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        if (text.len() + data.len()) as u64 > limit {
            return Err(too_large());
        }
        text.extend_from_slice(&data);
    }
    Ok(Response::from_parts(parts, text.freeze()))
}

/// An open WebSocket of [`HyperTransport`]: the [`SocketTransport::Socket`] that
/// `watch_progress`, `create_over_websocket` and `restore_over_websocket` read.
///
/// It yields each text message (its payload shared with tokio-tungstenite's buffer, not
/// copied), each binary message and the peer's close, and otherwise:
/// - answers pings: the pong goes out as the socket is polled for the next message;
/// - ends with [`Error::Timeout`] of kind [`TimeoutKind::Idle`] when nothing (not even a ping)
///   comes for longer than the idle timeout ([`Timeouts::idle`](crate::Timeouts::idle));
/// - ends with [`Error::FrameTooLarge`] for a message larger than the transport's `max_frame`
///   (see [`HyperTransport::with_limits`]), read no further than its header;
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
    /// The handshake's call span, closed when the socket ends or is dropped.
    trace: CallTrace,
}

impl Socket {
    /// The channel this socket belongs to.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    fn fail(&mut self, error: Error) -> Poll<Option<Result<Message, Error>>> {
        self.done = true;
        self.timer = None;
        self.trace.finish(Err(&error));
        Poll::Ready(Some(Err(error)))
    }

    /// When silence becomes an idle timeout.
    fn idle_deadline(&self) -> Instant {
        self.last
            .checked_add(self.idle)
            .unwrap_or_else(|| after(self.idle))
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
            // The socket is polled before the timer, so a message that is there always wins.
            match socket.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(message))) => {
                    this.last = Instant::now();
                    let message = match message {
                        WsMessage::Text(text) => Message::Text(Bytes::from(text)),
                        WsMessage::Binary(bytes) => Message::Binary(bytes),
                        WsMessage::Close(frame) => {
                            Message::Close(frame.map(|frame| u16::from(frame.code)))
                        }
                        // tungstenite queues the pong itself; polling again at once writes it
                        // out, then reads on.
                        WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => {
                            continue;
                        }
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
                    this.trace.finish(Ok(()));
                    return Poll::Ready(None);
                }
                Poll::Pending => {
                    let deadline = this.idle_deadline();
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
        // Dropping is how a watch ends: a normal end of the call, not an abandoned one.
        self.trace.finish(Ok(()));
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
                    // Read on to the peer's answering close, so that it closes the TCP
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
