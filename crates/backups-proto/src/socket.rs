//! The WebSocket channels, sans IO: the seam a transport implements for an upgraded,
//! message-based connection ([`SocketTransport`]), what one message means ([`read_message`]),
//! and the streams the client hands out ([`SocketEvents`] under a
//! [`ProgressStream`](crate::ProgressStream), and [`Snapshots`]).
//!
//! This project's contract where the official SDKs are silent: each text message holds one JSON
//! document of the channel's model; a client sends its input (at least `{}`) as a first text
//! message right after the handshake; an operation socket closes (1000) after its final event,
//! and a close before it is an error; the progress socket sends a snapshot at once and on every
//! change, and never closes by itself.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use http::{Request, Response};
use serde::de::DeserializeOwned;

use backups_models::{BackupStreamedProgress, BackupsStreamedProgress};

use crate::error::excerpt;
use crate::progress_stream::EventSource;
use crate::response::decode_message;
use crate::{Error, Operation};

/// Close codes of a socket that ended as intended (RFC 6455: normal closure, going away).
const NORMAL_CLOSES: [u16; 2] = [1000, 1001];

/// One WebSocket message, as a [`SocketTransport`]'s socket yields it. Pings and pongs are the
/// transport's own business and never reach the client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// A text message: its payload, which the transport has checked is UTF-8.
    Text(Bytes),
    /// A binary message, which no channel sends.
    Binary(Bytes),
    /// The peer closed the socket, with its close code (1000 for a normal close) if it gave one.
    Close(Option<u16>),
}

/// How a WebSocket handshake went.
#[derive(Debug)]
pub enum Handshake<S> {
    /// `101 Switching Protocols`: the socket, its first message (if any) already sent.
    Upgraded(S),
    /// Any other answer, read whole: the client reads it as it reads an HTTP call's error
    /// (511 is `Error::Unauthenticated`, and so on).
    Refused(Response<Bytes>),
}

/// What an HTTP stack must do for the WebSocket channels: the seam for an upgraded,
/// message-based connection, beside [`Transport`](crate::Transport).
///
/// `connect` sends the handshake `request` as built by this crate (method, URI, `Host`,
/// `Upgrade`, `Connection`, `Sec-WebSocket-Version` and the endpoint's headers), adding what
/// must be new per connection (`Sec-WebSocket-Key`) and checking the answer
/// (`Sec-WebSocket-Accept`). On `101` it sends `first`, if given, as a text message and hands
/// the socket over. The socket:
/// - yields each text and binary message, and the peer's close;
/// - answers pings, and bounds the silence between two messages with the transport's idle
///   timeout ([`Error::Timeout`]);
/// - refuses a message larger than the transport's limit ([`Error::FrameTooLarge`]);
/// - closes with a close frame (1000) when dropped.
///
/// `backups-hyper` implements it on hyper's upgrade (its `websocket` feature).
pub trait SocketTransport: Send + Sync {
    /// The socket, a stream of messages.
    type Socket: Stream<Item = Result<Message, Error>> + Send + Unpin + 'static;

    /// Opens a socket with `request`, then sends `first`.
    fn connect(
        &self,
        request: Request<Bytes>,
        first: Option<String>,
    ) -> impl Future<Output = Result<Handshake<Self::Socket>, Error>> + Send;
}

impl<T: SocketTransport + ?Sized> SocketTransport for Arc<T> {
    type Socket = T::Socket;

    fn connect(
        &self,
        request: Request<Bytes>,
        first: Option<String>,
    ) -> impl Future<Output = Result<Handshake<Self::Socket>, Error>> + Send {
        (**self).connect(request, first)
    }
}

impl<T: SocketTransport + ?Sized> SocketTransport for &T {
    type Socket = T::Socket;

    fn connect(
        &self,
        request: Request<Bytes>,
        first: Option<String>,
    ) -> impl Future<Output = Result<Handshake<Self::Socket>, Error>> + Send {
        (**self).connect(request, first)
    }
}

/// Reads one message of `operation`'s channel as its model `T`: a text message of at most
/// `max_frame` bytes holding one JSON document. `Ok(None)` is the peer's close.
///
/// ```
/// use backups_proto::{Error, Message, Operation, read_message};
/// use backups_models::BackupStreamedProgress;
///
/// let text = Message::Text(r#"{"status":"IN-PROGRESS","percentage":5}"#.into());
/// let event: Option<BackupStreamedProgress> =
///     read_message(Operation::CreateOverWebSocket, text, 1024)?;
/// assert!(event.is_some());
///
/// let binary = Message::Binary(vec![1, 2].into());
/// let err = read_message::<BackupStreamedProgress>(Operation::CreateOverWebSocket, binary, 1024);
/// assert!(matches!(err, Err(Error::UnexpectedMessage { .. })));
/// # Ok::<(), Error>(())
/// ```
pub fn read_message<T: DeserializeOwned>(
    operation: Operation,
    message: Message,
    max_frame: usize,
) -> Result<Option<T>, Error> {
    match message {
        Message::Text(text) if text.len() > max_frame => Err(Error::FrameTooLarge {
            operation,
            limit: max_frame,
        }),
        Message::Text(text) => {
            let text = std::str::from_utf8(&text).map_err(|err| Error::UnexpectedMessage {
                operation,
                detail: format!("a text message that is not UTF-8: {err}"),
            })?;
            decode_message(operation, text).map(Some)
        }
        Message::Binary(bytes) => Err(Error::UnexpectedMessage {
            operation,
            detail: format!(
                "a binary message of {} bytes where a JSON text message is due: {}",
                bytes.len(),
                excerpt(&bytes)
            ),
        }),
        Message::Close(_) => Ok(None),
    }
}

/// The progress events of a create or restore socket, for a
/// [`ProgressStream`](crate::ProgressStream): one per text message, ending with the final one.
pub struct SocketEvents<S> {
    operation: Operation,
    socket: Option<S>,
    max_frame: usize,
}

impl<S> std::fmt::Debug for SocketEvents<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketEvents")
            .field("operation", &self.operation)
            .field("open", &self.socket.is_some())
            .field("max_frame", &self.max_frame)
            .finish()
    }
}

impl<S> SocketEvents<S> {
    /// The events of `operation` on `socket`, each message at most `max_frame` bytes.
    pub fn new(operation: Operation, socket: S, max_frame: usize) -> Self {
        Self {
            operation,
            socket: Some(socket),
            max_frame,
        }
    }
}

impl<S> EventSource for SocketEvents<S>
where
    S: Stream<Item = Result<Message, Error>> + Unpin,
{
    fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<BackupStreamedProgress, Error>>> {
        let Some(socket) = self.socket.as_mut() else {
            return Poll::Ready(None);
        };
        let item = match ready!(Pin::new(socket).poll_next(cx)) {
            None => None,
            Some(Err(err)) => Some(Err(err.with_operation(self.operation))),
            Some(Ok(message)) => {
                read_message::<BackupStreamedProgress>(self.operation, message, self.max_frame)
                    .transpose()
            }
        };
        match &item {
            // The final event ends the operation: the socket is dropped, which closes it, rather
            // than waiting for a server that might not close.
            Some(Ok(event)) if !event.is_terminal() => {}
            _ => self.socket = None,
        }
        Poll::Ready(item)
    }
}

/// The snapshots of the progress socket, as a [`Stream`]: every creation and restoration in
/// progress, at once and on every change, until the stream is dropped (which closes the socket).
///
/// A message that is not a snapshot is an error, after which the stream ends; so does the
/// transport's idle timeout on a silent socket. A normal close by the server (1000, 1001) ends
/// the stream; any other close code is an [`Error::UnexpectedMessage`].
pub struct Snapshots<S> {
    socket: Option<S>,
    max_frame: usize,
}

impl<S> std::fmt::Debug for Snapshots<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots")
            .field("open", &self.socket.is_some())
            .field("max_frame", &self.max_frame)
            .finish()
    }
}

impl<S> Snapshots<S> {
    /// The snapshots on `socket`, each message at most `max_frame` bytes.
    pub fn new(socket: S, max_frame: usize) -> Self {
        Self {
            socket: Some(socket),
            max_frame,
        }
    }
}

impl<S> Snapshots<S>
where
    S: Stream<Item = Result<Message, Error>> + Unpin,
{
    /// The next snapshot; the same as `StreamExt::next`.
    pub async fn next_snapshot(&mut self) -> Option<Result<BackupsStreamedProgress, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<S> Stream for Snapshots<S>
where
    S: Stream<Item = Result<Message, Error>> + Unpin,
{
    type Item = Result<BackupsStreamedProgress, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(socket) = this.socket.as_mut() else {
            return Poll::Ready(None);
        };
        let operation = Operation::WatchProgress;
        let item = match ready!(Pin::new(socket).poll_next(cx)) {
            None => None,
            Some(Err(err)) => Some(Err(err.with_operation(operation))),
            // The server never closes this socket by itself in the normal course: a close that
            // says something went wrong is reported, not taken for the end of the watch.
            Some(Ok(Message::Close(Some(code)))) if !NORMAL_CLOSES.contains(&code) => {
                Some(Err(Error::UnexpectedMessage {
                    operation,
                    detail: format!("the server closed the socket with code {code}"),
                }))
            }
            Some(Ok(message)) => read_message(operation, message, this.max_frame).transpose(),
        };
        if !matches!(item, Some(Ok(_))) {
            this.socket = None;
        }
        Poll::Ready(item)
    }
}
