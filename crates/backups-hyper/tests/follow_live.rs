//! A restore against the reference server, broken on the way by a fault-injecting proxy: the
//! SDK sees it through to its real end (the data directory holds the backup) or, when Pieces OS
//! forgot it, says so with a typed error. HTTP streams, WebSockets, plain calls, a silent
//! stream, a server that restarted elsewhere; `backups-blocking`'s `tests/follow.rs` does the
//! same through the blocking client.

use std::path::Path;
use std::time::Duration;

use backups_hyper::discovery::Discovery;
use backups_hyper::{BackupId, BackupsClient, ErrorKind, Polling};
use backups_models::{Backup, BackupStreamedProgress};
use backups_testkit::{Fault, FaultProxy, Rule, TempServer};

/// Files enough for a restore of about a second at 20 ms a step.
fn files() -> Vec<(String, Vec<u8>)> {
    (0..40)
        .map(|i| {
            let path = format!("db/part{i:02}.bin");
            (path, backups_testkit::pseudo_random(16 * 1024, i))
        })
        .collect()
}

async fn start() -> TempServer {
    let files = files();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    backups_testkit::start_server(&refs, |config| {
        config.progress_delay = Duration::from_millis(20);
    })
    .await
}

fn polling() -> Polling {
    Polling::default()
        .with_interval(Duration::from_millis(50))
        .with_max_backoff(Duration::from_millis(200))
        .with_poll_timeout(Duration::from_secs(2))
        .with_unanswered(Duration::from_secs(5))
}

fn client(base_url: &str) -> BackupsClient {
    BackupsClient::builder()
        .base_url(base_url)
        .idle_timeout(Duration::from_secs(5))
        .polling(polling())
        .build()
        .expect("client")
}

/// Makes a backup of the data, then changes the data, so that a restore is visible.
async fn backup_then_change(server: &TempServer) -> BackupId {
    let made = client(&server.base_url()).create().await.expect("create");
    std::fs::write(server.dirs().data().join("db/part00.bin"), b"changed").expect("write");
    std::fs::write(server.dirs().data().join("new.txt"), b"not in the backup").expect("write");
    BackupId::new(made.id).expect("id")
}

/// The data directory holds exactly the backup again.
fn assert_restored(data: &Path) {
    let first = std::fs::read(data.join("db/part00.bin")).expect("read");
    assert_eq!(first, backups_testkit::pseudo_random(16 * 1024, 0));
    assert!(!data.join("new.txt").exists(), "a file not in the backup");
}

fn labels(events: &[BackupStreamedProgress]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            e.status
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        })
        .collect()
}

async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .expect("the call ended")
}

/// A streamed restore over HTTP through a proxy that applies `fault` to it.
async fn streamed_restore_through(fault: Fault) -> (Backup, Vec<BackupStreamedProgress>) {
    let server = start().await;
    let id = backup_then_change(&server).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    proxy.arm(Rule::on_path(
        format!("/backup/{id}/restore/streamed"),
        fault,
    ));
    let client = client(&proxy.base_url());
    let mut events = Vec::new();
    let stream = client.restore_streamed(&id).await.expect("stream");
    let restored = within(client.follow(stream, |e| events.push(e.clone())))
        .await
        .expect("followed to COMPLETED");
    assert_eq!(proxy.faults_fired(), 1, "the stream was cut");
    assert_restored(server.dirs().data());
    (restored, events)
}

#[tokio::test]
async fn an_http_stream_reset_mid_restore_is_followed_to_completed() {
    let (restored, events) = streamed_restore_through(Fault::ResetAfter(1500)).await;
    assert!(!restored.id.is_empty());
    let labels = labels(&events);
    assert_eq!(labels.first().map(String::as_str), Some("INITIALIZED"));
    assert_eq!(labels.last().map(String::as_str), Some("COMPLETED"));
}

#[tokio::test]
async fn an_http_stream_cut_inside_a_chunk_is_followed_to_completed() {
    let (_, events) = streamed_restore_through(Fault::CloseAfter(1501)).await;
    assert_eq!(
        labels(&events).last().map(String::as_str),
        Some("COMPLETED")
    );
}

#[tokio::test]
async fn a_stream_silent_past_the_idle_timeout_is_followed_while_the_status_answers() {
    let server = start().await;
    let id = backup_then_change(&server).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    proxy.arm(Rule::on_path(
        format!("/backup/{id}/restore/streamed"),
        Fault::StallAfter(800),
    ));
    let client = BackupsClient::builder()
        .base_url(proxy.base_url())
        .idle_timeout(Duration::from_millis(200))
        .polling(polling())
        .build()
        .expect("client");
    let stream = client.restore_streamed(&id).await.expect("stream");
    within(client.follow(stream, |_| {}))
        .await
        .expect("followed past the silence");
    assert_restored(server.dirs().data());
}

#[tokio::test]
async fn a_websocket_dropped_without_a_close_frame_is_followed_to_completed() {
    let server = start().await;
    let id = backup_then_change(&server).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    proxy.arm(Rule::on_path(
        format!("/backup/{id}/restore/streamed/websocket"),
        Fault::CloseAfter(1500),
    ));
    let client = client(&proxy.base_url());
    let mut last = None;
    let stream = client.restore_over_websocket(&id).await.expect("socket");
    within(client.follow(stream, |e| last = e.status.clone()))
        .await
        .expect("followed to COMPLETED");
    assert_eq!(proxy.faults_fired(), 1, "the socket was dropped");
    assert_eq!(last, Some(backups_models::ProgressStatus::Completed));
    assert_restored(server.dirs().data());
}

#[tokio::test]
async fn a_plain_restore_whose_connection_drops_is_followed_to_completed() {
    let server = start().await;
    let id = backup_then_change(&server).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    proxy.arm(Rule::on_path(
        format!("/backup/{id}/restore"),
        Fault::StallAfter(0),
    ));
    let client = client(&proxy.base_url());
    let restore = tokio::spawn(async move { client.restore(&id).await });
    assert!(proxy.wait_fired(1, Duration::from_secs(5)).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The connection ends with no answer, while the server goes on restoring.
    proxy.release_stalls();
    within(restore)
        .await
        .expect("joined")
        .expect("followed to COMPLETED");
    assert_restored(server.dirs().data());
}

#[tokio::test]
async fn a_plain_restore_longer_than_the_request_timeout_succeeds() {
    let server = start().await;
    let id = backup_then_change(&server).await;
    let client = BackupsClient::builder()
        .base_url(server.base_url())
        .request_timeout(Duration::from_millis(100))
        .polling(polling())
        .build()
        .expect("client");
    let started = std::time::Instant::now();
    let mut events = Vec::new();
    let restored = within(
        client.restore_watched(backups_hyper::proto::operations::Restore::new(id), |e| {
            events.push(e.clone())
        }),
    )
    .await
    .expect("a restore outlasting the request timeout");
    assert!(started.elapsed() > Duration::from_millis(300));
    assert!(!restored.id.is_empty());
    assert!(
        !events.is_empty(),
        "the status polled alongside reported progress"
    );
    assert_restored(server.dirs().data());
}

#[tokio::test]
async fn a_pieces_os_that_restarted_elsewhere_and_forgot_the_restore_is_an_unknown_outcome() {
    let server = start().await;
    let id = backup_then_change(&server).await;
    // The Pieces OS that comes back: another port, and no memory of the restoration.
    let restarted = start().await;
    let port_file = restarted.dirs().root().join("port.txt");
    std::fs::write(&port_file, restarted.local_addr().port().to_string()).expect("port file");
    let discovery = Discovery::new()
        .port_file(&port_file)
        .probe_ports([])
        .legacy_ports([]);

    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    proxy.arm(Rule::on_path(
        format!("/backup/{id}/restore/streamed"),
        Fault::ResetAfter(1500),
    ));
    let client = BackupsClient::builder()
        .base_url(proxy.base_url())
        .polling(polling())
        .locator(std::sync::Arc::new(discovery))
        .build()
        .expect("client");
    let stream = client.restore_streamed(&id).await.expect("stream");
    // The old address stops answering at the cut, as a Pieces OS that went away.
    proxy.refuse(true);
    let err = within(client.follow(stream, |_| {}))
        .await
        .expect_err("not a success");
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert!(err.to_string().contains(id.as_str()), "{err}");
}

#[tokio::test]
async fn a_fixed_address_that_stays_down_fails_as_unanswered_within_the_bound() {
    let server = start().await;
    let id = backup_then_change(&server).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    proxy.arm(Rule::on_path(
        format!("/backup/{id}/restore/streamed"),
        Fault::ResetAfter(1500),
    ));
    let bound = Polling::default()
        .with_interval(Duration::from_millis(50))
        .with_max_backoff(Duration::from_millis(100))
        .with_poll_timeout(Duration::from_millis(500))
        .with_unanswered(Duration::from_millis(600));
    let client = BackupsClient::builder()
        .base_url(proxy.base_url())
        .polling(bound)
        .build()
        .expect("client");
    let stream = client.restore_streamed(&id).await.expect("stream");
    proxy.refuse(true);
    let started = std::time::Instant::now();
    let err = within(client.follow(stream, |_| {}))
        .await
        .expect_err("down");
    assert_eq!(
        err.kind(),
        ErrorKind::Timeout(backups_hyper::TimeoutKind::Unanswered),
        "{err}"
    );
    assert!(started.elapsed() < bound.give_up_bound() + Duration::from_secs(2));
}
