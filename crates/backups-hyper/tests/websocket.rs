//! The WebSocket channels over `HyperTransport`, against a tokio-tungstenite peer made here:
//! the handshake, the first message, decoding, how each stream ends, pings, the idle timeout,
//! the frame limit, the close on drop, and refused or impossible handshakes.

use std::future::Future;
use std::time::{Duration, Instant};

use backups_hyper::{BackupId, BackupsClient, Error, ErrorKind, Operation, TimeoutKind};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, Uri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const SHORT: Duration = Duration::from_millis(200);
/// How long a peer waits for the client before the test fails (not a timing assertion: a
/// bound on a hang).
const PATIENCE: Duration = Duration::from_secs(5);

const BACKUP: &str = r#"{"id":"b1","bytes":10,"device_name":"d","platform":"LINUX","timestamp":"1","version":"1","created":{"value":"2026-01-01T00:00:00Z"}}"#;

type Peer = WebSocketStream<TcpStream>;

/// The handshake request as the peer saw it.
#[derive(Debug)]
struct Seen {
    uri: Uri,
    headers: HeaderMap,
}

/// A WebSocket peer on 127.0.0.1 that accepts one connection and runs `script` on it; the
/// handle answers the handshake it saw and what the script returns.
async fn peer<T, F, Fut>(script: F) -> (String, JoinHandle<(Seen, T)>)
where
    T: Send + 'static,
    F: FnOnce(Peer) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let handle = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut seen = None;
        // The callback's signature is tungstenite's, large error variant included.
        #[allow(clippy::result_large_err)]
        let socket = tokio_tungstenite::accept_hdr_async(stream, |request: &_, response| {
            let request: &http::Request<()> = request;
            seen = Some(Seen {
                uri: request.uri().clone(),
                headers: request.headers().clone(),
            });
            Ok(response)
        })
        .await
        .expect("a WebSocket handshake");
        let out = script(socket).await;
        (seen.expect("seen"), out)
    });
    (url, handle)
}

/// A raw TCP peer that reads one request head and writes `answer`.
async fn raw_peer(answer: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.expect("read");
            if n == 0 {
                return;
            }
            head.extend_from_slice(&buf[..n]);
        }
        stream.write_all(answer.as_bytes()).await.expect("write");
        // Keep the connection until the client is done with it.
        let _ = stream.read(&mut buf).await;
    });
    url
}

fn client(url: &str) -> BackupsClient {
    BackupsClient::builder()
        .base_url(url)
        .idle_timeout(SHORT)
        .max_frame(1024)
        .build()
        .expect("client")
}

async fn text(socket: &mut Peer, json: impl Into<String>) {
    socket.send(Message::text(json.into())).await.expect("send");
}

async fn close(socket: &mut Peer, code: CloseCode) {
    let frame = CloseFrame {
        code,
        reason: "".into(),
    };
    // The client may already be gone; what matters is what it did before.
    let _ = socket.close(Some(frame)).await;
}

/// The next data or close frame the client sends (pings and pongs noted but skipped).
async fn next_message(socket: &mut Peer) -> Option<Message> {
    let next = tokio::time::timeout(PATIENCE, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(message)) => return Some(message),
                _ => return None,
            }
        }
    });
    next.await.expect("the client answers in time")
}

fn event(status: &str, percentage: u32, with_backup: bool) -> String {
    let backup = if with_backup {
        format!(r#","backup":{BACKUP}"#)
    } else {
        String::new()
    };
    format!(r#"{{"status":"{status}","percentage":{percentage}{backup}}}"#)
}

#[tokio::test]
async fn a_create_socket_sends_its_handshake_and_input_and_ends_at_completed() {
    let (url, peer) = peer(|mut socket| async move {
        let first = next_message(&mut socket).await;
        text(&mut socket, event("INITIALIZED", 0, true)).await;
        text(&mut socket, event("IN-PROGRESS", 50, false)).await;
        text(&mut socket, event("COMPLETED", 100, true)).await;
        close(&mut socket, CloseCode::Normal).await;
        first
    })
    .await;
    let stream = client(&url)
        .create_over_websocket()
        .await
        .expect("upgraded");
    assert_eq!(stream.operation(), Operation::CreateOverWebSocket);
    let mut percentages = Vec::new();
    let backup = stream
        .finish(|event| percentages.push(event.percentage.map(|p| p.as_f64())))
        .await
        .expect("the backup");
    assert_eq!(backup.id, "b1");
    assert_eq!(percentages, [Some(0.0), Some(50.0), Some(100.0)]);

    let (seen, first) = peer.await.expect("peer");
    assert_eq!(seen.uri.path(), "/backups/create/streamed/websocket");
    assert!(
        seen.headers["upgrade"]
            .to_str()
            .unwrap()
            .eq_ignore_ascii_case("websocket")
    );
    assert_eq!(seen.headers["sec-websocket-version"], "13");
    assert!(seen.headers.contains_key("sec-websocket-key"));
    assert_eq!(
        seen.headers["user-agent"],
        backups_hyper::proto::DEFAULT_USER_AGENT
    );
    assert_eq!(first, Some(Message::text("{}")), "the input goes first");
}

#[tokio::test]
async fn a_restore_socket_names_the_encoded_id_and_sends_its_input() {
    let (url, peer) = peer(|mut socket| async move {
        let first = next_message(&mut socket).await;
        text(&mut socket, event("COMPLETED", 100, true)).await;
        close(&mut socket, CloseCode::Normal).await;
        first
    })
    .await;
    let id = BackupId::new("a b").expect("id");
    let stream = client(&url)
        .restore_over_websocket(&id)
        .await
        .expect("upgraded");
    let backup = stream.finish(|_| {}).await.expect("the backup");
    assert_eq!(backup.id, "b1");
    let (seen, first) = peer.await.expect("peer");
    assert_eq!(seen.uri.path(), "/backup/a%20b/restore/streamed/websocket");
    assert_eq!(first, Some(Message::text("{}")));
}

#[tokio::test]
async fn watching_sends_nothing_first_decodes_snapshots_and_closes_with_1000_when_dropped() {
    let (url, peer) = peer(|mut socket| async move {
        text(&mut socket, r#"{"backups":[],"restorations":[]}"#).await;
        let snapshot = format!(
            r#"{{"backups":[{}],"restorations":[]}}"#,
            event("IN-PROGRESS", 40, true)
        );
        text(&mut socket, snapshot).await;
        // The first thing the client sends is its close, once the stream is dropped.
        next_message(&mut socket).await
    })
    .await;
    let mut snapshots = client(&url).watch_progress().await.expect("upgraded");
    let empty = snapshots.next_snapshot().await.expect("one").expect("ok");
    assert_eq!(empty.backups.as_deref(), Some(&[][..]));
    let busy = snapshots.next_snapshot().await.expect("two").expect("ok");
    let backups = busy.backups.expect("backups");
    assert_eq!(backups.len(), 1);
    assert_eq!(
        backups[0].backup.as_ref().map(|b| b.id.as_str()),
        Some("b1")
    );
    drop(snapshots);

    let (seen, first) = peer.await.expect("peer");
    assert_eq!(seen.uri.path(), "/backups/streamed/progress");
    match first {
        Some(Message::Close(Some(frame))) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected a close frame 1000, got {other:?}"),
    }
}

#[tokio::test]
async fn a_close_before_the_final_event_is_truncated() {
    let (url, _peer) = peer(|mut socket| async move {
        text(&mut socket, event("INITIALIZED", 0, true)).await;
        close(&mut socket, CloseCode::Normal).await;
    })
    .await;
    let stream = client(&url)
        .create_over_websocket()
        .await
        .expect("upgraded");
    let err = stream.finish(|_| {}).await.expect_err("truncated");
    assert_eq!(err.kind(), ErrorKind::Truncated, "{err:?}");
    assert_eq!(err.operation(), Some(Operation::CreateOverWebSocket));
}

#[tokio::test]
async fn a_connection_cut_without_a_close_frame_is_truncated() {
    let (url, _peer) = peer(|mut socket| async move {
        text(&mut socket, event("INITIALIZED", 0, true)).await;
        // Dropped without a close frame: the TCP connection just ends.
    })
    .await;
    let stream = client(&url)
        .create_over_websocket()
        .await
        .expect("upgraded");
    let err = stream.finish(|_| {}).await.expect_err("truncated");
    assert_eq!(err.kind(), ErrorKind::Truncated, "{err:?}");
}

#[tokio::test]
async fn a_binary_message_is_unexpected() {
    let (url, _peer) = peer(|mut socket| async move {
        socket
            .send(Message::binary(Bytes::from_static(&[0, 1, 2])))
            .await
            .expect("send");
        let _ = next_message(&mut socket).await;
    })
    .await;
    let stream = client(&url)
        .create_over_websocket()
        .await
        .expect("upgraded");
    let err = stream.finish(|_| {}).await.expect_err("unexpected");
    assert_eq!(err.kind(), ErrorKind::UnexpectedMessage, "{err:?}");
}

#[tokio::test]
async fn a_message_over_the_frame_limit_is_refused() {
    let (url, _peer) = peer(|mut socket| async move {
        let big = format!(r#"{{"backups":[],"pad":"{}"}}"#, "x".repeat(2000));
        text(&mut socket, big).await;
        let _ = next_message(&mut socket).await;
    })
    .await;
    let mut snapshots = client(&url).watch_progress().await.expect("upgraded");
    let err = snapshots
        .next_snapshot()
        .await
        .expect("an item")
        .expect_err("too large");
    assert!(
        matches!(
            err,
            Error::FrameTooLarge {
                operation: Operation::WatchProgress,
                limit: 1024
            }
        ),
        "{err:?}"
    );
    assert!(snapshots.next_snapshot().await.is_none(), "ends after it");
}

#[tokio::test]
async fn a_silent_socket_hits_the_idle_timeout() {
    let (url, _peer) = peer(|mut socket| async move {
        text(&mut socket, event("INITIALIZED", 0, true)).await;
        // Then silence, reading (the client's input first) until the client leaves.
        while let Ok(Some(Ok(message))) = tokio::time::timeout(PATIENCE, socket.next()).await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
    let mut stream = client(&url)
        .create_over_websocket()
        .await
        .expect("upgraded");
    stream.next_event().await.expect("first").expect("ok");
    let started = Instant::now();
    let err = stream
        .next_event()
        .await
        .expect("an item")
        .expect_err("timeout");
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Idle,
                operation: Some(Operation::CreateOverWebSocket)
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn pings_are_answered() {
    let (url, peer) = peer(|mut socket| async move {
        socket
            .send(Message::Ping(Bytes::from_static(b"are you there")))
            .await
            .expect("ping");
        let pong = tokio::time::timeout(PATIENCE, async {
            loop {
                match socket.next().await {
                    Some(Ok(Message::Pong(payload))) => return Some(payload),
                    Some(Ok(_)) => continue,
                    _ => return None,
                }
            }
        })
        .await
        .expect("a pong in time");
        // The snapshot comes only after the pong, so the client's read waits for it.
        text(&mut socket, r#"{"backups":[]}"#).await;
        let _ = next_message(&mut socket).await;
        pong
    })
    .await;
    let mut snapshots = client(&url).watch_progress().await.expect("upgraded");
    snapshots.next_snapshot().await.expect("one").expect("ok");
    drop(snapshots);
    let (_, pong) = peer.await.expect("peer");
    assert_eq!(pong.as_deref(), Some(&b"are you there"[..]));
}

#[tokio::test]
async fn a_refused_handshake_is_read_as_an_http_error() {
    let url = raw_peer(
        "HTTP/1.1 511 Network Authentication Required\r\ncontent-type: text/plain\r\n\
         content-length: 20\r\n\r\nsign in to Pieces OS",
    )
    .await;
    let err = client(&url).watch_progress().await.expect_err("refused");
    assert!(
        matches!(
            &err,
            Error::Unauthenticated { operation: Operation::WatchProgress, message }
                if message.contains("sign in")
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refused_handshake_larger_than_the_body_limit_is_too_large() {
    let url = raw_peer(
        "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\n\
         content-length: 100\r\n\r\n",
    )
    .await;
    let client = BackupsClient::builder()
        .base_url(url)
        .max_body(10)
        .build()
        .expect("client");
    let err = client.watch_progress().await.expect_err("too large");
    assert_eq!(err.kind(), ErrorKind::BodyTooLarge, "{err:?}");
}

#[tokio::test]
async fn a_101_without_the_right_accept_key_is_not_an_upgrade() {
    let url = raw_peer(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
         sec-websocket-accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n",
    )
    .await;
    let err = client(&url).watch_progress().await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::UnexpectedStatus, "{err:?}");
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let err = client(&url)
        .create_over_websocket()
        .await
        .expect_err("refused");
    assert_eq!(
        err.kind(),
        ErrorKind::Transport(backups_hyper::TransportKind::Connect),
        "{err:?}"
    );
    assert_eq!(err.operation(), Some(Operation::CreateOverWebSocket));
}
