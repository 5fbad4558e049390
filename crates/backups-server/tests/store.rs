//! The store behind the API: deduplication, restore, verify, locking, recovery, concurrency.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use backups_server::{Server, ServerConfig, ServerError, StoreError, restore_backup, verify_store};
use common::{TestServer, disk_usage, file_objects, pseudo_random, tree_contents};

#[tokio::test]
async fn unchanged_data_is_stored_once() {
    let t = TestServer::start().await;
    t.create().await;
    let objects = t.dirs.store().join("objects");
    let after_first = disk_usage(&objects);
    let data_size = disk_usage(t.dirs.data());
    assert!(after_first <= data_size, "{after_first} > {data_size}");

    let second = t.create().await;
    assert_eq!(disk_usage(&objects), after_first, "no object added");
    let manifest = t.dirs.store().join(format!(
        "backups/{}.json",
        second["id"].as_str().expect("id")
    ));
    assert!(std::fs::metadata(manifest).expect("manifest").len() < 16 * 1024);

    // A changed small file and a changed big file add only themselves.
    std::fs::write(t.dirs.data().join("a.txt"), "changed\n").expect("write");
    std::fs::write(
        t.dirs.data().join("big.bin"),
        pseudo_random(3 * 1024 * 1024 + 17, 8),
    )
    .expect("write");
    t.create().await;
    let growth = disk_usage(&objects) - after_first;
    assert_eq!(growth, 8 + 3 * 1024 * 1024 + 17);
    assert!(verify_store(t.dirs.store()).expect("verify").is_ok());
}

#[tokio::test]
async fn restore_writes_back_the_exact_tree() {
    let t = TestServer::start().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let script = t.dirs.data().join("sub/run.sh");
        std::fs::write(&script, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o750)).expect("chmod");
        std::os::unix::fs::symlink("sub/b.txt", t.dirs.data().join("link")).expect("symlink");
    }
    let expected = tree_contents(t.dirs.data());
    let backup = t.create().await;
    let id = backup["id"].as_str().expect("id");

    // The data changes afterwards; the backup does not.
    std::fs::write(t.dirs.data().join("a.txt"), "later").expect("write");

    let target = tempfile::tempdir().expect("target");
    let to = target.path().join("restored");
    let summary = restore_backup(t.dirs.store(), id, &to).expect("restore");
    assert_eq!(tree_contents(&to), expected);
    assert_eq!(summary.bytes, backup["bytes"].as_u64().expect("bytes"));
    assert!(to.join("empty-dir").is_dir());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(to.join("sub/run.sh"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o750);
        assert_eq!(
            std::fs::read_link(to.join("link")).expect("link"),
            std::path::Path::new("sub/b.txt")
        );
    }

    // A non-empty target and unknown or hostile ids are refused.
    assert!(matches!(
        restore_backup(t.dirs.store(), id, &to),
        Err(StoreError::TargetNotEmpty { .. })
    ));
    for bad in ["nope", "..", "../backups", ""] {
        assert!(matches!(
            restore_backup(t.dirs.store(), bad, &target.path().join("x")),
            Err(StoreError::NotFound { .. })
        ));
    }
}

#[tokio::test]
async fn verify_finds_damage() {
    let t = TestServer::start().await;
    t.create().await;
    t.create().await;
    let report = verify_store(t.dirs.store()).expect("verify");
    assert!(report.is_ok());
    assert_eq!(report.backups, 2);

    // Corrupt a chunk of big.bin, remove the object of a.txt, break a manifest.
    let id = t.ids().await.remove(0);
    let big_object = file_objects(t.dirs.store(), &id, "big.bin").remove(1);
    let mut bytes = std::fs::read(&big_object).expect("object");
    bytes[1000] ^= 0xff;
    std::fs::write(&big_object, bytes).expect("corrupt");
    let a_objects = file_objects(t.dirs.store(), &id, "a.txt");
    assert_eq!(a_objects.len(), 1, "a small file is one object");
    std::fs::remove_file(&a_objects[0]).expect("remove");
    let report = verify_store(t.dirs.store()).expect("verify");
    assert!(!report.is_ok());
    let text: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 4, "two files in each of two backups: {text:#?}");
    assert!(
        text.iter()
            .any(|p| p.contains("big.bin") && p.contains("chunk 2 of") && p.contains("has hash"))
    );
    assert!(
        text.iter()
            .any(|p| p.contains("a.txt") && p.contains("is missing"))
    );

    let manifests: Vec<_> = std::fs::read_dir(t.dirs.store().join("backups"))
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    std::fs::write(&manifests[0], "{ truncated").expect("break");
    let report = verify_store(t.dirs.store()).expect("verify");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.detail.contains("unreadable manifest"))
    );

    // The binary says so too, and exits non-zero.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_backups-server"))
        .args(["verify", "--store"])
        .arg(t.dirs.store())
        .output()
        .expect("run verify");
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("problems"), "{stdout}");
}

#[tokio::test]
async fn a_store_has_one_server() {
    let t = TestServer::start().await;
    let config = ServerConfig::new(t.dirs.data(), t.dirs.store())
        .with_listen("127.0.0.1:0".parse().expect("addr"));
    let err = Server::start(config.clone())
        .await
        .expect_err("second server");
    assert!(
        matches!(err, ServerError::Store(StoreError::Locked { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("in use by another backups-server"));

    t.server.shutdown().await.expect("shutdown");
    let again = Server::start(config)
        .await
        .expect("lock released on shutdown");
    again.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn bind_failures_say_what_to_do() {
    let t = TestServer::start().await;
    let other_store = tempfile::tempdir().expect("store");
    let config = ServerConfig::new(t.dirs.data(), other_store.path()).with_listen(t.addr);
    let err = Server::start(config).await.expect_err("port taken");
    let message = err.to_string();
    assert!(matches!(err, ServerError::Bind { .. }), "{message}");
    assert!(
        message.contains(&t.addr.to_string()) && message.contains("--listen"),
        "{message}"
    );
}

#[tokio::test]
async fn restart_cleans_leftovers_and_keeps_backups() {
    let t = TestServer::start().await;
    let kept = t.create().await["id"].as_str().expect("id").to_owned();
    let store = t.dirs.store().to_path_buf();
    let data = t.dirs.data().to_path_buf();
    t.server.shutdown().await.expect("shutdown");

    // What a crash mid-create or mid-delete leaves behind.
    std::fs::write(store.join("tmp/123-0.tmp"), "half an object").expect("tmp");
    std::fs::write(store.join("trash/0000000000001-0000.json"), "{}").expect("trash");
    let orphan = "ab".repeat(32);
    std::fs::create_dir_all(store.join("objects/ab")).expect("dir");
    std::fs::write(store.join("objects/ab").join(&orphan), "orphan").expect("orphan");

    let server = Server::start(
        ServerConfig::new(&data, &store).with_listen("127.0.0.1:0".parse().expect("addr")),
    )
    .await
    .expect("restart");
    assert_eq!(
        std::fs::read_dir(store.join("tmp")).expect("tmp").count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(store.join("trash"))
            .expect("trash")
            .count(),
        0
    );
    assert!(!store.join("objects/ab").join(&orphan).exists());
    let reply = common::request(server.local_addr(), "GET", "/backups", &[], b"").await;
    let ids: Vec<String> = reply.json()["iterable"]
        .as_array()
        .expect("iterable")
        .iter()
        .map(|b| b["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids, [kept]);
    assert!(verify_store(&store).expect("verify").is_ok());
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_lists_and_deletes_stay_consistent() {
    let t = Arc::new(TestServer::start().await);
    let mut tasks = Vec::new();
    for worker in 0..12 {
        let t = Arc::clone(&t);
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            let mut deleted = Vec::new();
            for round in 0..4 {
                let path = if (worker + round) % 2 == 0 {
                    "/backups/create"
                } else {
                    "/backups/create/streamed"
                };
                let reply = t.post(path, &[], b"{}").await;
                assert_eq!(reply.status, 200, "{}", reply.text());
                let json = reply.json();
                let backup = json.get("backup").unwrap_or(&json);
                let id = backup["id"].as_str().expect("id").to_owned();

                // Every listed backup is complete: its manifest exists and it is well formed.
                let listing = t.get("/backups").await;
                assert_eq!(listing.status, 200);
                let listing: backups_models::Backups =
                    serde_json::from_slice(&listing.body).expect("Backups");
                assert!(listing.get(&id).is_some(), "own backup listed");
                if round % 2 == 1 {
                    let reply = t.post(&format!("/backups/{id}/delete"), &[], b"").await;
                    assert_eq!(reply.status, 204, "{}", reply.text());
                    deleted.push(id);
                } else {
                    made.push(id);
                }
            }
            (made, deleted)
        }));
    }
    let mut expected = BTreeSet::new();
    let mut all = BTreeSet::new();
    for task in tasks {
        let (made, deleted) = task.await.expect("worker");
        for id in made.iter().chain(&deleted) {
            assert!(all.insert(id.clone()), "ids are unique: {id}");
        }
        expected.extend(made);
    }
    let listed: BTreeSet<String> = t.ids().await.into_iter().collect();
    assert_eq!(listed, expected);
    let listed_order = t.ids().await;
    let mut sorted = listed_order.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(listed_order, sorted, "newest first");

    let report = verify_store(t.dirs.store()).expect("verify");
    assert!(report.is_ok(), "{:#?}", report.problems);
    assert_eq!(report.backups, expected.len());
    // Everything left is referenced: the objects are exactly one tree's worth.
    assert_eq!(
        disk_usage(&t.dirs.store().join("objects")),
        disk_usage(t.dirs.data())
    );
    assert_eq!(
        std::fs::read_dir(t.dirs.store().join("tmp"))
            .expect("tmp")
            .count(),
        0
    );
}
