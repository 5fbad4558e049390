//! Every endpoint over real TCP: statuses, content types and bodies as the clients expect.

mod common;

use std::time::{Duration, Instant};

use backups_models::{Backup, BackupStreamedProgress, Backups, Platform, ProgressStatus};
use backups_server::{Fault, ServerConfig};
use common::{TestServer, request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn health_answers_get_and_head() {
    let t = TestServer::start().await;
    let reply = t.get("/.well-known/health").await;
    assert_eq!(reply.status, 200);
    assert!(reply.text().starts_with("ok"));
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );

    let head = request(t.addr, "HEAD", "/.well-known/health", &[], b"").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn port_file_names_the_port_and_is_removed_on_shutdown() {
    let t = TestServer::start().await;
    let port_file = t.dirs.store().join(".port.txt");
    assert_eq!(t.server.port_file(), port_file);
    let text = std::fs::read_to_string(&port_file).expect("port file");
    assert_eq!(text, t.addr.port().to_string());
    assert_eq!(
        t.server.base_url(),
        format!("http://127.0.0.1:{}", t.addr.port())
    );
    t.server.shutdown().await.expect("shutdown");
    assert!(!port_file.exists());
}

#[tokio::test]
async fn create_list_delete_round_trip() {
    let t = TestServer::start().await;
    let empty = t.get("/backups").await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.header("content-type"), Some("application/json"));
    let listing: Backups = serde_json::from_slice(&empty.body).expect("Backups");
    assert!(listing.is_empty());

    // The Python SDK sends `{}` with Content-Type: application/json, or nothing at all.
    let first = t
        .post(
            "/backups/create",
            &[("Content-Type", "application/json")],
            b"{}",
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("content-type"), Some("application/json"));
    let first: Backup = serde_json::from_slice(&first.body).expect("Backup");
    let second: Backup = serde_json::from_value(t.create().await).expect("Backup");

    let expected_bytes: u64 = common::tree_contents(t.dirs.data())
        .iter()
        .filter(|(_, content)| content != b"<dir>")
        .map(|(_, content)| content.len() as u64)
        .sum();
    assert_eq!(first.bytes.as_u64(), Some(expected_bytes));
    assert_eq!(first.platform, Platform::current());
    assert_eq!(first.version, env!("CARGO_PKG_VERSION"));
    assert!(!first.device_name.is_empty());
    assert!(first.created.readable.is_some());
    assert_eq!(
        first.timestamp,
        (first.created.value.unix_timestamp_nanos() / 1_000_000).to_string()
    );
    assert_ne!(first.id, second.id);

    let listing: Backups = serde_json::from_slice(&t.get("/backups").await.body).expect("Backups");
    let ids: Vec<&str> = listing.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, [second.id.as_str(), first.id.as_str()], "newest first");
    let indices = listing.indices.clone().expect("indices");
    assert_eq!(indices.get(&second.id), Some(&0));
    assert_eq!(indices.get(&first.id), Some(&1));
    assert_eq!(listing.get(&first.id), Some(&first));

    // Delete, with the optional Backup body the Python SDK may send.
    let body = serde_json::to_vec(&first).expect("json");
    let deleted = t
        .post(
            &format!("/backups/{}/delete", first.id),
            &[("Accept", "text/plain")],
            &body,
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    assert!(deleted.body.is_empty());
    assert_eq!(t.ids().await, vec![second.id]);

    let again = t
        .post(&format!("/backups/{}/delete", first.id), &[], b"")
        .await;
    again.assert_text_error(404);
    assert!(again.text().contains("no such backup"));
    assert!(
        backups_server::verify_store(t.dirs.store())
            .expect("verify")
            .is_ok()
    );
}

fn events(body: &[u8]) -> Vec<BackupStreamedProgress> {
    let text = std::str::from_utf8(body).expect("utf-8");
    assert!(text.ends_with('\n'), "each event ends its line: {text:?}");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

#[tokio::test]
async fn streamed_create_sends_ndjson_progress_to_clients_that_ask() {
    let t = TestServer::start().await;
    let reply = t
        .post(
            "/backups/create/streamed",
            &[("Accept", "application/json, application/x-ndjson")],
            b"{}",
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    let events = events(&reply.body);
    assert!(events.len() >= 3, "{events:?}");
    let first = &events[0];
    assert_eq!(first.status, Some(ProgressStatus::Initialized));
    assert_eq!(first.percentage.map(|p| p.as_f64()), Some(0.0));
    let middle = &events[1..events.len() - 1];
    assert!(!middle.is_empty(), "at least one IN-PROGRESS event");
    let mut last_percent = 0.0;
    for event in middle {
        assert_eq!(event.status, Some(ProgressStatus::InProgress));
        let percent = event.percentage.expect("percentage").as_f64();
        assert!(percent > last_percent && percent < 100.0, "{events:?}");
        last_percent = percent;
    }
    let last = events.last().expect("last");
    assert_eq!(last.status, Some(ProgressStatus::Completed));
    assert_eq!(last.percentage.map(|p| p.as_f64()), Some(100.0));
    let backup = last.backup.clone().expect("backup on COMPLETED");
    assert_eq!(t.ids().await, [backup.id]);
}

#[tokio::test]
async fn streamed_create_sends_one_object_to_other_clients() {
    let t = TestServer::start().await;
    // Python sends application/json; TypeScript sends */*; some send nothing.
    for accept in [
        Some("application/json"),
        Some("*/*"),
        Some("application/*"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
        let reply = t.post("/backups/create/streamed", &headers, b"").await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{accept:?}"
        );
        let event: BackupStreamedProgress = serde_json::from_slice(&reply.body)
            .unwrap_or_else(|err| panic!("one JSON object for {accept:?}: {err}"));
        assert_eq!(event.status, Some(ProgressStatus::Completed));
        assert!(event.backup.is_some());
    }
    assert_eq!(t.ids().await.len(), 4);
}

#[tokio::test]
async fn streamed_progress_is_flushed_as_it_is_made() {
    let delay = Duration::from_millis(40);
    let t = TestServer::start_with(|c| c.progress_delay = delay).await;
    let mut stream = TcpStream::connect(t.addr).await.expect("connect");
    let request = "POST /backups/create/streamed HTTP/1.1\r\nHost: x\r\nAccept: application/x-ndjson\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).await.expect("send");
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the INITIALIZED line has arrived.
    while !String::from_utf8_lossy(&seen).contains("INITIALIZED") {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "stream ended early");
        seen.extend_from_slice(&buf[..n]);
    }
    let first_at = started.elapsed();
    // The backup is not listed while its progress is still being sent.
    assert!(t.ids().await.is_empty(), "no partial backup is listed");
    stream.read_to_end(&mut seen).await.expect("read rest");
    let total = started.elapsed();
    assert!(String::from_utf8_lossy(&seen).contains("COMPLETED"));
    // The tree has 9 entries and a multi-MiB file: many delayed steps after the first line.
    assert!(
        total >= first_at + delay * 5,
        "first line at {first_at:?}, end at {total:?}: progress was not streamed"
    );
    assert_eq!(t.ids().await.len(), 1);
}

#[tokio::test]
async fn failed_snapshot_is_a_failed_event_or_a_500() {
    let t = TestServer::start().await;
    // Removing the data directory makes every snapshot fail.
    std::fs::remove_dir_all(t.dirs.data()).expect("remove data");

    let reply = t
        .post(
            "/backups/create/streamed",
            &[("Accept", "application/x-ndjson")],
            b"",
        )
        .await;
    assert_eq!(reply.status, 200);
    let events = events(&reply.body);
    let last = events.last().expect("an event");
    assert_eq!(last.status, Some(ProgressStatus::Failed));
    assert!(last.backup.is_none());

    let single = t.post("/backups/create/streamed", &[], b"").await;
    let event: BackupStreamedProgress = serde_json::from_slice(&single.body).expect("event");
    assert_eq!(event.status, Some(ProgressStatus::Failed));

    t.post("/backups/create", &[], b"")
        .await
        .assert_text_error(500);
    assert!(t.ids().await.is_empty());
}

#[tokio::test]
async fn simulated_faults_answer_every_backups_call() {
    for (fault, status) in [
        (Fault::Unauthenticated, 511),
        (Fault::Outdated, 505),
        (Fault::InternalError, 500),
    ] {
        let t = TestServer::start_with(|c: &mut ServerConfig| c.simulate = Some(fault)).await;
        t.get("/backups").await.assert_text_error(status);
        t.post("/backups/create", &[], b"{}")
            .await
            .assert_text_error(status);
        t.post(
            "/backups/create/streamed",
            &[("Accept", "application/x-ndjson")],
            b"",
        )
        .await
        .assert_text_error(status);
        t.post("/backups/x/delete", &[], b"")
            .await
            .assert_text_error(status);
        // Health still answers, so discovery finds the server.
        assert_eq!(t.get("/.well-known/health").await.status, 200);
        assert!(
            backups_server::verify_store(t.dirs.store())
                .expect("verify")
                .backups
                == 0
        );
    }
}
