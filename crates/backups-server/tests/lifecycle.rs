//! The operations on one backup (`BackupApi`) over TCP: read one, restore (plain and streamed),
//! creation and restoration status and cancel.

mod common;

use std::time::Duration;

use backups_models::{Backup, BackupStatus, BackupStreamedProgress, ProgressStatus};
use backups_server::{Fault, ServerConfig};
use common::{EventStream, TestServer, beside, request, tree_contents};

const UNKNOWN: &str = "0000000000001-0000";

/// Changes the data directory: one file changed, one added, one removed, a directory removed.
fn change_data(t: &TestServer) {
    let data = t.dirs.data();
    std::fs::write(data.join("a.txt"), "changed\n").expect("write");
    std::fs::write(data.join("sub/new.txt"), "new\n").expect("write");
    std::fs::remove_file(data.join("sub/deeper/c.json")).expect("remove");
    std::fs::remove_dir(data.join("empty-dir")).expect("rmdir");
}

fn id_of(value: &serde_json::Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn one_backup_is_read_by_id() {
    let t = TestServer::start().await;
    let created = t.create().await;
    let id = id_of(&created);
    let reply = t.get(&format!("/backup/{id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let backup: Backup = serde_json::from_slice(&reply.body).expect("Backup");
    assert_eq!(serde_json::to_value(&backup).expect("json"), created);

    let head = request(t.addr, "HEAD", &format!("/backup/{id}"), &[], b"").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());

    for path in [
        format!("/backup/{UNKNOWN}"),
        "/backup/..".to_owned(),
        "/backup/%2e%2e".to_owned(),
        "/backup/".to_owned(),
        format!("/backup/{id}%2F"),
    ] {
        let reply = t.get(&path).await;
        reply.assert_text_error(404);
        assert!(reply.text().contains("no such backup"), "{path}");
    }
}

#[tokio::test]
async fn restore_replaces_the_data_directory_exactly() {
    let t = TestServer::start().await;
    let expected = tree_contents(t.dirs.data());
    let created = t.create().await;
    let id = id_of(&created);
    change_data(&t);
    assert_ne!(tree_contents(t.dirs.data()), expected);

    // With the optional Backup body, as the Python SDK may send it.
    let body = serde_json::to_vec(&created).expect("json");
    let reply = t
        .post(
            &format!("/backup/{id}/restore"),
            &[("Content-Type", "application/json")],
            &body,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json(), created);
    assert_eq!(tree_contents(t.dirs.data()), expected);
    assert!(
        t.dirs.data().join("empty-dir").is_dir(),
        "empty dirs return"
    );
    assert_eq!(beside(t.dirs.data(), &["store"]), Vec::<String>::new());
    assert!(
        !t.dirs.store().join("restore.json").exists(),
        "journal gone"
    );

    // Without a body, and again over a restored tree.
    change_data(&t);
    let reply = t.post(&format!("/backup/{id}/restore"), &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(tree_contents(t.dirs.data()), expected);

    let status: BackupStatus = serde_json::from_slice(
        &t.get(&format!("/backup/{id}/restoration/status"))
            .await
            .body,
    )
    .expect("BackupStatus");
    assert_eq!(status.value, Some(ProgressStatus::Completed));
    assert_eq!(status.percentage.map(|p| p.as_f64()), Some(100.0));
    assert_eq!(status.backup.id, id);

    let reply = t
        .post(&format!("/backup/{UNKNOWN}/restore"), &[], b"")
        .await;
    reply.assert_text_error(404);
    t.post("/backup/../restore", &[], b"")
        .await
        .assert_text_error(404);
    assert_eq!(tree_contents(t.dirs.data()), expected);
}

#[tokio::test]
async fn restore_streamed_is_negotiated_like_create_streamed() {
    let t = TestServer::start().await;
    let expected = tree_contents(t.dirs.data());
    let id = id_of(&t.create().await);
    let path = format!("/backup/{id}/restore/streamed");

    change_data(&t);
    let body = t.get(&format!("/backup/{id}")).await.body;
    let reply = t
        .post(
            &path,
            &[("Accept", "application/json, application/x-ndjson")],
            &body,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    let text = reply.text();
    let events: Vec<BackupStreamedProgress> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one object a line"))
        .collect();
    assert!(events.len() >= 3, "{events:?}");
    assert_eq!(events[0].status, Some(ProgressStatus::Initialized));
    assert_eq!(
        events[0].backup.as_ref().map(|b| b.id.as_str()),
        Some(id.as_str())
    );
    let middle = &events[1..events.len() - 1];
    assert!(!middle.is_empty(), "IN-PROGRESS events");
    assert!(
        middle
            .iter()
            .all(|e| e.status == Some(ProgressStatus::InProgress))
    );
    let last = events.last().expect("last");
    assert_eq!(last.status, Some(ProgressStatus::Completed));
    assert_eq!(last.percentage.map(|p| p.as_f64()), Some(100.0));
    assert_eq!(
        last.backup.as_ref().map(|b| b.id.as_str()),
        Some(id.as_str())
    );
    assert_eq!(tree_contents(t.dirs.data()), expected);

    for accept in [Some("application/json"), Some("*/*"), None] {
        change_data(&t);
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
        let reply = t.post(&path, &headers, b"").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let event: BackupStreamedProgress =
            serde_json::from_slice(&reply.body).expect("one object");
        assert_eq!(event.status, Some(ProgressStatus::Completed), "{accept:?}");
        assert_eq!(tree_contents(t.dirs.data()), expected);
    }
    t.post(&format!("/backup/{UNKNOWN}/restore/streamed"), &[], b"")
        .await
        .assert_text_error(404);
}

#[tokio::test]
async fn the_first_event_of_a_streamed_create_names_the_backup() {
    let t = TestServer::start().await;
    let mut stream = EventStream::open(t.addr, "/backups/create/streamed", b"").await;
    let first = stream.next().await.expect("first event");
    assert_eq!(first["status"], "INITIALIZED");
    let id = first["backup"]["id"]
        .as_str()
        .expect("id in the first event")
        .to_owned();
    // The other required fields are there too, with the values the backup will have.
    let early: Backup = serde_json::from_value(first["backup"].clone()).expect("a Backup");
    let events = stream.rest().await;
    let last = events.last().expect("last");
    assert_eq!(last["status"], "COMPLETED");
    let made: Backup = serde_json::from_value(last["backup"].clone()).expect("Backup");
    assert_eq!(made.id, id);
    assert_eq!(
        (&early.created, &early.timestamp, &early.device_name),
        (&made.created, &made.timestamp, &made.device_name)
    );
    assert_eq!(t.ids().await, [id]);
}

#[tokio::test]
async fn status_of_running_finished_and_unknown_operations() {
    let t = TestServer::start_with(|c| c.progress_delay = Duration::from_millis(25)).await;
    let mut stream = EventStream::open(t.addr, "/backups/create/streamed", b"").await;
    let id = stream.next().await.expect("first")["backup"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let status_path = format!("/backup/{id}/creation/status");
    let running = t.get(&status_path).await;
    assert_eq!(running.status, 200, "{}", running.text());
    let running: BackupStatus = serde_json::from_slice(&running.body).expect("BackupStatus");
    assert_eq!(running.backup.id, id);
    assert!(
        matches!(
            running.value,
            Some(ProgressStatus::Initialized | ProgressStatus::InProgress)
        ),
        "{running:?}"
    );
    assert!(running.percentage.expect("percentage").as_f64() < 100.0);
    // Not listed while it runs.
    assert!(t.ids().await.is_empty());
    let head = request(t.addr, "HEAD", &status_path, &[], b"").await;
    assert_eq!(head.status, 200);

    let events = stream.rest().await;
    assert_eq!(events.last().expect("last")["status"], "COMPLETED");
    let done: BackupStatus =
        serde_json::from_slice(&t.get(&status_path).await.body).expect("BackupStatus");
    assert_eq!(done.value, Some(ProgressStatus::Completed));
    assert_eq!(done.percentage.map(|p| p.as_f64()), Some(100.0));
    assert_eq!(
        serde_json::to_value(&done.backup).expect("json"),
        events.last().expect("last")["backup"]
    );

    // A restore: running, then finished.
    let mut stream =
        EventStream::open(t.addr, &format!("/backup/{id}/restore/streamed"), b"").await;
    stream.next().await.expect("first");
    let restoring: BackupStatus = serde_json::from_slice(
        &t.get(&format!("/backup/{id}/restoration/status"))
            .await
            .body,
    )
    .expect("BackupStatus");
    assert!(
        matches!(
            restoring.value,
            Some(ProgressStatus::Initialized | ProgressStatus::InProgress)
        ),
        "{restoring:?}"
    );
    assert_eq!(restoring.backup.id, id);
    stream.rest().await;
    let restored: BackupStatus = serde_json::from_slice(
        &t.get(&format!("/backup/{id}/restoration/status"))
            .await
            .body,
    )
    .expect("BackupStatus");
    assert_eq!(restored.value, Some(ProgressStatus::Completed));

    // Unknown: never seen, a hostile id, and a create's id asked as a restoration.
    for path in [
        format!("/backup/{UNKNOWN}/creation/status"),
        format!("/backup/{UNKNOWN}/restoration/status"),
        "/backup/../creation/status".to_owned(),
    ] {
        t.get(&path).await.assert_text_error(404);
    }
}

#[tokio::test]
async fn cancel_with_nothing_running_is_500() {
    let t = TestServer::start().await;
    let id = id_of(&t.create().await);
    for (path, reason) in [
        (
            format!("/backup/{id}/creation/cancel"),
            "no backup is being created with that id",
        ),
        (
            format!("/backup/{UNKNOWN}/creation/cancel"),
            "no backup is being created with that id",
        ),
        (
            format!("/backup/{id}/restoration/cancel"),
            "no restore of that backup is in progress",
        ),
        (
            "/backup/../restoration/cancel".to_owned(),
            "no restore of that backup is in progress",
        ),
    ] {
        let reply = t.post(&path, &[("Accept", "text/plain")], b"").await;
        reply.assert_text_error(500);
        assert_eq!(reply.text().trim(), reason, "{path}");
    }
    // The finished create keeps its status.
    let done: BackupStatus =
        serde_json::from_slice(&t.get(&format!("/backup/{id}/creation/status")).await.body)
            .expect("BackupStatus");
    assert_eq!(done.value, Some(ProgressStatus::Completed));
}

#[tokio::test]
async fn one_restore_at_a_time_and_no_create_during_a_restore() {
    let t = TestServer::start_with(|c| c.progress_delay = Duration::from_millis(25)).await;
    let expected = tree_contents(t.dirs.data());
    let id = id_of(&t.create().await);
    change_data(&t);
    let mut stream =
        EventStream::open(t.addr, &format!("/backup/{id}/restore/streamed"), b"").await;
    stream.next().await.expect("first");

    let second = t.post(&format!("/backup/{id}/restore"), &[], b"").await;
    second.assert_text_error(500);
    assert!(
        second.text().contains("restore of backup"),
        "{}",
        second.text()
    );
    let create = t.post("/backups/create", &[], b"").await;
    create.assert_text_error(500);
    assert!(create.text().contains("in progress"), "{}", create.text());
    t.post(
        "/backups/create/streamed",
        &[("Accept", "application/x-ndjson")],
        b"",
    )
    .await
    .assert_text_error(500);

    let events = stream.rest().await;
    assert_eq!(events.last().expect("last")["status"], "COMPLETED");
    assert_eq!(tree_contents(t.dirs.data()), expected);
    // Afterwards both work again.
    assert_eq!(t.post("/backups/create", &[], b"").await.status, 200);
    assert_eq!(t.ids().await.len(), 2);
}

#[tokio::test]
async fn a_dropped_stream_does_not_stop_a_restore() {
    let t = TestServer::start_with(|c| c.progress_delay = Duration::from_millis(10)).await;
    let expected = tree_contents(t.dirs.data());
    let id = id_of(&t.create().await);
    change_data(&t);
    let mut stream =
        EventStream::open(t.addr, &format!("/backup/{id}/restore/streamed"), b"").await;
    stream.next().await.expect("first");
    drop(stream);
    let status_path = format!("/backup/{id}/restoration/status");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status: BackupStatus =
            serde_json::from_slice(&t.get(&status_path).await.body).expect("BackupStatus");
        if status.value == Some(ProgressStatus::Completed) {
            break;
        }
        assert!(
            matches!(
                status.value,
                Some(ProgressStatus::Initialized | ProgressStatus::InProgress)
            ),
            "{status:?}"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "restore never finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tree_contents(t.dirs.data()), expected);
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let t = TestServer::start().await;
    for (method, path, allow) in [
        ("POST", "/backup/abc", "GET, HEAD"),
        ("DELETE", "/backup/abc", "GET, HEAD"),
        ("GET", "/backup/abc/restore", "POST"),
        ("GET", "/backup/abc/restore/streamed", "POST"),
        ("POST", "/backup/abc/creation/status", "GET, HEAD"),
        ("GET", "/backup/abc/creation/cancel", "POST"),
        ("PUT", "/backup/abc/restoration/status", "GET, HEAD"),
        ("GET", "/backup/abc/restoration/cancel", "POST"),
    ] {
        let reply = request(t.addr, method, path, &[], b"").await;
        reply.assert_text_error(405);
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
    }
    for path in [
        "/backup/abc/restore/",
        "/backup/abc/creation",
        "/backup/a/b/restore",
    ] {
        request(t.addr, "POST", path, &[], b"")
            .await
            .assert_text_error(404);
    }
}

#[tokio::test]
async fn bodies_that_are_not_objects_are_400() {
    let t = TestServer::start().await;
    let expected = tree_contents(t.dirs.data());
    let id = id_of(&t.create().await);
    change_data(&t);
    let changed = tree_contents(t.dirs.data());
    let paths = [
        format!("/backup/{id}/restore"),
        format!("/backup/{id}/restore/streamed"),
        format!("/backup/{id}/restoration/cancel"),
        "/backups/create".to_owned(),
        "/backups/create/streamed".to_owned(),
        format!("/backups/{id}/delete"),
    ];
    for path in &paths {
        for body in [
            &b"[]"[..],
            b"[1, 2]",
            b"{not json",
            b"\"text\"",
            b"{\"id\": 5}",
        ] {
            if path.starts_with("/backups/create") && body.starts_with(b"{\"id") {
                // A SeededBackup ignores fields it does not have.
                continue;
            }
            let reply = t
                .post(path, &[("Content-Type", "application/json")], body)
                .await;
            reply.assert_text_error(400);
            assert!(
                reply.text().contains("malformed JSON body"),
                "{}",
                reply.text()
            );
            if body.starts_with(b"[") {
                assert!(
                    reply.text().contains("a JSON object"),
                    "{path}: the serde reason is given: {}",
                    reply.text()
                );
            }
        }
    }
    assert_eq!(tree_contents(t.dirs.data()), changed, "no restore ran");
    assert_eq!(
        t.ids().await,
        std::slice::from_ref(&id),
        "no backup made or deleted"
    );
    let reply = t.post(&format!("/backup/{id}/restore"), &[], b" ").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(tree_contents(t.dirs.data()), expected);
}

#[tokio::test]
async fn simulated_faults_answer_every_operation_on_one_backup() {
    for (fault, status) in [
        (Fault::Unauthenticated, 511),
        (Fault::Outdated, 505),
        (Fault::InternalError, 500),
    ] {
        let t = TestServer::start_with(|c: &mut ServerConfig| c.simulate = Some(fault)).await;
        let before = tree_contents(t.dirs.data());
        let id = UNKNOWN;
        for (method, path) in [
            ("GET", format!("/backup/{id}")),
            ("POST", format!("/backup/{id}/restore")),
            ("POST", format!("/backup/{id}/restore/streamed")),
            ("GET", format!("/backup/{id}/creation/status")),
            ("POST", format!("/backup/{id}/creation/cancel")),
            ("GET", format!("/backup/{id}/restoration/status")),
            ("POST", format!("/backup/{id}/restoration/cancel")),
        ] {
            let reply = request(
                t.addr,
                method,
                &path,
                &[("Accept", "application/x-ndjson")],
                b"",
            )
            .await;
            reply.assert_text_error(status);
            assert!(reply.text().contains(fault.message()), "{path}");
        }
        assert_eq!(tree_contents(t.dirs.data()), before);
    }
}

#[tokio::test]
async fn a_restore_of_damaged_content_fails_and_changes_nothing() {
    let t = TestServer::start().await;
    let id = id_of(&t.create().await);
    change_data(&t);
    let before = tree_contents(t.dirs.data());
    // Damage a chunk of the big file.
    let object = common::file_objects(t.dirs.store(), &id, "big.bin").remove(0);
    let mut bytes = std::fs::read(&object).expect("object");
    bytes[10] ^= 0xff;
    std::fs::write(&object, bytes).expect("damage");

    let reply = t.post(&format!("/backup/{id}/restore"), &[], b"").await;
    reply.assert_text_error(500);
    assert!(
        reply.text().contains("does not match its checksum"),
        "{}",
        reply.text()
    );
    assert!(reply.text().contains("unchanged"), "{}", reply.text());
    assert_eq!(tree_contents(t.dirs.data()), before);
    assert_eq!(beside(t.dirs.data(), &["store"]), Vec::<String>::new());
    let status: BackupStatus = serde_json::from_slice(
        &t.get(&format!("/backup/{id}/restoration/status"))
            .await
            .body,
    )
    .expect("BackupStatus");
    assert_eq!(status.value, Some(ProgressStatus::Failed));
}
