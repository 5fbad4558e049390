//! A live round trip through the blocking client against the reference server, from plain
//! `#[test]` functions: no async and no runtime in sight.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use backups_blocking::models::ProgressStatus;
use backups_blocking::{AnyOperation, AnyOutput, BackupId, Client, Error, Operation};
use backups_testkit::BlockingServer;

#[test]
fn a_round_trip_through_every_kind_of_call() {
    let server = BlockingServer::start(&[("notes.txt", b"hello"), ("a/b.bin", &[7; 4096])], |_| {});
    let notes = server.server().dirs().data().join("notes.txt");
    let client = Client::builder()
        .base_url(server.base_url())
        .build()
        .expect("a client");

    // create, list, get
    let made = client.create().expect("create");
    let id = BackupId::new(made.id.clone()).expect("an id");
    let listed = client.list().expect("list");
    assert!(listed.iter().any(|backup| backup.id == made.id));
    assert_eq!(client.get(&id).expect("get").id, made.id);

    // restore: the data comes back
    std::fs::write(&notes, b"changed").expect("write");
    let restored = client.restore(&id).expect("restore");
    assert_eq!(restored.id, made.id);
    assert_eq!(std::fs::read(&notes).expect("read"), b"hello");

    // create_streamed as an iterator, to COMPLETED
    let mut progress = client.create_streamed().expect("create_streamed");
    let events: Vec<_> = progress
        .by_ref()
        .collect::<Result<_, Error>>()
        .expect("every event");
    let last = events.last().expect("an event");
    assert_eq!(last.status, Some(ProgressStatus::Completed));
    let streamed_id = progress
        .backup_id()
        .expect("an event named the backup")
        .clone();
    assert_eq!(
        last.backup.as_ref().map(|b| b.id.as_str()),
        Some(streamed_id.as_str())
    );
    assert!(client.creation_status(&streamed_id).is_ok());

    // restore_streamed read to its end with follow, the callback on this thread
    std::fs::write(&notes, b"changed again").expect("write");
    let mut seen = 0;
    let restored = client
        .restore_streamed(&id)
        .expect("restore_streamed")
        .follow(|_| seen += 1)
        .expect("follow");
    assert_eq!(restored.id, made.id);
    assert!(seen >= 1);
    assert_eq!(std::fs::read(&notes).expect("read"), b"hello");
    assert!(client.restoration_status(&id).is_ok());

    // the WebSocket channels
    let over_socket = client
        .create_over_websocket()
        .expect("create_over_websocket")
        .finish(|_| {})
        .expect("finish");
    let restored = client
        .restore_over_websocket(&id)
        .expect("restore_over_websocket")
        .finish(|_| {})
        .expect("finish");
    assert_eq!(restored.id, made.id);
    let mut watch = client.watch_progress().expect("watch_progress");
    let snapshot = watch.next().expect("a first snapshot").expect("a snapshot");
    drop(snapshot);
    drop(watch);

    // run, with any operation as a value
    let list = AnyOperation::from_parts(Operation::List, None, None).expect("list");
    let AnyOutput::Backups(backups) = client.run(&list, |_| {}).expect("run") else {
        panic!("list answers backups");
    };
    assert!(backups.iter().any(|backup| backup.id == over_socket.id));

    // a cancel with nothing running is the server's error, as with the async client
    assert!(client.cancel_creation(&id).is_err());
    assert!(client.cancel_restoration(&id).is_err());

    // delete
    client.delete(&id).expect("delete");
    let err = client.get(&id).expect_err("deleted");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[test]
fn clones_call_from_many_threads_at_once() {
    let server = BlockingServer::start(&[("notes.txt", b"hello")], |_| {});
    let client = Client::builder()
        .base_url(server.base_url())
        .build()
        .expect("a client");
    client.create().expect("create");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    assert_eq!(client.list().expect("list").len(), 1);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no panic");
    }
}

#[test]
fn a_server_that_is_not_there_is_a_connect_error() {
    // A server that is not there: the connect error comes back through the runtime thread.
    let free = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", free.local_addr().expect("addr"));
    drop(free);
    let client = Client::builder().base_url(base).build().expect("a client");
    let err = client.list().expect_err("nothing listens");
    assert!(err.is_connect(), "{err:?}");
}

/// A keep-alive peer answering every request with an empty listing; it counts connections and
/// reports when one is closed by the client.
fn keep_alive_peer() -> (String, Arc<AtomicUsize>, mpsc::Receiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let connections = Arc::new(AtomicUsize::new(0));
    let (closed_tx, closed) = mpsc::channel();
    let counted = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counted.fetch_add(1, Ordering::SeqCst);
            let closed_tx = closed_tx.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                loop {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => {
                            let _ = closed_tx.send(Instant::now());
                            return;
                        }
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    // Requests without a body (GET): one per blank line.
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let body = br#"{"iterable":[]}"#;
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        );
                        let _ = stream.write_all(head.as_bytes());
                        let _ = stream.write_all(body);
                    }
                }
            });
        }
    });
    (base, connections, closed)
}

#[test]
fn the_pool_keeps_connections_between_calls_and_replaces_them_when_idle() {
    let (base, connections, closed) = keep_alive_peer();
    let client = Client::builder()
        .base_url(base)
        .pool_idle_timeout(Duration::from_millis(300))
        .build()
        .expect("a client");
    for _ in 0..5 {
        assert!(client.list().expect("list").is_empty());
    }
    // One connection, kept alive and reused by each call.
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    // Nothing runs between calls (no runtime, no pool thread): a connection idle for longer than
    // the pool's timeout is closed by the next call, which opens a new one.
    std::thread::sleep(Duration::from_millis(400));
    assert!(client.list().expect("list").is_empty());
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    closed
        .recv_timeout(Duration::from_secs(5))
        .expect("the idle connection was closed");
    // Dropping the client closes the one it keeps.
    drop(client);
    closed
        .recv_timeout(Duration::from_secs(5))
        .expect("the kept connection is closed with the client");
}

#[test]
fn the_request_timeout_bounds_a_call_that_gets_no_answer() {
    // A peer that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let _peer = std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(30));
        drop(held);
    });
    let client = Client::builder()
        .base_url(base)
        .request_timeout(Duration::from_millis(300))
        .retry(backups_blocking::RetryPolicy::none())
        .build()
        .expect("a client");
    let started = Instant::now();
    let err = client.list().expect_err("no answer");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// The asset backups (`POST /backup`, `POST /backup/asset`): with no body and with the official
/// Python SDK's serialized models, 204 each.
#[test]
fn the_asset_backups_answer_with_nothing() {
    let server = BlockingServer::start(&[("notes.txt", b"hello")], |_| {});
    let client = Client::builder()
        .base_url(server.base_url())
        .build()
        .expect("a client");
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../backups-models/tests/fixtures");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(fixtures.join(name)).expect("fixture")).expect("json")
    };
    let assets = backups_blocking::models::Assets::from_value(read("assets.json")).expect("Assets");
    let asset =
        backups_blocking::models::Asset::from_value(read("asset_full.json")).expect("Asset");
    client.backup_assets(None).expect("no body");
    client.backup_assets(Some(&assets)).expect("assets");
    client.backup_asset(None).expect("no body");
    client.backup_asset(Some(&asset)).expect("asset");
    // Nothing was made of them on the reference server (docs/wire-protocol.md).
    assert!(client.list().expect("list").is_empty());
}

/// A proxy in the environment (`HTTP_PROXY` with no `NO_PROXY` for Pieces OS) is not used: the
/// calls go to Pieces OS on this machine. The environment is the process's, so the call is made
/// by this test binary run again as a child with the proxy set (a discard port that refuses).
#[test]
fn a_proxy_in_the_environment_is_not_used() {
    const CHILD: &str = "BACKUPS_BLOCKING_TEST_PROXY_CHILD";
    const NAME: &str = "a_proxy_in_the_environment_is_not_used";
    if let Some(url) = std::env::var_os(CHILD) {
        let client = Client::builder()
            .base_url(url.to_str().expect("utf-8"))
            .retry(backups_blocking::RetryPolicy::none())
            .build()
            .expect("a client");
        client.list().expect("list, not through the proxy");
        return;
    }
    let server = BlockingServer::start(&[("notes.txt", b"hello")], |_| {});
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD, server.base_url())
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .expect("the child runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("1 passed"), "the child ran no test: {text}");
}
