//! `pieces-backups` through a network that fails mid-way: a fault-injecting proxy in front of the
//! reference server resets, cuts or stalls one response. A create or restore is seen through to
//! its real end whenever its backup is known; a failure names the backup and the command that
//! shows how it ended, and a lost connection exits 3 (not 7, "bad response").

mod common;

use std::time::Duration;

use backups_testkit::{BlockingProxy, Fault, Rule};

use common::{TestServer, assert_exit, run_at, stderr, stdout, tree};

/// A server slow enough for a restore to be cut mid-way, a backup of its data, and the data
/// changed since: a restore must bring back the tree returned.
fn backed_up_then_changed() -> (TestServer, String, common::Tree) {
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(120));
    let backed_up = tree(server.data());
    let id = server.create();
    std::fs::write(server.data().join("a.txt"), "changed").unwrap();
    std::fs::write(server.data().join("new.txt"), "made after the backup").unwrap();
    (server, id, backed_up)
}

fn proxy(server: &TestServer) -> BlockingProxy {
    BlockingProxy::start(server.addr()).expect("proxy")
}

#[test]
fn a_streamed_restore_reset_mid_stream_is_followed_to_its_end_and_exits_0() {
    let (server, id, backed_up) = backed_up_then_changed();
    let proxy = proxy(&server);
    proxy.arm(Rule::on_path(
        format!("/backup/{id}/restore/streamed"),
        Fault::ResetWhen(b"IN-PROGRESS".to_vec()),
    ));
    let args = ["restore", &id, "--stream", "--yes", "--no-safety-backup"];
    let output = run_at(&proxy.base_url(), &args);
    assert_exit(&output, 0);
    assert_eq!(proxy.faults_fired(), 1, "the stream was reset");
    // The user is told why the progress goes on without its stream.
    assert!(
        stderr(&output).contains("following the restoration by its status"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains(&format!("Restored backup {id} (")),
        "{}",
        stdout(&output)
    );
    assert_eq!(tree(server.data()), backed_up);
}

#[test]
fn a_restore_websocket_dropped_without_a_close_frame_is_followed_to_its_end() {
    let (server, id, backed_up) = backed_up_then_changed();
    let proxy = proxy(&server);
    proxy.arm(Rule::on_path(
        format!("/backup/{id}/restore/streamed/websocket"),
        Fault::CloseWhen(b"IN-PROGRESS".to_vec()),
    ));
    let args = [
        "restore",
        &id,
        "--stream",
        "--websocket",
        "--yes",
        "--no-safety-backup",
    ];
    let output = run_at(&proxy.base_url(), &args);
    assert_exit(&output, 0);
    assert_eq!(proxy.faults_fired(), 1, "the socket was dropped");
    assert_eq!(tree(server.data()), backed_up);
}

#[test]
fn a_plain_restore_whose_connection_drops_is_followed_to_its_end() {
    let (server, id, backed_up) = backed_up_then_changed();
    let proxy = proxy(&server);
    proxy.arm(Rule::on_path(
        format!("/backup/{id}/restore"),
        Fault::StallAfter(0),
    ));
    let url = proxy.base_url();
    let restore = {
        let id = id.clone();
        std::thread::spawn(move || run_at(&url, &["restore", &id, "--yes", "--no-safety-backup"]))
    };
    assert!(proxy.wait_fired(1, Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(200));
    // The connection ends with no answer, while the server goes on restoring.
    proxy.release_stalls();
    let output = restore.join().unwrap();
    assert_exit(&output, 0);
    assert!(
        stdout(&output).starts_with(&format!("Restored backup {id} (")),
        "{}",
        stdout(&output)
    );
    assert_eq!(tree(server.data()), backed_up);
}

#[test]
fn a_streamed_create_cut_before_any_event_exits_3_and_says_where_to_look() {
    let server = TestServer::start(|_| {});
    let proxy = proxy(&server);
    proxy.arm(Rule::on_path(
        "/backups/create/streamed",
        Fault::ResetAfter(0),
    ));
    let output = run_at(&proxy.base_url(), &["create", "--stream"]);
    assert_exit(&output, 3);
    let message = stderr(&output);
    assert!(message.contains("lost the connection"), "{message}");
    assert!(message.contains("may still be running"), "{message}");
    assert!(message.contains("pieces-backups watch"), "{message}");
    assert!(message.contains("pieces-backups list"), "{message}");
}

#[test]
fn a_streamed_restore_whose_server_stays_silent_past_the_timeout_still_ends() {
    // Each step of the restore is silent 4 times longer than --timeout; the status answers, so
    // the restore is busy, not dead.
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(400));
    let backed_up = tree(server.data());
    let id = server.create();
    std::fs::write(server.data().join("a.txt"), "changed").unwrap();
    let args = [
        "restore",
        &id,
        "--stream",
        "--yes",
        "--no-safety-backup",
        "--timeout",
        "0.1",
    ];
    let output = server.run(&args);
    assert_exit(&output, 0);
    assert_eq!(tree(server.data()), backed_up);
}

#[test]
fn a_failed_safety_backup_stops_the_restore_before_anything_is_replaced() {
    let (server, id, _) = backed_up_then_changed();
    let before = tree(server.data());
    let proxy = proxy(&server);
    // The safety backup is a plain create; its connection is reset.
    proxy.arm(Rule::on_path("/backups/create", Fault::ResetAfter(0)));
    let output = run_at(&proxy.base_url(), &["restore", &id, "--yes"]);
    assert_exit(&output, 3);
    let message = stderr(&output);
    assert!(message.contains("safety backup"), "{message}");
    assert!(message.contains("nothing was restored"), "{message}");
    // Nothing was replaced, and the restore was never asked for.
    assert_eq!(tree(server.data()), before);
    let status = server.run(&["status", &id, "--restore"]);
    assert_exit(&status, 9);
}

#[test]
fn a_failure_after_the_restore_started_names_the_backup_and_the_status_command() {
    let (server, id, _) = backed_up_then_changed();
    let proxy = proxy(&server);
    // The stream stalls, then the proxy goes away with every connection through it (the
    // pooled ones too) and its port: Pieces OS is gone for the client.
    proxy.arm(Rule::on_path(
        format!("/backup/{id}/restore/streamed"),
        Fault::StallWhen(b"IN-PROGRESS".to_vec()),
    ));
    let url = proxy.base_url();
    let restore = {
        let id = id.clone();
        std::thread::spawn(move || {
            run_at(
                &url,
                &[
                    "restore",
                    &id,
                    "--stream",
                    "--yes",
                    "--json",
                    "--timeout",
                    "0.5",
                ],
            )
        })
    };
    assert!(proxy.wait_fired(1, Duration::from_secs(10)));
    drop(proxy);
    let output = restore.join().unwrap();
    // The safety backup's id is in the output (first line), and the failure says how to undo.
    let first = stdout(&output)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let safety: serde_json::Value = serde_json::from_str(&first).unwrap();
    let safety = safety["safety_backup"]["id"].as_str().unwrap().to_owned();
    assert_exit(&output, 8);
    let message = stderr(&output);
    eprintln!("{message}");
    assert!(
        message.contains(&format!("pieces-backups status {id} --restore")),
        "{message}"
    );
    assert!(message.contains("stopped answering"), "{message}");
    assert!(
        message.contains(&format!("pieces-backups restore {safety}")),
        "{message}"
    );
}

#[cfg(unix)]
#[test]
fn watch_reconnects_when_its_channel_drops_and_goes_on() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let server = TestServer::start(|_| {});
    let proxy = proxy(&server);
    // The first snapshot gets through, then the socket is gone without a close frame.
    proxy.arm(Rule::on_path(
        "/backups/streamed/progress",
        Fault::CloseWhen(b"}".to_vec()),
    ));
    let mut child = common::cli()
        .args(["--host", &proxy.base_url(), "watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // The snapshot before the drop, then the one of the reopened channel.
    for _ in 0..2 {
        let line = lines.next().expect("a snapshot").unwrap();
        serde_json::from_str::<serde_json::Value>(&line).unwrap();
    }
    assert_eq!(proxy.faults_fired(), 1);
    common::interrupt(&child);
    std::thread::spawn(move || lines.for_each(drop));
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 0);
    let message = stderr(&output);
    assert!(message.contains("progress channel dropped"), "{message}");
    assert!(message.contains("back"), "{message}");
}

#[test]
fn a_restore_whose_server_drops_every_stream_is_followed_to_its_end_over_http_and_websocket() {
    // The server's own fault: each progress stream is cut after 2 events, as a broken
    // connection, while the restore goes on.
    let server = TestServer::start(|config| {
        config.progress_delay = Duration::from_millis(50);
        config.drop_streams_after = Some(2);
    });
    let backed_up = tree(server.data());
    let id = server.create();
    for websocket in [false, true] {
        std::fs::write(server.data().join("a.txt"), "changed").unwrap();
        let mut args = vec!["restore", &id, "--stream", "--yes", "--no-safety-backup"];
        if websocket {
            args.push("--websocket");
        }
        let output = server.run(&args);
        assert_exit(&output, 0);
        // The 2 events the stream carried, then what the status polls reported.
        assert!(
            stdout(&output).contains(&format!("Restored backup {id} (")),
            "{}",
            stdout(&output)
        );
        assert_eq!(tree(server.data()), backed_up, "websocket: {websocket}");
    }
}

#[test]
fn a_silent_phase_longer_than_the_timeout_is_waited_out() {
    // Half way, the server is silent for 1.5 s, fifteen times --timeout, answering its status.
    let server = TestServer::start(|config| config.silent_phase = Duration::from_millis(1500));
    let backed_up = tree(server.data());
    let id = server.create();
    std::fs::write(server.data().join("a.txt"), "changed").unwrap();
    let args = [
        "restore",
        &id,
        "--stream",
        "--yes",
        "--no-safety-backup",
        "--timeout",
        "0.1",
    ];
    let started = std::time::Instant::now();
    let output = server.run(&args);
    assert_exit(&output, 0);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(tree(server.data()), backed_up);
}
