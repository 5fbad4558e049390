//! The WebSocket channels of [`UreqTransport`]: tungstenite over a blocking `std::net` stream.

use core::fmt;
use std::future::Future;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_core::Stream;
use http::header::{CONTENT_LENGTH, HeaderValue};
use http::{Request, Response, StatusCode};
use tungstenite::handshake::HandshakeError;
use tungstenite::handshake::client::generate_key;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocket, WebSocketConfig};
use tungstenite::{Message as WsMessage, Utf8Bytes};

use backups_proto::trace::CallTrace;
use backups_proto::{
    Attempt, Error, Handshake, Limits, Message, Operation, SocketTransport, TimeoutKind, Timeouts,
    TransportKind, describe_chain,
};

use crate::connect::connect_within;
use crate::errors::from_socket_error;
use crate::transport::UreqTransport;

/// How long a dropped socket waits for the server's answer to its close frame: 1 s, as in
/// `backups-hyper`.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The WebSocket channels (`watch_progress`, `create_over_websocket`,
/// `restore_over_websocket`) over a TCP connection of their own (not from the HTTP pool).
///
/// The connection is bounded by the connect timeout, the handshake and the first message by the
/// request timeout. A fresh `Sec-WebSocket-Key` is added and the answer's
/// `Sec-WebSocket-Accept` checked; a `101` without a valid one is handed back as a refusal with
/// no body (the client reads it as an unexpected status). Any other status is read whole (by its
/// `Content-Length`, or to the end of the connection), bounded by the transport's `max_body`,
/// and handed back as [`Handshake::Refused`].
impl SocketTransport for UreqTransport {
    type Socket = Socket;

    fn connect(
        &self,
        request: Request<Bytes>,
        first: Option<String>,
    ) -> impl Future<Output = Result<Handshake<Socket>, Error>> + Send {
        let timeouts = self.timeouts();
        let limits = self.limits();
        async move { traced(request, first, timeouts, limits) }
    }
}

/// Opens the socket on this thread, in the span of the call.
fn traced(
    request: Request<Bytes>,
    first: Option<String>,
    timeouts: Timeouts,
    limits: Limits,
) -> Result<Handshake<Socket>, Error> {
    let operation = request.extensions().get::<Operation>().copied();
    let attempt = request.extensions().get::<Attempt>().map_or(1, |a| a.0);
    let mut trace = CallTrace::new(operation, attempt, request.method(), request.uri().path());
    let opened = trace
        .span()
        .in_scope(|| handshake(request, first, timeouts, limits));
    match opened {
        Ok(Handshake::Upgraded(mut socket)) => {
            trace.record_head(StatusCode::SWITCHING_PROTOCOLS);
            socket.trace = Some(trace);
            Ok(Handshake::Upgraded(socket))
        }
        Ok(Handshake::Refused(response)) => {
            trace.record_head(response.status());
            trace.finish(Ok(()));
            Ok(Handshake::Refused(response))
        }
        Err(error) => {
            trace.finish(Err(&error));
            Err(error)
        }
    }
}

/// Opens the socket on this thread.
fn handshake(
    mut request: Request<Bytes>,
    first: Option<String>,
    timeouts: Timeouts,
    limits: Limits,
) -> Result<Handshake<Socket>, Error> {
    // The operation names every error and decides the frame limit's error; a request built by
    // backups-proto always carries it.
    let Some(operation) = request
        .extensions()
        .get::<Operation>()
        .copied()
        .filter(|op| op.is_websocket())
    else {
        return Err(Error::InvalidRequest {
            reason: "a WebSocket handshake must carry its channel's Operation, as the requests \
                     built by backups-proto do"
                .into(),
        });
    };
    let key = generate_key();
    let value = HeaderValue::from_str(&key).map_err(|_| Error::InvalidRequest {
        reason: "the generated Sec-WebSocket-Key is not a header value".into(),
    })?;
    request
        .headers_mut()
        .insert(http::header::SEC_WEBSOCKET_KEY, value);

    let stream =
        open(request.uri(), timeouts.connect()).map_err(|e| e.with_operation(operation))?;
    let io = |err: io::Error| {
        Error::transport(
            TransportKind::Io,
            describe_chain("the WebSocket connection", &err),
        )
        .with_operation(operation)
    };
    // The handshake and the first message within the request timeout.
    stream
        .set_read_timeout(Some(nonzero(timeouts.request())))
        .map_err(io)?;
    stream
        .set_write_timeout(Some(nonzero(timeouts.request())))
        .map_err(io)?;
    let own = stream.try_clone().map_err(io)?;
    let max_frame = limits.max_frame;
    // The frame limit is the client's too, so an oversized message is refused from its header,
    // never buffered.
    let config = WebSocketConfig::default()
        .max_message_size(Some(max_frame))
        .max_frame_size(Some(max_frame));
    let timed_out = || Error::timeout(TimeoutKind::Request).with_operation(operation);
    let mut socket =
        match tungstenite::client::client_with_config(as_ws(request)?, own, Some(config)) {
            Ok((socket, _)) => socket,
            Err(HandshakeError::Interrupted(_)) => return Err(timed_out()),
            Err(HandshakeError::Failure(tungstenite::Error::Http(response))) => {
                return read_refused(operation, *response, &stream, limits.max_body)
                    .map(Handshake::Refused);
            }
            Err(HandshakeError::Failure(tungstenite::Error::Protocol(problem)))
                if is_bad_upgrade(&problem) =>
            {
                // The client reads a 101 that did not upgrade as an unexpected status.
                let mut refused = Response::new(Bytes::new());
                *refused.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
                return Ok(Handshake::Refused(refused));
            }
            Err(HandshakeError::Failure(tungstenite::Error::Io(err)))
                if matches!(
                    err.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                return Err(timed_out());
            }
            Err(HandshakeError::Failure(err)) => {
                return Err(Error::transport(
                    TransportKind::Io,
                    describe_chain("the WebSocket handshake", &err),
                )
                .with_operation(operation));
            }
        };
    if let Some(first) = first {
        socket
            .send(WsMessage::text(first))
            .map_err(|err| from_socket_error(err, operation, max_frame))?;
    }
    // From now on only silence is bounded: the idle timeout, for every read.
    stream
        .set_read_timeout(Some(nonzero(timeouts.idle())))
        .map_err(io)?;
    Ok(Handshake::Upgraded(Socket {
        socket: Some(socket),
        operation,
        max_frame,
        done: false,
        trace: None,
    }))
}

/// The handshake request as tungstenite takes it: the same request, its URI's scheme `ws`
/// (tungstenite reads the scheme to know it needs no TLS; only the path goes on the wire).
fn as_ws(request: Request<Bytes>) -> Result<Request<()>, Error> {
    let (mut parts, _) = request.into_parts();
    let mut uri = parts.uri.into_parts();
    uri.scheme = Some("ws".parse().map_err(|_| Error::InvalidRequest {
        reason: "ws is not a URI scheme".into(),
    })?);
    parts.uri = http::Uri::from_parts(uri).map_err(|err| Error::InvalidRequest {
        reason: format!("the handshake's URI: {err}"),
    })?;
    Ok(Request::from_parts(parts, ()))
}

/// Whether tungstenite refused a `101` for not upgrading to this WebSocket.
fn is_bad_upgrade(problem: &tungstenite::error::ProtocolError) -> bool {
    use tungstenite::error::ProtocolError;
    matches!(
        problem,
        ProtocolError::MissingUpgradeWebSocketHeader
            | ProtocolError::MissingConnectionUpgradeHeader
            | ProtocolError::SecWebSocketAcceptKeyMismatch
    )
}

/// A socket timeout of zero means "none" to `std`; the SDK's zero means "at once".
fn nonzero(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(1))
}

/// Connects to the URI's host and port (80 by default), its addresses in turn within `timeout`.
fn open(uri: &http::Uri, timeout: Duration) -> Result<TcpStream, Error> {
    if uri.scheme() != Some(&http::uri::Scheme::HTTP) {
        return Err(Error::InvalidRequest {
            reason: format!("{uri}: backups-blocking speaks plain http and ws only"),
        });
    }
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|err| Error::transport(TransportKind::Connect, describe_chain(host, &err)))?
        .collect();
    if addrs.is_empty() {
        return Err(Error::transport(
            TransportKind::Connect,
            format!("{host}: no address to connect to"),
        ));
    }
    match connect_within(&addrs, nonzero(timeout)) {
        Ok((stream, _)) => {
            // Events are small and latency-bound; failing to set it changes nothing.
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            Err(Error::timeout(TimeoutKind::Connect))
        }
        Err(err) => Err(Error::transport(
            TransportKind::Connect,
            describe_chain("", &err),
        )),
    }
}

/// Reads a refused handshake's answer whole, at most `limit` bytes, for the client to name the
/// error: what tungstenite read past the head, then the rest by its `Content-Length` (or to the
/// end of the connection without one).
fn read_refused(
    operation: Operation,
    response: Response<Option<Vec<u8>>>,
    stream: &TcpStream,
    limit: u64,
) -> Result<Response<Bytes>, Error> {
    let too_large = || Error::BodyTooLarge {
        operation: Some(operation),
        limit,
    };
    let (parts, tail) = response.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut text = tail.unwrap_or_default();
    let wanted = declared.unwrap_or(limit.saturating_add(1));
    let have = text.len() as u64;
    if have < wanted {
        let read = stream.take(wanted - have).read_to_end(&mut text);
        if let Err(err) = read {
            let detail = describe_chain("reading the refused handshake's answer", &err);
            return Err(if declared.is_some() {
                Error::Truncated { operation, detail }
            } else {
                Error::transport(TransportKind::Io, detail).with_operation(operation)
            });
        }
    }
    if text.len() as u64 > limit {
        return Err(too_large());
    }
    if declared.is_some_and(|length| (text.len() as u64) < length) {
        return Err(Error::Truncated {
            operation,
            detail: "the connection closed before the refused handshake's answer was complete"
                .into(),
        });
    }
    text.truncate(usize::try_from(wanted).unwrap_or(usize::MAX));
    Ok(Response::from_parts(parts, Bytes::from(text)))
}

/// An open WebSocket of [`UreqTransport`]: the [`SocketTransport::Socket`] that
/// `watch_progress`, `create_over_websocket` and `restore_over_websocket` read.
///
/// Polling it **reads on the calling thread**, blocking until a message comes. It yields each
/// text message, each binary message and the peer's close, and otherwise:
/// - answers pings (tungstenite writes the pong as it reads on);
/// - ends with [`Error::Timeout`] of kind [`TimeoutKind::Idle`] when nothing (not even a ping)
///   comes for longer than the idle timeout;
/// - ends with [`Error::FrameTooLarge`] for a message larger than the transport's `max_frame`,
///   read no further than its header;
/// - ends with [`Error::Truncated`] when the connection closes without a close frame;
/// - once dropped, sends a close frame (1000) and waits at most [`CLOSE_TIMEOUT`] for the
///   server's answer.
///
/// After an error it yields nothing more.
pub struct Socket {
    /// `None` once the closing handshake is over: nothing is left to close.
    socket: Option<WebSocket<TcpStream>>,
    operation: Operation,
    max_frame: usize,
    /// An error was yielded.
    done: bool,
    /// The span of the call, closed when the socket ends or fails (or is dropped).
    trace: Option<CallTrace>,
}

impl Socket {
    /// The channel this socket belongs to.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    fn next_message(&mut self) -> Option<Result<Message, Error>> {
        if self.done {
            return None;
        }
        let socket = self.socket.as_mut()?;
        loop {
            let message = match socket.read() {
                Ok(WsMessage::Text(text)) => Message::Text(Bytes::from(text)),
                Ok(WsMessage::Binary(bytes)) => Message::Binary(bytes),
                Ok(WsMessage::Close(frame)) => {
                    Message::Close(frame.map(|frame| u16::from(frame.code)))
                }
                // tungstenite queues the pong itself and writes it as it reads on.
                Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_)) => continue,
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    // The closing handshake is over: nothing to close.
                    self.socket = None;
                    if let Some(trace) = self.trace.as_mut() {
                        trace.finish(Ok(()));
                    }
                    return None;
                }
                Err(err) => {
                    self.done = true;
                    let error = from_socket_error(err, self.operation, self.max_frame);
                    if let Some(trace) = self.trace.as_mut() {
                        trace.finish(Err(&error));
                    }
                    return Some(Err(error));
                }
            };
            return Some(Ok(message));
        }
    }
}

impl Stream for Socket {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.get_mut().next_message())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let Some(mut socket) = self.socket.take() else {
            return;
        };
        if self.done {
            // A failed socket (a timeout, a broken connection) is just dropped.
            return;
        }
        let deadline = Instant::now() + CLOSE_TIMEOUT;
        let _ = socket.get_ref().set_write_timeout(Some(CLOSE_TIMEOUT));
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: Utf8Bytes::default(),
        };
        if socket.close(Some(frame)).is_err() {
            return;
        }
        // Read on to the server's answering close, so that the server closes the TCP
        // connection first, as RFC 6455 would have it.
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || socket.get_ref().set_read_timeout(Some(left)).is_err() {
                return;
            }
            if socket.read().is_err() {
                return;
            }
        }
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("operation", &self.operation)
            .field("open", &self.socket.is_some())
            .field("max_frame", &self.max_frame)
            .field("done", &self.done)
            .finish()
    }
}
