//! The faults a client's tests can ask of the server (`ServerConfig::silent_phase`,
//! `ServerConfig::drop_streams_after`, and their options `--silent-phase-secs` and
//! `--drop-streams-after`): a silent phase half way through every create and restore, during
//! which the status endpoint keeps answering IN-PROGRESS; and progress streams broken after N
//! events (an HTTP response cut before its end, a WebSocket dropped without a close frame)
//! while the work goes on to its end.

mod child;
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Reply, TestServer, listed, parse_response, request, tree_contents};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// The events each stream is cut after in these tests.
const CUT_AFTER: u32 = 3;

/// Changes the data directory so that a restore has something to do.
fn change_data(t: &TestServer) {
    std::fs::write(t.dirs.data().join("a.txt"), "changed\n").expect("write");
    std::fs::remove_file(t.dirs.data().join("sub/b.txt")).expect("remove");
}

/// A streamed POST read to the end of the connection, as raw bytes: the response, and whether
/// the read ended in an error (a reset) rather than an end of file.
async fn read_cut_stream(addr: SocketAddr, path: &str) -> (Vec<u8>, bool) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAccept: application/x-ndjson\r\n\
         Content-Length: 0\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let reset = loop {
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .expect("the stream ends in time");
        match read {
            Ok(0) => break false,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) => break true,
        }
    };
    (raw, reset)
}

/// Checks that `raw` is a chunked NDJSON answer broken off after exactly [`CUT_AFTER`] events,
/// none of them final; returns them.
#[track_caller]
fn assert_cut(raw: &[u8]) -> Vec<Value> {
    let reply: Reply = parse_response(raw, false);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("transfer-encoding"), Some("chunked"));
    assert!(
        !raw.ends_with(b"0\r\n\r\n"),
        "the body must not end cleanly: {:?}",
        String::from_utf8_lossy(raw)
    );
    let text = reply.text();
    assert!(text.ends_with('\n'), "whole lines only: {text:?}");
    let events: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("an event"))
        .collect();
    assert_eq!(events.len(), CUT_AFTER as usize, "{events:?}");
    assert_eq!(events[0]["status"], "INITIALIZED");
    for event in &events[1..] {
        assert_eq!(event["status"], "IN-PROGRESS", "{events:?}");
    }
    events
}

/// Polls `GET path` (a status) until it answers a final value; returns it.
async fn final_status(addr: SocketAddr, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = request(addr, "GET", path, &[], b"").await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let status = reply.json();
        if status["value"] != "IN-PROGRESS" && status["value"] != "INITIALIZED" {
            return status;
        }
        assert!(Instant::now() < deadline, "{path} never ended: {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_http_responses_break_after_n_events_and_the_work_completes() {
    // About 30 steps of 40 ms per operation: the cut comes with most of the work still to do.
    let t = TestServer::start_with(|c| {
        c.drop_streams_after = Some(CUT_AFTER);
        c.progress_delay = Duration::from_millis(40);
    })
    .await;
    // The backup is made by a streamed create that is cut too.
    let (raw, _reset) = read_cut_stream(t.addr, "/backups/create/streamed").await;
    let events = assert_cut(&raw);
    let id = events[0]["backup"]["id"].as_str().expect("id").to_owned();
    let status_path = format!("/backup/{id}/creation/status");
    let status = t.get(&status_path).await.json();
    assert_eq!(
        status["value"], "IN-PROGRESS",
        "the create outlives its stream"
    );
    assert_eq!(
        final_status(t.addr, &status_path).await["value"],
        "COMPLETED"
    );
    assert_eq!(listed(t.addr).await, vec![id.clone()]);
    let backup = tree_contents(t.dirs.data());
    change_data(&t);

    let (raw, _reset) = read_cut_stream(t.addr, &format!("/backup/{id}/restore/streamed")).await;
    let events = assert_cut(&raw);
    assert_eq!(events[0]["backup"]["id"], id.as_str());
    let status_path = format!("/backup/{id}/restoration/status");
    let status = t.get(&status_path).await.json();
    assert_eq!(
        status["value"], "IN-PROGRESS",
        "the restore outlives its stream"
    );
    assert_eq!(
        final_status(t.addr, &status_path).await["value"],
        "COMPLETED"
    );
    assert_eq!(tree_contents(t.dirs.data()), backup);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_socket_is_dropped_without_a_close_frame_after_n_events() {
    let t = TestServer::start_with(|c| {
        c.drop_streams_after = Some(CUT_AFTER);
        c.progress_delay = Duration::from_millis(40);
    })
    .await;
    let id = t.create().await["id"].as_str().expect("id").to_owned();
    let backup = tree_contents(t.dirs.data());
    change_data(&t);

    let url = format!("ws://{}/backup/{id}/restore/streamed/websocket", t.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("handshake");
    let mut texts = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("the socket ends in time");
        match message {
            Some(Ok(Message::Text(text))) => texts.push(text.as_str().to_owned()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(other)) => panic!("no close frame expected, got {other:?}"),
            // Reset without a closing handshake, or the end of the stream.
            Some(Err(_)) | None => break,
        }
    }
    assert_eq!(texts.len(), CUT_AFTER as usize, "{texts:?}");
    let last: Value = serde_json::from_str(&texts[texts.len() - 1]).expect("event");
    assert_eq!(last["status"], "IN-PROGRESS", "cut before the end");

    let status_path = format!("/backup/{id}/restoration/status");
    assert_eq!(
        final_status(t.addr, &status_path).await["value"],
        "COMPLETED"
    );
    assert_eq!(tree_contents(t.dirs.data()), backup);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_phase_sends_no_event_while_the_status_answers_in_progress() {
    const SILENCE: Duration = Duration::from_millis(1500);
    let t = TestServer::start_with(|c| c.silent_phase = SILENCE).await;
    // The create has its silent phase too.
    let started = Instant::now();
    let id = t.create().await["id"].as_str().expect("id").to_owned();
    let took = started.elapsed();
    assert!(
        took >= SILENCE,
        "the create was not silent for long: {took:?}"
    );
    let backup = tree_contents(t.dirs.data());
    change_data(&t);

    let path = format!("/backup/{id}/restore/streamed");
    let mut stream = common::EventStream::open(t.addr, &path, b"").await;
    let reader = tokio::spawn(async move {
        let mut events = Vec::new();
        while let Some(event) = stream.next().await {
            events.push((Instant::now(), event));
        }
        events
    });
    let status_path = format!("/backup/{id}/restoration/status");
    let mut polls = Vec::new();
    while !reader.is_finished() {
        let reply = t.get(&status_path).await;
        // Before the restore has started, the status is a 404 in plain text.
        let value = if reply.status == 200 {
            reply.json()["value"].clone()
        } else {
            serde_json::Value::Null
        };
        polls.push((Instant::now(), reply.status, value));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = reader.await.expect("reader");
    assert_eq!(events.last().expect("events").1["status"], "COMPLETED");
    assert_eq!(tree_contents(t.dirs.data()), backup);

    // The longest wait between two events is the silent phase, and it came half way.
    let (gap, before, after) = events
        .windows(2)
        .map(|pair| (pair[1].0 - pair[0].0, pair[0].0, pair[1].0))
        .max_by_key(|(gap, _, _)| *gap)
        .expect("two events");
    eprintln!(
        "silent for {gap:?} of {SILENCE:?}; {} status polls",
        polls.len()
    );
    assert!(gap >= SILENCE - Duration::from_millis(100), "{gap:?}");
    assert!(gap < SILENCE + Duration::from_secs(2), "{gap:?}");
    let silent_from = events.iter().find(|(at, _)| *at == before).expect("event");
    assert!(
        silent_from.1["percentage"]
            .as_u64()
            .is_some_and(|p| p >= 50),
        "silent from {}",
        silent_from.1
    );
    let margin = Duration::from_millis(100);
    let during: Vec<_> = polls
        .iter()
        .filter(|(at, _, _)| *at > before + margin && *at + margin < after)
        .collect();
    assert!(during.len() >= 3, "{} polls in the silence", during.len());
    for (_, code, value) in during {
        assert_eq!((*code, value.as_str()), (200, Some("IN-PROGRESS")));
    }
}

/// The same faults as options of the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_takes_drop_streams_after() {
    let root = tempfile::tempdir().expect("root");
    let data = root.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    common::write_tree(&data);
    let cut = CUT_AFTER.to_string();
    let server = child::spawn(
        &data,
        &root.path().join("store"),
        &child::port_file(root.path()),
        &["--drop-streams-after", &cut, "--progress-delay-ms", "20"],
    )
    .await;
    let (raw, _reset) = read_cut_stream(server.addr, "/backups/create/streamed").await;
    let events = assert_cut(&raw);
    let id = events[0]["backup"]["id"].as_str().expect("id").to_owned();
    let status_path = format!("/backup/{id}/creation/status");
    assert_eq!(
        final_status(server.addr, &status_path).await["value"],
        "COMPLETED"
    );
    assert_eq!(listed(server.addr).await, vec![id]);
    server.kill();
}
