//! One upgraded WebSocket connection of a channel: what it sends (a feed of JSON texts), what it
//! accepts from the client, and the limits that keep a hostile client from hurting the server.
//!
//! Two halves run side by side in one task: the writer sends the feed (and a ping when idle),
//! the reader reads and discards what the client sends. Whichever ends first decides how the
//! socket closes. Nothing the client sends is kept: a message is checked and dropped.

use std::time::Duration;

use backups_models::{Backup, BackupStreamedProgress, SeededBackup};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::state::stopped;
use crate::watchers::{Next, QUEUE, Subscription};

/// The largest message (and frame) a client may send: inputs are small JSON documents. A larger
/// one is refused from its header, before its payload is read, with close code 1009.
pub(crate) const MAX_MESSAGE: usize = 64 * 1024;

/// More messages than this from a client within [`FLOOD_WINDOW`] close its socket with 1008.
/// A client has one input to send, and pings; this is far beyond any honest use.
pub(crate) const FLOOD_LIMIT: u32 = 1000;
/// The window of [`FLOOD_LIMIT`].
const FLOOD_WINDOW: Duration = Duration::from_secs(1);

/// How long one message may take to be written. A client that reads nothing for this long
/// (its TCP window closed) is dropped.
pub(crate) const WRITE_STALL: Duration = Duration::from_secs(30);

/// An idle socket gets a ping this often, so that a client with an idle timeout sees it is alive
/// while nothing changes, and a vanished peer is noticed (its write stalls).
pub(crate) const PING_EVERY: Duration = Duration::from_secs(20);

/// How long a closing socket waits for the client's close frame (or, after a violation, for it
/// to stop sending) before the connection is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// After a violation, how much more the client may send while the close is delivered; read and
/// discarded so that the close frame is not lost to a reset.
const LINGER_BYTES: usize = 1024 * 1024;

/// The kernel's send buffer of a WebSocket connection (Linux doubles it). Left to autotuning
/// it grows to megabytes for a client that does not read, per socket; capped, a client that
/// stops reading fills it soon and its queue on the server decides what happens next.
pub(crate) const SEND_BUFFER: usize = 64 * 1024;

/// The socket of one channel.
type Socket = WebSocketStream<TcpStream>;

/// Which channel a socket serves: what its client may send first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// `/backups/streamed/progress`: takes no input; text from the client is ignored.
    Progress,
    /// `/backups/create/streamed/websocket`: a first text message must be a `SeededBackup`.
    Create,
    /// `/backup/{backup}/restore/streamed/websocket`: a first text message must be a `Backup`.
    Restore,
}

impl Channel {
    /// Checks the first text message against the channel's input model; the input itself is
    /// ignored (the work started on the handshake). `{}` (or nothing but blanks) means "no
    /// input", as an empty body does over HTTP: it is what a client without one sends.
    fn check_input(self, text: &str) -> Result<(), String> {
        let none = text.trim().is_empty()
            || serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                .is_ok_and(|object| object.is_empty());
        let parsed = match self {
            Channel::Progress => return Ok(()),
            _ if none => return Ok(()),
            Channel::Create => serde_json::from_str::<SeededBackup>(text).map(drop),
            Channel::Restore => serde_json::from_str::<Backup>(text).map(drop),
        };
        parsed.map_err(|err| format!("the first message is not the input model: {err}"))
    }
}

/// What a socket sends: JSON texts (a trailing newline, as NDJSON lines have, is dropped).
#[derive(Debug)]
pub(crate) enum Feed {
    /// The events of a create or restore, the same as its NDJSON lines; they end after the
    /// terminal one. At most about a hundred, so they are never more than a small buffer.
    /// With `cut_after`, the socket is dropped without a close frame once that many are sent
    /// (`ServerConfig::drop_streams_after`).
    Events {
        events: mpsc::Receiver<Bytes>,
        cut_after: Option<u32>,
    },
    /// The progress channel's snapshots, which never end.
    Snapshots(Subscription),
}

/// The next thing a feed has.
enum Item {
    Text(Bytes),
    /// The client fell too far behind.
    Cut,
    /// Nothing more will come.
    End,
}

impl Feed {
    async fn next(&mut self) -> Item {
        match self {
            Feed::Events { events, .. } => events.recv().await.map_or(Item::End, Item::Text),
            Feed::Snapshots(subscription) => match subscription.next().await {
                Next::Snapshot(text) => Item::Text(text),
                Next::Cut => Item::Cut,
            },
        }
    }

    /// Resolves when the client is cut off, so that a write it blocks is abandoned at once.
    async fn cut(&self) {
        match self {
            Feed::Events { .. } => std::future::pending().await,
            Feed::Snapshots(subscription) => subscription.cut().await,
        }
    }
}

/// How a socket ends.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The client left, or stopped reading: nothing more can be said.
    Gone,
    /// Close with this code and reason, then wait for the client's close frame.
    Close(CloseCode, String),
    /// The client broke a rule: close with this code and reason, then drop it.
    Violation(CloseCode, String),
}

/// The limits of every socket: small read buffers (clients send little), and the message and
/// frame size caps.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        // Each message is written out at once: there is no batching to gain, only latency.
        .write_buffer_size(0)
        // Each message is flushed before the next is taken, so this only guards against a bug.
        .max_write_buffer_size(16 * 1024 * 1024)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// Serves one channel once hyper hands over the upgraded connection; `stop` turns true when the
/// server shuts down. Never fails: whatever the client does ends this socket only.
pub(crate) async fn serve(
    upgrade: OnUpgrade,
    channel: Channel,
    mut feed: Feed,
    mut stop: watch::Receiver<bool>,
) {
    // Fails when the client went away during the handshake; the work goes on without it.
    let Ok(upgraded) = upgrade.await else {
        return;
    };
    // The server serves TCP only, so this is the connection it accepted; the bytes hyper read
    // past the handshake (a client may send its first message at once) are handed on.
    let Ok(parts) = upgraded.downcast::<TokioIo<TcpStream>>() else {
        return;
    };
    let tcp = parts.io.into_inner();
    // Only a bound; the connection works the same if the system refuses it.
    let _ = socket2::SockRef::from(&tcp).set_send_buffer_size(SEND_BUFFER);
    let socket = WebSocketStream::from_partially_read(
        tcp,
        parts.read_buf.to_vec(),
        Role::Server,
        Some(config()),
    )
    .await;
    let (mut sink, mut stream) = socket.split();
    let end = tokio::select! {
        end = read(&mut stream, channel) => end,
        end = write(&mut sink, channel, &mut feed, &mut stop) => end,
    };
    match end {
        End::Gone => {}
        End::Close(code, reason) => {
            let closing = sink.send(close(code, &reason));
            if let Ok(Ok(())) = timeout(CLOSE_GRACE, closing).await {
                // The client answers with its own close frame; the stream then ends.
                let _ = timeout(CLOSE_GRACE, async {
                    while let Some(Ok(_)) = stream.next().await {}
                })
                .await;
            }
        }
        End::Violation(code, reason) => {
            let closing = sink.send(close(code, &reason));
            if let Ok(Ok(())) = timeout(CLOSE_GRACE, closing).await {
                if let Ok(socket) = sink.reunite(stream) {
                    linger(socket.into_inner()).await;
                }
            }
        }
    }
}

/// Reads and discards what the client sends, until it leaves or breaks a rule.
async fn read(stream: &mut SplitStream<Socket>, channel: Channel) -> End {
    let mut first_text = true;
    let mut window = Instant::now();
    let mut count = 0u32;
    loop {
        let message = match stream.next().await {
            None => return End::Gone,
            Some(Ok(message)) => message,
            Some(Err(err)) => return read_error(err),
        };
        let now = Instant::now();
        if now.duration_since(window) >= FLOOD_WINDOW {
            window = now;
            count = 0;
        }
        count += 1;
        if count > FLOOD_LIMIT {
            return End::Violation(
                CloseCode::Policy,
                format!("more than {FLOOD_LIMIT} messages in a second"),
            );
        }
        match message {
            Message::Text(text) => {
                if std::mem::take(&mut first_text) {
                    if let Err(reason) = channel.check_input(&text) {
                        return End::Violation(CloseCode::Invalid, reason);
                    }
                }
            }
            Message::Binary(_) => {
                return End::Violation(
                    CloseCode::Unsupported,
                    "binary messages are not accepted; send JSON as text".into(),
                );
            }
            // Pings are answered by the protocol layer; a close is answered there too, and the
            // stream ends right after it.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) | Message::Frame(_) => {}
        }
    }
}

/// How a read error ends the socket.
fn read_error(err: WsError) -> End {
    match err {
        WsError::Capacity(_) => End::Violation(
            CloseCode::Size,
            format!("a message is larger than {MAX_MESSAGE} bytes"),
        ),
        WsError::Utf8(_) => {
            End::Violation(CloseCode::Invalid, "a text message is not UTF-8".into())
        }
        WsError::Protocol(problem) => End::Violation(CloseCode::Protocol, problem.to_string()),
        // Closed, reset, or an IO error: the client is gone.
        _ => End::Gone,
    }
}

/// Sends the feed, and a ping when idle, until the feed ends, the client falls behind, or the
/// server stops.
async fn write(
    sink: &mut SplitSink<Socket, Message>,
    channel: Channel,
    feed: &mut Feed,
    stop: &mut watch::Receiver<bool>,
) -> End {
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_terminal = false;
    let mut left = match feed {
        Feed::Events { cut_after, .. } => *cut_after,
        Feed::Snapshots(_) => None,
    };
    let too_slow = || {
        End::Violation(
            CloseCode::Policy,
            format!("too slow: {QUEUE} snapshots were waiting to be read"),
        )
    };
    loop {
        if left == Some(0) {
            // Cut on purpose: dropped like a lost connection, with no close frame.
            return End::Gone;
        }
        let text = tokio::select! {
            biased;
            () = stopped(stop) => {
                return End::Close(CloseCode::Away, "the server is shutting down".into());
            }
            item = feed.next() => match item {
                Item::Text(text) => text,
                Item::Cut => return too_slow(),
                Item::End => return feed_ended(channel, last_terminal),
            },
            _ = ping.tick() => {
                match timeout(WRITE_STALL, sink.send(Message::Ping(Bytes::new()))).await {
                    Ok(Ok(())) => continue,
                    _ => return End::Gone,
                }
            }
        };
        let text = text
            .strip_suffix(b"\n")
            .map_or(text.clone(), |line| text.slice_ref(line));
        if channel != Channel::Progress {
            last_terminal = serde_json::from_slice::<BackupStreamedProgress>(&text)
                .is_ok_and(|event| event.is_terminal());
        }
        let Ok(text) = Utf8Bytes::try_from(text) else {
            // Serialized JSON is UTF-8; should it ever not be, the message is skipped.
            continue;
        };
        tokio::select! {
            sent = timeout(WRITE_STALL, sink.send(Message::Text(text))) => match sent {
                Ok(Ok(())) => {
                    ping.reset();
                    left = left.map(|left| left - 1);
                }
                // Stalled (the client reads nothing) or failed (it left).
                _ => return End::Gone,
            },
            () = feed.cut() => return too_slow(),
        }
    }
}

/// How a socket closes once its feed has nothing more.
fn feed_ended(channel: Channel, last_terminal: bool) -> End {
    match channel {
        // The jobs' registry is gone, so the server is.
        Channel::Progress => End::Close(CloseCode::Away, "the server is shutting down".into()),
        Channel::Create | Channel::Restore if last_terminal => {
            End::Close(CloseCode::Normal, String::new())
        }
        Channel::Create | Channel::Restore => End::Close(
            CloseCode::Error,
            "the operation ended without a final event".into(),
        ),
    }
}

/// A close frame; the reason is cut to the 123 bytes a control frame leaves for it.
fn close(code: CloseCode, reason: &str) -> Message {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(&reason[..end]),
    }))
}

/// After a violation's close frame: stops sending, then reads and discards what the client
/// still sends (up to a bound, for a short while), so that the connection is not reset under
/// the close frame before the client reads it.
async fn linger(mut io: TcpStream) {
    let _ = timeout(CLOSE_GRACE, async {
        let _ = io.shutdown().await;
        let mut buf = [0u8; 4096];
        let mut left = LINGER_BYTES;
        while left > 0 {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked_against_the_channel_model() {
        assert!(Channel::Create.check_input("{}").is_ok());
        assert!(Channel::Restore.check_input(" { } ").is_ok(), "no input");
        assert!(Channel::Restore.check_input(r#"{"id": 1}"#).is_err());
        assert!(Channel::Create.check_input("[]").is_err());
        assert!(Channel::Progress.check_input("anything").is_ok());
    }

    #[test]
    fn close_reasons_fit_a_control_frame() {
        let Message::Close(Some(frame)) = close(CloseCode::Invalid, &"é".repeat(100)) else {
            panic!("a close frame");
        };
        assert!(frame.reason.len() <= 123);
        assert_eq!(
            feed_ended(Channel::Create, true),
            End::Close(CloseCode::Normal, String::new())
        );
    }
}
