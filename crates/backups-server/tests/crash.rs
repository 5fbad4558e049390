//! Kill the real binary mid-create (SIGKILL: no cleanup runs), restart it on the same store,
//! and check that every completed backup is listed, no partial one is, and the store verifies.

mod child;
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use child::spawn;
use common::{listed, pseudo_random, request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts a streamed create and returns once `events` progress events have arrived, leaving
/// the create running.
async fn create_until(addr: std::net::SocketAddr, events: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            b"POST /backups/create/streamed HTTP/1.1\r\nHost: x\r\n\
              Accept: application/x-ndjson\r\nContent-Length: 0\r\n\r\n",
        )
        .await
        .expect("send");
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while String::from_utf8_lossy(&seen).matches("\"status\"").count() < events {
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .expect("progress in time")
            .expect("read");
        assert!(n > 0, "stream ended: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
        assert!(
            !String::from_utf8_lossy(&seen).contains("COMPLETED"),
            "the create finished before the kill point; slow it down"
        );
    }
    stream
}

fn write_data(root: &Path) {
    for i in 0..12 {
        let len = 1000 + i * 20_000;
        std::fs::write(
            root.join(format!("file-{i:02}.bin")),
            pseudo_random(len, i as u64),
        )
        .expect("write");
    }
    std::fs::create_dir_all(root.join("nested")).expect("mkdir");
    std::fs::write(
        root.join("nested/large.bin"),
        pseudo_random(4 * 1024 * 1024, 99),
    )
    .expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_create_lists_only_complete_backups() {
    let data = tempfile::tempdir().expect("data");
    let store = tempfile::tempdir().expect("store");
    let ports = tempfile::tempdir().expect("ports");
    let port_file: PathBuf = ports.path().join("port.txt");
    write_data(data.path());

    // One completed backup that must survive every crash.
    let server = spawn(
        data.path(),
        store.path(),
        &port_file,
        &["--progress-delay-ms", "0"],
    )
    .await;
    let reply = request(server.addr, "POST", "/backups/create", &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mut completed = vec![reply.json()["id"].as_str().expect("id").to_owned()];
    server.kill();

    // Kill points: right after INITIALIZED, early, in the middle of the large file, late.
    for (round, events) in [1usize, 2, 6, 12].into_iter().enumerate() {
        // Change a file each round so that each create writes new objects.
        std::fs::write(
            data.path().join("file-00.bin"),
            pseudo_random(5000, 1000 + round as u64),
        )
        .expect("write");
        let server = spawn(
            data.path(),
            store.path(),
            &port_file,
            &["--progress-delay-ms", "40"],
        )
        .await;
        assert_eq!(
            listed(server.addr).await,
            completed,
            "round {round}: before"
        );
        let _stream = create_until(server.addr, events).await;
        server.kill();

        let server = spawn(
            data.path(),
            store.path(),
            &port_file,
            &["--progress-delay-ms", "0"],
        )
        .await;
        assert_eq!(
            listed(server.addr).await,
            completed,
            "round {round}: the killed create is not listed"
        );
        let leftovers = std::fs::read_dir(store.path().join("tmp"))
            .expect("tmp")
            .count();
        assert_eq!(leftovers, 0, "temporary files removed at restart");
        // The store still takes new backups after the crash.
        let reply = request(server.addr, "POST", "/backups/create", &[], b"").await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        completed.insert(0, reply.json()["id"].as_str().expect("id").to_owned());
        assert_eq!(listed(server.addr).await, completed);
        server.kill();
        child::verify_with_binary(store.path());
    }

    // Every listed backup restores to a tree of the right size.
    let to = tempfile::tempdir().expect("to");
    let summary = backups_server::restore_backup(store.path(), &completed[0], &to.path().join("r"))
        .expect("restore");
    assert_eq!(summary.files, 13);
}
