//! Shutdown in bounded time. SIGTERM to the real binary, and `RunningServer::shutdown` in
//! process, in the middle of a restore or a create: the server stops within 5 s (the binary
//! with exit status 0), the operation is canceled (its client gets `CANCELED`, or a plain
//! call its 500), the data directory keeps its old tree, nothing is left beside it or in the
//! store, no partial backup is listed, and the store verifies.

#![cfg(unix)]

mod child;
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use backups_server::temp::TempDirs;
use backups_server::verify_store;
use child::spawn;
use common::{EventStream, beside, listed, objects, request, tree_contents, write_tree};

/// What the server promises: stopped within this long.
const BOUND: Duration = Duration::from_secs(5);

/// Changes the data directory so that it differs from its backup; returns the tree it holds.
fn change_data(data: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    std::fs::write(data.join("a.txt"), "changed since the backup\n").expect("write");
    std::fs::remove_file(data.join("sub/b.txt")).expect("remove");
    std::fs::write(data.join("new.txt"), "new\n").expect("write");
    tree_contents(data)
}

/// What a canceled operation must not leave: a tree beside the data directory, a restore
/// journal, temporary files; and the store must verify (with the binary, as a user would).
fn assert_nothing_left(data: &Path, store: &Path) {
    assert_eq!(
        beside(data, &["store", "port.txt"]),
        Vec::<String>::new(),
        "left beside the data directory"
    );
    assert!(!store.join("restore.json").exists(), "restore journal left");
    let tmp = std::fs::read_dir(store.join("tmp")).expect("tmp").count();
    assert_eq!(tmp, 0, "files left in tmp/");
    child::verify_with_binary(store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_restore_exits_within_5_s_with_the_old_tree() {
    let root = tempfile::tempdir().expect("root");
    let data = root.path().join("data");
    let store = root.path().join("store");
    let port_file = child::port_file(root.path());
    std::fs::create_dir(&data).expect("mkdir");
    write_tree(&data);

    // The backup, made by a server with no fault; an idle one stops at once on SIGTERM too.
    let mut server = spawn(&data, &store, &port_file, &[]).await;
    let reply = request(server.addr, "POST", "/backups/create", &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let id = reply.json()["id"].as_str().expect("id").to_owned();
    let backup = tree_contents(&data);
    let (took, status) = server.terminate();
    assert!(status.success(), "{status}");
    assert!(took < BOUND, "idle server took {took:?}");
    drop(server);
    let old = change_data(&data);
    assert_ne!(old, backup);

    // A restore that would take over 30 s: it falls silent for 30 s half way.
    let args = ["--silent-phase-secs", "30", "--progress-delay-ms", "10"];
    let mut server = spawn(&data, &store, &port_file, &args).await;
    let path = format!("/backup/{id}/restore/streamed");
    let mut stream = EventStream::open(server.addr, &path, b"").await;
    loop {
        let event = stream.next().await.expect("events up to half way");
        if event["percentage"].as_u64().is_some_and(|p| p >= 50) {
            break;
        }
    }
    assert_ne!(
        beside(&data, &["store", "port.txt"]),
        Vec::<String>::new(),
        "mid-restore, the new tree is being written beside the data"
    );
    let (took, status) = server.terminate();
    eprintln!("SIGTERM mid-restore: exited after {took:?}, {status}");
    assert!(took < BOUND, "exited after {took:?}");
    assert!(status.success(), "{status}");
    let events = stream.rest().await;
    assert_eq!(
        events.last().map(|e| e["status"].clone()),
        Some("CANCELED".into()),
        "{events:?}"
    );
    assert_eq!(tree_contents(&data), old, "the restore was rolled back");
    assert_nothing_left(&data, &store);

    // The next start serves the backup, which still restores.
    let server = spawn(&data, &store, &port_file, &[]).await;
    assert_eq!(listed(server.addr).await, vec![id.clone()]);
    let reply = request(
        server.addr,
        "POST",
        &format!("/backup/{id}/restore"),
        &[],
        b"",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(tree_contents(&data), backup);
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_create_exits_within_5_s_and_lists_no_partial_backup() {
    let root = tempfile::tempdir().expect("root");
    let data = root.path().join("data");
    let store = root.path().join("store");
    let port_file = child::port_file(root.path());
    std::fs::create_dir(&data).expect("mkdir");
    write_tree(&data);
    let before = tree_contents(&data);

    // About 20 progress steps of 200 ms: a create of 4 s.
    let mut server = spawn(&data, &store, &port_file, &["--progress-delay-ms", "200"]).await;
    let mut stream = EventStream::open(server.addr, "/backups/create/streamed", b"").await;
    let first = stream.next().await.expect("INITIALIZED");
    assert_eq!(first["status"], "INITIALIZED");
    let id = first["backup"]["id"]
        .as_str()
        .expect("id up front")
        .to_owned();
    let second = stream.next().await.expect("IN-PROGRESS");
    assert_eq!(second["status"], "IN-PROGRESS", "{second}");

    let (took, status) = server.terminate();
    eprintln!("SIGTERM mid-create: exited after {took:?}, {status}");
    assert!(took < BOUND, "exited after {took:?}");
    assert!(status.success(), "{status}");
    let events = stream.rest().await;
    assert_eq!(
        events.last().map(|e| e["status"].clone()),
        Some("CANCELED".into()),
        "{events:?}"
    );
    assert_eq!(tree_contents(&data), before, "a create changes no data");
    assert_nothing_left(&data, &store);
    assert!(
        objects(&store).is_empty(),
        "a canceled create stores nothing"
    );
    let manifests = std::fs::read_dir(store.join("backups")).expect("backups");
    assert_eq!(manifests.count(), 0, "no manifest of {id}");

    let server = spawn(&data, &store, &port_file, &[]).await;
    assert_eq!(listed(server.addr).await, Vec::<String>::new());
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_server_shutdown_mid_restore_returns_within_5_s() {
    let dirs = TempDirs::new().expect("dirs");
    write_tree(dirs.data());
    let server = dirs.start(|_| {}).await.expect("start");
    let reply = request(server.local_addr(), "POST", "/backups/create", &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let id = reply.json()["id"].as_str().expect("id").to_owned();
    let dirs = server.shutdown().await.expect("shutdown");
    let old = change_data(dirs.data());

    // 300 ms per progress step: a restore of several seconds.
    let server = dirs
        .start(|config| config.progress_delay = Duration::from_millis(300))
        .await
        .expect("start");
    let addr = server.local_addr();
    let (running, dirs) = server.into_parts();
    let path = format!("/backup/{id}/restore");
    let plain = tokio::spawn(async move { request(addr, "POST", &path, &[], b"").await });
    let deadline = Instant::now() + Duration::from_secs(10);
    while beside(dirs.data(), &["store"]).is_empty() {
        assert!(Instant::now() < deadline, "the restore never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let started = Instant::now();
    running.shutdown().await.expect("shutdown");
    let took = started.elapsed();
    eprintln!("RunningServer::shutdown mid-restore took {took:?}");
    assert!(took < BOUND, "shutdown took {took:?}");
    let reply = plain.await.expect("the plain restore's answer");
    assert_eq!(reply.status, 500, "{}", reply.text());
    assert!(reply.text().contains("canceled"), "{}", reply.text());
    assert_eq!(
        tree_contents(dirs.data()),
        old,
        "the restore was rolled back"
    );
    assert_eq!(beside(dirs.data(), &["store"]), Vec::<String>::new());
    assert!(!dirs.store().join("restore.json").exists(), "journal left");
    let report = verify_store(dirs.store()).expect("verify");
    assert!(report.is_ok(), "{report:?}");
}
