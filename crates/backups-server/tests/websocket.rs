//! The three WebSocket channels over TCP, with tokio-tungstenite as the client: the progress
//! snapshots, the create and restore sockets, the refusals before the upgrade, and hostile
//! clients (oversized, binary, floods, never reading, many idle sockets).

mod common;

use std::time::{Duration, Instant};

use backups_models::{BackupStreamedProgress, BackupsStreamedProgress, ProgressStatus};
use backups_server::Fault;
use common::{TestServer, listed, request, tree_contents};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const PROGRESS: &str = "/backups/streamed/progress";
const CREATE: &str = "/backups/create/streamed/websocket";
const UNKNOWN: &str = "0000000000001-0000";

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn restore_path(id: &str) -> String {
    format!("/backup/{id}/restore/streamed/websocket")
}

fn url(t: &TestServer, path: &str) -> String {
    format!("ws://{}{path}", t.addr)
}

async fn connect(t: &TestServer, path: &str) -> Ws {
    let (ws, response) = tokio_tungstenite::connect_async(url(t, path))
        .await
        .unwrap_or_else(|err| panic!("handshake on {path}: {err}"));
    assert_eq!(response.status(), 101);
    ws
}

/// The handshake's refusal: status, content type and body.
async fn refused(t: &TestServer, path: &str) -> (u16, String, String) {
    match tokio_tungstenite::connect_async(url(t, path)).await {
        Err(WsError::Http(response)) => {
            let content_type = response.headers()["content-type"]
                .to_str()
                .expect("type")
                .to_owned();
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default());
            (response.status().as_u16(), content_type, body.into_owned())
        }
        Ok(_) => panic!("{path}: upgraded"),
        Err(err) => panic!("{path}: {err}"),
    }
}

/// The next text message (pings and pongs skipped); `None` once the socket closed.
async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .expect("a message in time")?;
        match message.expect("a message") {
            Message::Text(text) => return Some(text.as_str().to_owned()),
            Message::Close(_) => return None,
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

async fn next_snapshot(ws: &mut Ws) -> BackupsStreamedProgress {
    let text = next_text(ws).await.expect("a snapshot");
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
}

/// Reads up to the close frame; its code, skipping whatever comes before.
async fn close_code(ws: &mut Ws) -> CloseCode {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("the close in time")
            .expect("a close frame before the end");
        match message.expect("a message") {
            Message::Close(Some(frame)) => return frame.code,
            Message::Close(None) => panic!("a close frame without a code"),
            _ => {}
        }
    }
}

/// Every event of an operation socket, and the code it closed with.
async fn events_and_close(ws: &mut Ws) -> (Vec<BackupStreamedProgress>, CloseCode) {
    let mut events = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .expect("an event in time")
            .expect("a close frame before the end");
        match message.expect("a message") {
            Message::Text(text) => events.push(serde_json::from_str(&text).expect("an event")),
            Message::Close(frame) => return (events, frame.expect("a code").code),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Checks the events of one operation: INITIALIZED with the backup, rising IN-PROGRESS, and a
/// COMPLETED with the backup; returns the backup's id.
#[track_caller]
fn check_events(events: &[BackupStreamedProgress]) -> String {
    let first = events.first().expect("events");
    assert_eq!(
        first.status,
        Some(ProgressStatus::Initialized),
        "{events:?}"
    );
    let id = first.backup.as_ref().expect("the id up front").id.clone();
    let last = events.last().expect("events");
    assert_eq!(last.status, Some(ProgressStatus::Completed), "{events:?}");
    assert_eq!(
        last.backup.as_ref().map(|b| b.id.as_str()),
        Some(id.as_str())
    );
    let middle = &events[1..events.len() - 1];
    assert!(
        middle
            .iter()
            .all(|e| e.status == Some(ProgressStatus::InProgress)),
        "{events:?}"
    );
    assert!(
        middle.windows(2).all(|w| w[0].percentage < w[1].percentage),
        "{events:?}"
    );
    id
}

fn change_data(t: &TestServer) {
    let data = t.dirs.data();
    std::fs::write(data.join("a.txt"), "changed\n").expect("write");
    std::fs::write(data.join("sub/new.txt"), "new\n").expect("write");
    std::fs::remove_file(data.join("sub/deeper/c.json")).expect("remove");
}

/// How one operation showed in a run of snapshots: each status in order, one per snapshot.
fn appearances(snapshots: &[BackupsStreamedProgress], restore: bool, id: &str) -> Vec<String> {
    snapshots
        .iter()
        .map(|snapshot| {
            let list = if restore {
                &snapshot.restorations
            } else {
                &snapshot.backups
            };
            let list = list.as_ref().expect("arrays are always present");
            let entry = list
                .iter()
                .find(|e| e.backup.as_ref().is_some_and(|b| b.id == id));
            match entry {
                None => "absent".to_owned(),
                Some(entry) => serde_json::to_value(entry.status.as_ref().expect("status"))
                    .expect("json")
                    .as_str()
                    .expect("str")
                    .to_owned(),
            }
        })
        .collect()
}

/// The statuses an operation passes through, once each: absent, INITIALIZED, IN-PROGRESS,
/// the terminal one, absent again.
#[track_caller]
fn check_lifecycle(seen: &[String], terminal: &str) {
    let mut phases: Vec<&str> = seen.iter().map(String::as_str).collect();
    phases.dedup();
    assert_eq!(
        phases,
        ["absent", "INITIALIZED", "IN-PROGRESS", terminal, "absent"],
        "{seen:?}"
    );
    let terminal_snapshots = seen.iter().filter(|s| *s == terminal).count();
    assert_eq!(terminal_snapshots, 1, "the terminal event in one snapshot");
}

#[tokio::test]
async fn progress_starts_with_a_snapshot_ignores_text_and_answers_pings() {
    let t = TestServer::start().await;
    let mut ws = connect(&t, PROGRESS).await;
    let first = next_text(&mut ws).await.expect("a snapshot on connect");
    assert_eq!(first, r#"{"backups":[],"restorations":[]}"#);

    ws.send(Message::text("{}")).await.expect("send");
    ws.send(Message::text("not JSON at all"))
        .await
        .expect("send");
    ws.send(Message::Ping(Bytes::from_static(b"are you there")))
        .await
        .expect("ping");
    let pong = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("a message");
    assert_eq!(pong, Message::Pong(Bytes::from_static(b"are you there")));

    // Still open, and still sending: a create shows up.
    t.create().await;
    let snapshot = next_snapshot(&mut ws).await;
    assert_eq!(snapshot.backups.map(|b| b.len()), Some(1));
}

#[tokio::test]
async fn progress_follows_an_http_create_then_a_socket_restore() {
    let t = TestServer::start_with(|c| c.progress_delay = Duration::from_millis(5)).await;
    let mut watch = connect(&t, PROGRESS).await;
    let mut snapshots = vec![next_snapshot(&mut watch).await];

    // A create over HTTP; its snapshots come until it completes.
    let created = t.create().await;
    let id = created["id"].as_str().expect("id").to_owned();
    loop {
        let snapshot = next_snapshot(&mut watch).await;
        let done = appearances(std::slice::from_ref(&snapshot), false, &id) == ["COMPLETED"];
        snapshots.push(snapshot);
        if done {
            break;
        }
    }

    // A restore over its socket: the create leaves in the restore's first snapshot.
    change_data(&t);
    let mut restore = connect(&t, &restore_path(&id)).await;
    restore.send(Message::text("{}")).await.expect("input");
    let (events, code) = events_and_close(&mut restore).await;
    assert_eq!(code, CloseCode::Normal);
    check_events(&events);
    loop {
        let snapshot = next_snapshot(&mut watch).await;
        let done = appearances(std::slice::from_ref(&snapshot), true, &id) == ["COMPLETED"];
        snapshots.push(snapshot);
        if done {
            break;
        }
    }
    // The next change (another create) shows the restore gone.
    t.create().await;
    snapshots.push(next_snapshot(&mut watch).await);

    check_lifecycle(&appearances(&snapshots, false, &id), "COMPLETED");
    check_lifecycle(&appearances(&snapshots, true, &id), "COMPLETED");
    let completed = snapshots
        .iter()
        .flat_map(|s| s.backups.iter().flatten())
        .find(|e| e.status == Some(ProgressStatus::Completed))
        .expect("the create's last snapshot");
    assert_eq!(
        serde_json::to_value(completed.backup.as_deref().expect("backup")).expect("json"),
        created,
        "the terminal entry carries the backup made"
    );
}

#[tokio::test]
async fn create_socket_sends_every_event_then_closes_with_1000() {
    let t = TestServer::start_with(|c| c.progress_delay = Duration::from_millis(2)).await;
    let mut ws = connect(&t, CREATE).await;
    // The seed, as the first message: accepted and ignored.
    ws.send(Message::text(r#"{"schema":null}"#))
        .await
        .expect("input");
    let (events, code) = events_and_close(&mut ws).await;
    assert_eq!(code, CloseCode::Normal);
    assert!(events.len() > 2, "{events:?}");
    let id = check_events(&events);
    assert_eq!(listed(t.addr).await, std::slice::from_ref(&id));
    let status = t.get(&format!("/backup/{id}/creation/status")).await;
    assert_eq!(status.json()["value"], "COMPLETED");
}

#[tokio::test]
async fn restore_socket_restores_the_data() {
    let t = TestServer::start().await;
    let expected = tree_contents(t.dirs.data());
    let created = t.create().await;
    let id = created["id"].as_str().expect("id").to_owned();
    change_data(&t);
    assert_ne!(tree_contents(t.dirs.data()), expected);

    let mut ws = connect(&t, &restore_path(&id)).await;
    // The backup itself as the input, as the API allows.
    ws.send(Message::text(created.to_string()))
        .await
        .expect("input");
    let (events, code) = events_and_close(&mut ws).await;
    assert_eq!(code, CloseCode::Normal);
    assert_eq!(check_events(&events), id);
    assert_eq!(tree_contents(t.dirs.data()), expected);
}

#[tokio::test]
async fn a_first_message_that_is_not_the_input_closes_with_1007_and_the_work_goes_on() {
    let t = TestServer::start().await;
    let mut ws = connect(&t, CREATE).await;
    ws.send(Message::text("[1, 2]")).await.expect("send");
    assert_eq!(close_code(&mut ws).await, CloseCode::Invalid);
    wait_until_listed(&t, 1).await;
}

#[tokio::test]
async fn refusals_come_before_the_upgrade() {
    let t = TestServer::start().await;
    let (status, content_type, body) = refused(&t, &restore_path(UNKNOWN)).await;
    assert_eq!(
        (status, content_type.as_str()),
        (404, "text/plain; charset=utf-8")
    );
    assert!(body.contains("no such backup"), "{body}");
    let (status, _, _) = refused(&t, &restore_path("..")).await;
    assert_eq!(status, 404);

    // Plain GETs: 400 with a reason; other methods 405 as for every route.
    for path in [PROGRESS, CREATE, &restore_path(UNKNOWN)] {
        let reply = t.get(path).await;
        reply.assert_text_error(400);
        assert!(
            reply.text().contains("WebSocket handshake"),
            "{}",
            reply.text()
        );
        let reply = t.post(path, &[], b"{}").await;
        reply.assert_text_error(405);
        assert_eq!(reply.header("allow"), Some("GET"));
    }
    assert!(listed(t.addr).await.is_empty(), "nothing was started");

    // Another WebSocket version: 426, naming the one spoken.
    let reply = request(
        t.addr,
        "GET",
        PROGRESS,
        &[
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "8"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
        b"",
    )
    .await;
    reply.assert_text_error(426);
    assert_eq!(reply.header("sec-websocket-version"), Some("13"));

    for (fault, code) in [(Fault::Unauthenticated, 511), (Fault::InternalError, 500)] {
        let t = TestServer::start_with(|c| c.simulate = Some(fault)).await;
        for path in [PROGRESS, CREATE, &restore_path(UNKNOWN)] {
            let (status, content_type, _) = refused(&t, path).await;
            assert_eq!(
                (status, content_type.as_str()),
                (code, "text/plain; charset=utf-8")
            );
        }
    }
}

#[tokio::test]
async fn oversized_and_binary_messages_close_the_socket() {
    let t = TestServer::start().await;
    let mut ws = connect(&t, PROGRESS).await;
    ws.send(Message::text("x".repeat(100 * 1024)))
        .await
        .expect("send");
    assert_eq!(close_code(&mut ws).await, CloseCode::Size);

    let mut ws = connect(&t, CREATE).await;
    ws.send(Message::binary(b"{}".to_vec()))
        .await
        .expect("send");
    assert_eq!(close_code(&mut ws).await, CloseCode::Unsupported);
    // The create goes on without its socket.
    wait_until_listed(&t, 1).await;
}

#[tokio::test]
async fn a_flood_of_messages_is_cut_off_and_harms_no_one() {
    let t = TestServer::start().await;
    let ws = connect(&t, PROGRESS).await;
    let (mut sink, mut stream) = ws.split();
    let flood = tokio::spawn(async move {
        for n in 0..20_000u32 {
            // `feed` writes without waiting for each message to be flushed.
            if sink.feed(Message::text(n.to_string())).await.is_err() {
                break;
            }
        }
        let _ = sink.flush().await;
    });
    let started = Instant::now();
    assert!(listed(t.addr).await.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "served during the flood"
    );
    let mut code = None;
    while let Some(Ok(message)) = stream.next().await {
        if let Message::Close(frame) = message {
            code = frame.map(|f| f.code);
            break;
        }
    }
    assert_eq!(code, Some(CloseCode::Policy));
    flood.await.expect("flood task");
}

/// A client that reads nothing: its receive window is tiny and it never reads, so the server's
/// queue for it fills up (progress is coalesced, but every create adds two snapshots that are
/// not: its start and its end); it is cut off while a reading client is served on.
#[tokio::test]
async fn a_client_that_never_reads_is_dropped_not_buffered() {
    let t = TestServer::start().await;
    // Many files of one size and nothing big: a create then moves by one percent at a time,
    // about a hundred snapshots each.
    std::fs::remove_file(t.dirs.data().join("big.bin")).expect("remove");
    std::fs::remove_file(t.dirs.data().join("sub/b.txt")).expect("remove");
    for n in 0..200 {
        let name = t.dirs.data().join(format!("f{n:03}.txt"));
        std::fs::write(name, n.to_string().repeat(1000)).expect("write");
    }
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = socket.connect(t.addr).await.expect("connect");
    let (mut silent, _) =
        tokio_tungstenite::client_async(url(&t, PROGRESS), MaybeTlsStream::Plain(tcp))
            .await
            .expect("handshake");
    let mut reader = connect(&t, PROGRESS).await;
    let reading = tokio::spawn(async move { close_code(&mut reader).await });

    let rounds = 8;
    let at_once = 8;
    for _ in 0..rounds {
        let started = Instant::now();
        let creates: Vec<_> = (0..at_once)
            .map(|_| request(t.addr, "POST", "/backups/create", &[], b""))
            .collect();
        for reply in futures_util::future::join_all(creates).await {
            assert_eq!(reply.status, 200, "{}", reply.text());
        }
        assert!(started.elapsed() < Duration::from_secs(20), "creates go on");
    }
    let started = Instant::now();
    assert_eq!(listed(t.addr).await.len(), rounds * at_once);
    assert!(started.elapsed() < Duration::from_secs(2));

    // Now the silent client reads: what was in flight, then the end (a 1008 close, or the
    // connection dropped once the close could not be written in time).
    let mut received = 0usize;
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(message)) = silent.next().await {
            match message {
                Message::Text(_) => received += 1,
                Message::Close(frame) => {
                    assert_eq!(frame.map(|f| f.code), Some(CloseCode::Policy));
                    break;
                }
                _ => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the silent client was let go; it read {received}"
    );

    // The reading client was never cut off: it is closed by the shutdown.
    t.server.shutdown().await.expect("shutdown");
    assert_eq!(reading.await.expect("reader"), CloseCode::Away);
    assert!(received > 0);
}

#[tokio::test]
async fn sixty_four_idle_sockets_and_the_api_still_answers() {
    let t = TestServer::start().await;
    let mut sockets = Vec::new();
    for n in 0..64 {
        let path = if n % 2 == 0 { PROGRESS } else { CREATE };
        sockets.push(connect(&t, path).await);
    }
    let started = Instant::now();
    let reply = t.get("/backups").await;
    assert_eq!(reply.status, 200);
    let health = t.get("/.well-known/health").await;
    assert_eq!(health.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered in {:?}",
        started.elapsed()
    );
    // The 32 creates all complete, and every idle socket still has its messages.
    wait_until_listed(&t, 32).await;
    for ws in sockets.iter_mut().step_by(2) {
        assert!(next_text(ws).await.is_some());
    }
}

#[tokio::test]
async fn a_dropped_create_socket_does_not_cancel_the_backup() {
    let t = TestServer::start_with(|c| c.progress_delay = Duration::from_millis(20)).await;
    let mut ws = connect(&t, CREATE).await;
    let first: BackupStreamedProgress =
        serde_json::from_str(&next_text(&mut ws).await.expect("INITIALIZED")).expect("event");
    let id = first.backup.expect("id up front").id;
    drop(ws);
    let status = t.get(&format!("/backup/{id}/creation/status")).await;
    assert_eq!(status.status, 200);
    assert_ne!(status.json()["value"], "COMPLETED", "still running");
    wait_until_listed(&t, 1).await;
    assert_eq!(listed(t.addr).await, std::slice::from_ref(&id));
    let status = t.get(&format!("/backup/{id}/creation/status")).await;
    assert_eq!(status.json()["value"], "COMPLETED");
}

#[tokio::test]
async fn shutdown_closes_the_sockets_with_1001() {
    let t = TestServer::start().await;
    let mut ws = connect(&t, PROGRESS).await;
    next_snapshot(&mut ws).await;
    let started = Instant::now();
    let closing = tokio::spawn(async move { close_code(&mut ws).await });
    t.server.shutdown().await.expect("shutdown");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no wait for the timeout"
    );
    assert_eq!(closing.await.expect("task"), CloseCode::Away);
}

/// Waits (up to a minute) until the server lists `count` backups.
async fn wait_until_listed(t: &TestServer, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while listed(t.addr).await.len() < count {
        assert!(Instant::now() < deadline, "{count} backups never listed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
