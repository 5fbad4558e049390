//! The blocking client sees a restore through to its end when the connection breaks on the
//! way: a reset of the HTTP stream and a WebSocket dropped without a close frame, through a
//! fault-injecting proxy, from plain threads without a runtime.

use std::path::Path;
use std::time::Duration;

use backups_blocking::models::Backup;
use backups_blocking::{Client, Error};
use backups_proto::{BackupId, Polling};
use backups_testkit::{BlockingProxy, BlockingServer, Fault, Rule};

fn files() -> Vec<(String, Vec<u8>)> {
    (0..40)
        .map(|i| {
            let path = format!("db/part{i:02}.bin");
            (path, backups_testkit::pseudo_random(16 * 1024, i))
        })
        .collect()
}

fn polling() -> Polling {
    Polling::default()
        .with_interval(Duration::from_millis(50))
        .with_max_backoff(Duration::from_millis(200))
        .with_poll_timeout(Duration::from_secs(2))
        .with_unanswered(Duration::from_secs(5))
}

fn client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .polling(polling())
        .build()
        .expect("client")
}

fn assert_restored(data: &Path) {
    let first = std::fs::read(data.join("db/part00.bin")).expect("read");
    assert_eq!(first, backups_testkit::pseudo_random(16 * 1024, 0));
    assert!(!data.join("new.txt").exists(), "a file not in the backup");
}

/// A server with a backup of its data, then the data changed; the backup's id.
fn server_with_backup() -> (BlockingServer, BackupId) {
    let files = files();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    let server = BlockingServer::start(&refs, |config| {
        config.progress_delay = Duration::from_millis(20);
    });
    let base = server.base_url();
    let made = std::thread::spawn(move || client(&base).create())
        .join()
        .expect("no panic")
        .expect("create");
    let data = server.server().dirs().data().to_owned();
    std::fs::write(data.join("db/part00.bin"), b"changed").expect("write");
    std::fs::write(data.join("new.txt"), b"x").expect("write");
    (server, BackupId::new(made.id).expect("id"))
}

/// Restores the backup through a proxy that applies `fault` to the path `suffix` after
/// `/backup/{id}`, the call made by `restore` on a plain thread; the restore must end as
/// `expected` says, the fault must have fired, and the data must be back.
fn restore_through_fault(
    suffix: &str,
    fault: Fault,
    expected: &str,
    restore: impl FnOnce(Client, BackupId) -> Result<Backup, Error> + Send + 'static,
) {
    let (server, id) = server_with_backup();
    let proxy = BlockingProxy::start(server.local_addr()).expect("proxy");
    proxy.arm(Rule::on_path(format!("/backup/{id}{suffix}"), fault));
    let base = proxy.base_url();
    let restored = std::thread::spawn(move || restore(client(&base), id))
        .join()
        .expect("no panic")
        .expect(expected);
    assert!(!restored.id.is_empty());
    assert!(proxy.wait_fired(1, Duration::from_secs(1)));
    assert_restored(server.server().dirs().data());
}

#[test]
fn the_blocking_client_follows_a_reset_http_stream_to_completed() {
    restore_through_fault(
        "/restore/streamed",
        Fault::ResetAfter(1500),
        "followed to COMPLETED",
        |client, id| client.restore_streamed(&id)?.follow(|_| {}),
    );
}

#[test]
fn the_blocking_client_follows_a_dropped_websocket_to_completed() {
    restore_through_fault(
        "/restore/streamed/websocket",
        Fault::CloseAfter(1500),
        "followed to COMPLETED",
        |client, id| client.restore_over_websocket(&id)?.follow(|_| {}),
    );
}

/// A plain restore runs on a thread of its own while the client polls its status: when its
/// answer never comes (the proxy stalls it), the status's COMPLETED ends the call.
#[test]
fn a_plain_restore_whose_answer_never_comes_ends_by_its_status() {
    restore_through_fault(
        "/restore",
        Fault::StallAfter(0),
        "ended by its status",
        |client, id| client.restore(&id),
    );
}

/// A plain restore whose connection is reset is followed by its status to its end.
#[test]
fn a_plain_restore_whose_connection_resets_is_followed_to_completed() {
    restore_through_fault(
        "/restore",
        Fault::ResetAfter(0),
        "followed to COMPLETED",
        |client, id| client.restore(&id),
    );
}
