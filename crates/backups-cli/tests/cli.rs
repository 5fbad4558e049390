//! The built `pieces-backups` binary against the reference server, over TCP.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use backups_server::Fault;
use serde_json::Value;

#[cfg(unix)]
use common::interrupt;
use common::{TestServer, assert_exit, cli, json_lines, stderr, stdout, tree};

#[test]
fn create_list_delete_round_trip_in_text() {
    let server = TestServer::start(|_| {});
    let empty = server.run(&["list"]);
    assert_exit(&empty, 0);
    assert_eq!(stdout(&empty).trim(), "No backups.");

    let created = server.run(&["create"]);
    assert_exit(&created, 0);
    assert!(
        stdout(&created).starts_with("Created backup "),
        "{}",
        stdout(&created)
    );

    let listed = server.run(&["list"]);
    assert_exit(&listed, 0);
    let text = stdout(&listed);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    for column in ["ID", "CREATED", "SIZE", "DEVICE", "PLATFORM", "VERSION"] {
        assert!(header.contains(column), "{header}");
    }
    let row = lines.next().unwrap();
    assert!(
        row.contains("kB") || row.contains("KiB"),
        "human size: {row}"
    );
    let id = row.split_whitespace().next().unwrap().to_owned();

    let deleted = server.run(&["delete", &id]);
    assert_exit(&deleted, 0);
    assert_eq!(stdout(&deleted).trim(), format!("Deleted backup {id}"));
    assert_eq!(stdout(&server.run(&["list"])).trim(), "No backups.");
}

#[test]
fn json_output_is_the_listing_as_sent_and_one_object_per_event() {
    let server = TestServer::start(|_| {});
    let created = server.run(&["--json", "create"]);
    assert_exit(&created, 0);
    let backup = &json_lines(&created)[0];
    let id = backup["id"].as_str().unwrap().to_owned();

    let listed = server.run(&["list", "--json"]);
    assert_exit(&listed, 0);
    let listing = &json_lines(&listed)[0];
    assert_eq!(listing["iterable"][0]["id"], id.as_str());
    assert_eq!(listing["indices"][&id], 0);

    let streamed = server.run(&["create", "--stream", "--json"]);
    assert_exit(&streamed, 0);
    let events = json_lines(&streamed);
    assert!(events.len() >= 3, "{events:?}");
    assert_eq!(events[0]["status"], "INITIALIZED");
    let last = events.last().unwrap();
    assert_eq!(last["status"], "COMPLETED");
    assert_eq!(last["percentage"], 100);
    assert!(last["backup"]["id"].is_string());

    let deleted = server.run(&["delete", &id, "--json"]);
    assert_exit(&deleted, 0);
    assert_eq!(json_lines(&deleted)[0]["deleted"], id.as_str());
}

#[test]
fn a_stream_to_a_pipe_prints_one_line_per_event() {
    let server = TestServer::start(|_| {});
    let output = server.run(&["create", "--stream"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("INITIALIZED 0%"), "{text}");
    assert!(lines.iter().any(|l| l.starts_with("IN-PROGRESS")), "{text}");
    assert!(
        lines.iter().any(|l| l.starts_with("COMPLETED 100%")),
        "{text}"
    );
    assert!(
        lines.last().unwrap().starts_with("Created backup "),
        "{text}"
    );
}

#[test]
fn global_options_go_before_or_after_the_subcommand_and_come_from_the_environment() {
    let server = TestServer::start(|_| {});
    let after = cli()
        .args(["list", "--host", &server.url])
        .output()
        .unwrap();
    assert_exit(&after, 0);
    let from_env = cli()
        .env("PIECES_OS_URL", &server.url)
        .args(["list", "--json"])
        .output()
        .unwrap();
    assert_exit(&from_env, 0);
    assert!(json_lines(&from_env)[0]["iterable"].is_array());
}

#[test]
fn each_error_status_has_its_message_and_exit_status() {
    for (fault, code, words) in [
        (Fault::Unauthenticated, 4, "sign in"),
        (Fault::Outdated, 5, "update Pieces OS"),
        (Fault::InternalError, 6, "500"),
    ] {
        let server = TestServer::start(|config| config.simulate = Some(fault));
        for args in [
            &["list"][..],
            &["create"],
            &["create", "--stream"],
            &["delete", "x"],
        ] {
            let output = server.run(args);
            assert_exit(&output, code);
            let message = stderr(&output);
            assert_eq!(message.lines().count(), 1, "one line: {message}");
            assert!(message.contains(words), "{fault:?} {args:?}: {message}");
        }
    }
}

#[test]
fn an_unknown_backup_exits_9_and_says_to_check_the_id() {
    let server = TestServer::start(|_| {});
    for args in [
        &["delete", "no-such-backup"][..],
        &["show", "no-such-backup"],
        &["status", "no-such-backup"],
        &["status", "no-such-backup", "--restore"],
        &["restore", "no-such-backup", "--yes"],
        &["restore", "no-such-backup", "--stream", "--yes"],
    ] {
        let output = server.run(args);
        assert_exit(&output, 9);
        let message = stderr(&output);
        assert_eq!(message.lines().count(), 1, "{args:?}: one line: {message}");
        // A status's 404 says no such creation or restoration is known: the backup itself may
        // exist.
        let hint = if args[0] == "status" {
            "it knows of none for that id"
        } else {
            "check the id with `list`"
        };
        assert!(message.contains(hint), "{args:?}: {message}");
    }
}

#[test]
fn show_prints_one_backup_as_list_does() {
    let server = TestServer::start(|_| {});
    let id = server.create();
    let listed = stdout(&server.run(&["list"]));
    let shown = server.run(&["show", &id]);
    assert_exit(&shown, 0);
    assert_eq!(stdout(&shown), listed, "the same table for one backup");

    let json = server.run(&["show", &id, "--json"]);
    assert_exit(&json, 0);
    let backup = &json_lines(&json)[0];
    assert_eq!(backup["id"], id.as_str());
    assert!(
        backup["bytes"].is_object() || backup["bytes"].is_number(),
        "{backup}"
    );
}

#[test]
fn restore_with_yes_brings_the_backed_up_data_back() {
    let server = TestServer::start(|_| {});
    let backed_up = tree(server.data());
    let id = server.create();
    std::fs::write(server.data().join("a.txt"), "changed").unwrap();
    std::fs::write(server.data().join("new.txt"), "made after the backup").unwrap();
    let changed = tree(server.data());

    let restored = server.run(&["restore", &id, "--yes"]);
    assert_exit(&restored, 0);
    let text = stdout(&restored);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    // The safety backup comes first, with the command that undoes the restore.
    let safety = lines[0]
        .strip_prefix("Safety backup ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{text}"))
        .to_owned();
    assert_ne!(safety, id);
    assert!(
        lines[0].ends_with(&format!(
            "to undo the restore: pieces-backups restore {safety}"
        )),
        "{text}"
    );
    assert!(
        lines[1].starts_with(&format!("Restored backup {id} (")),
        "{text}"
    );
    assert_eq!(
        lines[2],
        format!("To undo: pieces-backups restore {safety}")
    );
    assert_eq!(tree(server.data()), backed_up);

    let status = server.run(&["status", &id, "--restore"]);
    assert_exit(&status, 0);
    assert_eq!(
        stdout(&status).trim(),
        format!("Restoration of backup {id}: COMPLETED 100%")
    );

    // The undo brings back the data as it was before the restore.
    let undone = server.run(&["restore", &safety, "--yes", "--no-safety-backup"]);
    assert_exit(&undone, 0);
    assert_eq!(tree(server.data()), changed);
}

#[test]
fn restore_json_names_the_restored_and_the_safety_backup() {
    let server = TestServer::start(|_| {});
    let id = server.create();
    let output = server.run(&["restore", &id, "--yes", "--json"]);
    assert_exit(&output, 0);
    let value = &json_lines(&output)[0];
    assert_eq!(value["restored"]["id"], id.as_str());
    let safety = value["safety_backup"]["id"].as_str().unwrap();
    assert_ne!(safety, id);
    let listed = server.run(&["list", "--json"]);
    let ids: Vec<Value> = json_lines(&listed)[0]["iterable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|backup| backup["id"].clone())
        .collect();
    assert!(ids.contains(&Value::from(safety)), "{ids:?}");

    let skipped = server.run(&["restore", &id, "--yes", "--json", "--no-safety-backup"]);
    assert_exit(&skipped, 0);
    let value = &json_lines(&skipped)[0];
    assert_eq!(value["restored"]["id"], id.as_str());
    assert!(value["safety_backup"].is_null(), "{value}");
}

#[test]
fn restore_off_a_terminal_without_yes_refuses_with_2() {
    let server = TestServer::start(|_| {});
    let id = server.create();
    std::fs::write(server.data().join("a.txt"), "changed").unwrap();
    let before = tree(server.data());
    for args in [&["restore", &id][..], &["restore", &id, "--stream"]] {
        let output = server.run(args);
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains("pass --yes"),
            "{}",
            stderr(&output)
        );
        assert_eq!(tree(server.data()), before, "{args:?} changed the data");
    }
}

#[test]
fn restore_stream_json_is_ndjson_whose_first_event_names_the_backup() {
    let server = TestServer::start(|_| {});
    let backed_up = tree(server.data());
    let id = server.create();
    std::fs::write(server.data().join("a.txt"), "changed").unwrap();

    let output = server.run(&["restore", &id, "--stream", "--json", "--yes"]);
    assert_exit(&output, 0);
    let mut events = json_lines(&output);
    // The safety backup, made first, comes before the events.
    let safety = events.remove(0);
    assert!(safety["safety_backup"]["id"].is_string(), "{safety}");
    assert!(events.len() >= 2, "{events:?}");
    assert_eq!(events[0]["status"], "INITIALIZED");
    assert_eq!(events[0]["backup"]["id"], id.as_str());
    let last = events.last().unwrap();
    assert_eq!(last["status"], "COMPLETED");
    assert_eq!(last["percentage"], 100);
    assert_eq!(tree(server.data()), backed_up);
}

#[test]
fn status_after_create_is_completed_in_text_and_json() {
    let server = TestServer::start(|_| {});
    let id = server.create();
    let text = server.run(&["status", &id]);
    assert_exit(&text, 0);
    assert_eq!(
        stdout(&text).trim(),
        format!("Creation of backup {id}: COMPLETED 100%")
    );
    let json = server.run(&["status", &id, "--json"]);
    assert_exit(&json, 0);
    let status = &json_lines(&json)[0];
    assert_eq!(status["value"], "COMPLETED");
    assert_eq!(status["backup"]["id"], id.as_str());
}

#[test]
fn cancel_with_nothing_running_says_nothing_was_in_progress() {
    let server = TestServer::start(|_| {});
    let id = server.create();
    for (args, noun) in [
        (&["cancel", &id][..], "creation"),
        (&["cancel", &id, "--restore"], "restoration"),
    ] {
        let output = server.run(args);
        assert_exit(&output, 6);
        let message = stderr(&output);
        assert_eq!(message.lines().count(), 1, "one line: {message}");
        assert!(
            message.contains(&format!(
                "nothing to cancel: no {noun} of backup {id} is in progress"
            )),
            "{message}"
        );
        assert!(message.contains("pieces-backups status"), "{message}");
    }
}

#[test]
fn an_unreachable_host_says_where_it_looked() {
    let port = {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let output = cli().args(["--host", &url, "list"]).output().unwrap();
    assert_exit(&output, 3);
    assert!(
        stderr(&output).contains(&format!("is Pieces OS running at {url}")),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_stream_silent_past_the_timeout_is_followed_by_its_status_to_its_end() {
    // Each step is silent four times as long as --timeout: busy, not dead, since the status
    // answers, so the create is seen through to COMPLETED rather than cut as timed out.
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(800));
    let output = server.run(&["create", "--stream", "--timeout", "0.2"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("Created backup "),
        "{}",
        stdout(&output)
    );
    let id = stdout(&output)
        .lines()
        .last()
        .and_then(|line| line.strip_prefix("Created backup "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    let status = server.run(&["status", &id, "--json"]);
    assert_eq!(json_lines(&status)[0]["value"], "COMPLETED");
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    assert_exit(&cli().arg("frobnicate").output().unwrap(), 2);
    assert_exit(
        &cli().args(["--timeout", "-1", "list"]).output().unwrap(),
        2,
    );
    assert_exit(
        &cli().args(["--host", "ftp://x", "list"]).output().unwrap(),
        2,
    );
    let help = cli().arg("--help").output().unwrap();
    assert!(stdout(&help).contains("Exit statuses"), "{}", stdout(&help));
    // `--websocket` only says where a stream comes from.
    for args in [
        &["create", "--websocket"][..],
        &["restore", "x", "--websocket", "--yes"],
    ] {
        let output = cli().args(args).output().unwrap();
        assert_exit(&output, 2);
        assert!(stderr(&output).contains("--stream"), "{}", stderr(&output));
    }
    for command in SUBCOMMANDS {
        let output = cli().args([command, "--help"]).output().unwrap();
        assert_exit(&output, 0);
        assert!(stdout(&output).contains("Example:"), "{command}");
    }
}

/// Sends SIGINT, as Ctrl-C does, to a running command.
/// Starts `args` with stdout piped, and waits until it has printed its first line; the rest of
/// stdout is read on, so that the command never writes to a closed pipe.
#[cfg(unix)]
fn spawn_until_first_line(server: &TestServer, args: &[&str]) -> (std::process::Child, String) {
    let mut child = cli()
        .arg("--host")
        .arg(&server.url)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, first)
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_streamed_create_cancels_it_and_exits_130() {
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(500));
    let (child, first) = spawn_until_first_line(&server, &["create", "--stream", "--json"]);
    let first: Value = serde_json::from_str(&first).unwrap();
    let id = first["backup"]["id"].as_str().unwrap().to_owned();
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 130);
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cancelling backup {id}")),
        "{message}"
    );
    assert!(
        message.contains(&format!("cancelled the creation of backup {id}")),
        "{message}"
    );
    assert_eq!(stdout(&server.run(&["list"])).trim(), "No backups.");
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_streamed_restore_cancels_it_and_keeps_the_data() {
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(500));
    let id = server.create();
    std::fs::write(server.data().join("a.txt"), "changed").unwrap();
    let before = tree(server.data());

    let args = [
        "restore",
        &id,
        "--stream",
        "--json",
        "--yes",
        "--no-safety-backup",
    ];
    let (child, first) = spawn_until_first_line(&server, &args);
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["status"], "INITIALIZED");
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 130);
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cancelling backup {id}")),
        "{message}"
    );
    assert!(
        message.contains(&format!("cancelled the restoration of backup {id}")),
        "{message}"
    );
    assert_eq!(tree(server.data()), before, "the data must be as before");
    let status = server.run(&["status", &id, "--restore", "--json"]);
    assert_eq!(json_lines(&status)[0]["value"], "CANCELED");
}

/// Waits until Pieces OS reports the restoration of `id` in progress.
fn wait_restoring(server: &TestServer, id: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        let status = server.run(&["status", id, "--restore", "--json"]);
        if status.status.success() && json_lines(&status)[0]["value"] == "IN-PROGRESS" {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the restoration of {id} never showed as in progress");
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_plain_restore_says_cancelled_as_the_status_does() {
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(500));
    let id = server.create();
    std::fs::write(server.data().join("a.txt"), "changed").unwrap();
    let before = tree(server.data());

    // The first line is the safety backup's, printed before the restore starts.
    let (child, first) = spawn_until_first_line(&server, &["restore", &id, "--yes"]);
    assert!(first.starts_with("Safety backup "), "{first}");
    wait_restoring(&server, &id);
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 130);
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cancelled the restoration of backup {id}")),
        "{message}"
    );
    let status = server.run(&["status", &id, "--restore", "--json"]);
    assert_eq!(json_lines(&status)[0]["value"], "CANCELED");
    assert_eq!(tree(server.data()), before, "the data must be as before");
}

#[test]
fn create_stream_websocket_json_is_ndjson_ending_completed() {
    let server = TestServer::start(|_| {});
    let output = server.run(&["create", "--stream", "--websocket", "--json"]);
    assert_exit(&output, 0);
    let events = json_lines(&output);
    assert!(events.len() >= 3, "{events:?}");
    assert_eq!(events[0]["status"], "INITIALIZED");
    let id = events[0]["backup"]["id"].as_str().unwrap().to_owned();
    let last = events.last().unwrap();
    assert_eq!(last["status"], "COMPLETED");
    assert_eq!(last["percentage"], 100);
    assert_eq!(last["backup"]["id"], id.as_str());

    let listed = server.run(&["list", "--json"]);
    assert_exit(&listed, 0);
    assert_eq!(json_lines(&listed)[0]["iterable"][0]["id"], id.as_str());
}

#[test]
fn restore_stream_websocket_brings_the_backed_up_data_back() {
    let server = TestServer::start(|_| {});
    let backed_up = tree(server.data());
    let id = server.create();
    std::fs::write(server.data().join("a.txt"), "changed").unwrap();
    std::fs::write(server.data().join("new.txt"), "made after the backup").unwrap();

    let output = server.run(&["restore", &id, "--stream", "--websocket", "--yes"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        text.lines().any(|l| l.starts_with("COMPLETED 100%")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|line| line.starts_with(&format!("Restored backup {id} ("))),
        "{text}"
    );
    assert_eq!(tree(server.data()), backed_up);
    let status = server.run(&["status", &id, "--restore", "--json"]);
    assert_eq!(json_lines(&status)[0]["value"], "COMPLETED");
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_websocket_create_cancels_it_and_exits_130() {
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(500));
    let args = ["create", "--stream", "--websocket", "--json"];
    let (child, first) = spawn_until_first_line(&server, &args);
    let first: Value = serde_json::from_str(&first).unwrap();
    let id = first["backup"]["id"].as_str().unwrap().to_owned();
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 130);
    let message = stderr(&output);
    assert!(
        message.contains(&format!("cancelled the creation of backup {id}")),
        "{message}"
    );
    let status = server.run(&["status", &id, "--json"]);
    assert_eq!(json_lines(&status)[0]["value"], "CANCELED");
    assert_eq!(stdout(&server.run(&["list"])).trim(), "No backups.");
}

/// The ids of the operations of `kind` (`backups` or `restorations`) in a snapshot.
fn ids_in(snapshot: &Value, kind: &str) -> Vec<String> {
    snapshot[kind]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|event| event["backup"]["id"].as_str().map(str::to_owned))
        .collect()
}

#[cfg(unix)]
#[test]
fn watch_json_shows_a_create_started_over_http_and_ctrl_c_exits_0() {
    use std::io::Read as _;
    use std::sync::mpsc;

    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(50));
    let mut child = cli()
        .arg("--host")
        .arg(&server.url)
        .args(["watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, snapshots) = mpsc::channel();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let read = std::thread::spawn(move || {
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            let snapshot: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            if lines.send(snapshot).is_err() {
                break;
            }
            line.clear();
        }
    });
    let next = || {
        snapshots
            .recv_timeout(Duration::from_secs(10))
            .expect("a snapshot within 10 s")
    };

    // At once, before anything runs: nothing in progress.
    let first = next();
    assert!(ids_in(&first, "backups").is_empty(), "{first}");
    assert!(ids_in(&first, "restorations").is_empty(), "{first}");

    let created = server.run(&["create", "--json"]);
    assert_exit(&created, 0);
    let id = json_lines(&created)[0]["id"].as_str().unwrap().to_owned();

    // The create shows in the snapshots until its final status (the snapshot after which it
    // leaves).
    let mut statuses = Vec::new();
    while statuses.last().is_none_or(|status| status != "COMPLETED") {
        let snapshot = next();
        let backups = snapshot["backups"].as_array().cloned().unwrap_or_default();
        if let Some(event) = backups
            .iter()
            .find(|event| event["backup"]["id"] == id.as_str())
        {
            statuses.push(event["status"].as_str().unwrap_or("").to_owned());
        }
    }
    assert!(statuses.len() >= 2, "{statuses:?}");
    assert!(
        statuses[..statuses.len() - 1]
            .iter()
            .all(|status| status == "INITIALIZED" || status == "IN-PROGRESS"),
        "{statuses:?}"
    );

    interrupt(&child);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {rest}");
    read.join().unwrap();
}

/// Runs `args` with a pseudo-terminal as stdin, stdout and stderr (through util-linux
/// `script`), typing `input`; `None` where `script` is missing.
#[cfg(unix)]
fn run_on_a_terminal(server: &TestServer, args: &[&str], input: &str) -> Option<Output> {
    run_on_a_terminal_with(server, args, input, &[])
}

/// [`run_on_a_terminal`] with `envs` set (and `NO_COLOR`, `CLICOLOR` and `CLICOLOR_FORCE` unset
/// unless `envs` sets them). The terminal says it is an xterm, as a user's does, whatever the
/// test runner's says.
#[cfg(unix)]
fn run_on_a_terminal_with(
    server: &TestServer,
    args: &[&str],
    input: &str,
    envs: &[(&str, &str)],
) -> Option<Output> {
    let command_line = std::iter::once(env!("CARGO_BIN_EXE_pieces-backups"))
        .chain(["--host", &server.url])
        .chain(args.iter().copied())
        .map(|word| format!("'{word}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &command_line, "/dev/null"])
        .env_remove("PIECES_OS_URL")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        // anstream colours a terminal in CI whatever TERM says; these tests are of a user's
        // terminal.
        .env_remove("CI")
        .env("TERM", "xterm")
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Some(child.wait_with_output().unwrap())
}

const SKIPPED_WITHOUT_SCRIPT: &str = "skipped: util-linux `script` is not installed";

#[cfg(unix)]
#[test]
fn restore_on_a_terminal_asks_first() {
    let server = TestServer::start(|_| {});
    let backed_up = tree(server.data());
    let id = server.create();
    std::fs::write(server.data().join("a.txt"), "changed").unwrap();
    let changed = tree(server.data());

    let Some(declined) = run_on_a_terminal(&server, &["restore", &id], "n\n") else {
        eprintln!("{SKIPPED_WITHOUT_SCRIPT}");
        return;
    };
    assert_exit(&declined, 1);
    // The terminal carries stdout and stderr alike.
    let screen = stdout(&declined);
    assert!(
        screen.contains(&format!("Restore backup {id} (")),
        "{screen}"
    );
    assert!(screen.contains("[y/N]"), "{screen}");
    assert!(screen.contains("not restored"), "{screen}");
    assert_eq!(tree(server.data()), changed);

    let agreed = run_on_a_terminal(&server, &["restore", &id], "y\n").unwrap();
    assert_exit(&agreed, 0);
    assert!(
        stdout(&agreed).contains("Restored backup"),
        "{}",
        stdout(&agreed)
    );
    assert_eq!(tree(server.data()), backed_up);
}

#[cfg(feature = "demo")]
#[test]
fn the_demo_runs_the_whole_api() {
    let output = cli().arg("demo").output().unwrap();
    assert_exit(&output, 0);
    let text = stdout(&output);
    for step in [
        "Started the reference server at http://127.0.0.1:",
        "pieces-backups create --stream",
        "COMPLETED 100%",
        "Created backup ",
        "pieces-backups delete ",
        "Safety backup ",
        "Deleted backup ",
    ] {
        assert!(text.contains(step), "missing {step:?} in:\n{text}");
    }
}

#[cfg(not(feature = "demo"))]
#[test]
fn a_build_without_the_demo_says_so() {
    let output = cli().arg("demo").output().unwrap();
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("this build has no demo"),
        "{}",
        stderr(&output)
    );
    let help = cli().args(["demo", "--help"]).output().unwrap();
    assert!(
        stdout(&help).contains("Not in this build"),
        "{}",
        stdout(&help)
    );
}

/// `ESC [`: the start of every colour code and cursor movement.
const CSI: &str = "\x1b[";

#[cfg(unix)]
#[test]
fn a_streamed_create_draws_a_bar_on_a_terminal_and_never_in_a_pipe() {
    // Slow enough for the bar to be drawn between events.
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(150));
    let Some(terminal) = run_on_a_terminal(&server, &["create", "--stream"], "") else {
        eprintln!("{SKIPPED_WITHOUT_SCRIPT}");
        return;
    };
    assert_exit(&terminal, 0);
    let screen = stdout(&terminal);
    assert!(
        screen.contains(CSI),
        "no escape sequence on a terminal: {screen:?}"
    );
    assert!(screen.contains("] "), "no bar: {screen:?}");
    assert!(screen.contains("Created backup "), "{screen:?}");

    let piped = server.run(&["create", "--stream"]);
    assert_exit(&piped, 0);
    for (name, text) in [("stdout", stdout(&piped)), ("stderr", stderr(&piped))] {
        assert!(
            !text.contains('\x1b'),
            "{name} of a pipe has escapes: {text:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_plain_restore_on_a_terminal_shows_a_spinner_with_the_elapsed_time() {
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(300));
    let id = server.create();
    let args = ["restore", &id, "--yes", "--no-safety-backup"];
    let Some(terminal) = run_on_a_terminal(&server, &args, "") else {
        eprintln!("{SKIPPED_WITHOUT_SCRIPT}");
        return;
    };
    assert_exit(&terminal, 0);
    let screen = stdout(&terminal);
    assert!(screen.contains("Restoring…"), "no spinner: {screen:?}");
    // indicatif's {elapsed}: whole seconds, such as "0s" then "1s".
    assert!(
        screen.contains("0s") || screen.contains("1s"),
        "no elapsed time: {screen:?}"
    );
    assert!(screen.contains("Restored backup "), "{screen:?}");

    let piped = server.run(&args);
    assert_exit(&piped, 0);
    assert!(!stderr(&piped).contains("Restoring…"), "{}", stderr(&piped));
}

#[cfg(unix)]
#[test]
fn list_on_a_terminal_has_colour_and_relative_times_unless_no_color() {
    let server = TestServer::start(|_| {});
    let id = server.create();
    let Some(coloured) = run_on_a_terminal(&server, &["list"], "") else {
        eprintln!("{SKIPPED_WITHOUT_SCRIPT}");
        return;
    };
    assert_exit(&coloured, 0);
    let screen = stdout(&coloured);
    assert!(screen.contains(CSI), "no colour on a terminal: {screen:?}");
    assert!(screen.contains("(just now)"), "{screen:?}");
    assert!(screen.contains(&id), "{screen:?}");

    for no_color in ["1", "true"] {
        let plain =
            run_on_a_terminal_with(&server, &["list"], "", &[("NO_COLOR", no_color)]).unwrap();
        assert_exit(&plain, 0);
        let screen = stdout(&plain);
        assert!(
            !screen.contains('\x1b'),
            "colour with NO_COLOR={no_color}: {screen:?}"
        );
        assert!(screen.contains("(just now)"), "{screen:?}");
    }

    // Off a terminal: the table as before, without relative times or escapes.
    let piped = stdout(&server.run(&["list"]));
    assert!(!piped.contains('\x1b'), "{piped:?}");
    assert!(
        !piped.contains("ago") && !piped.contains("just now"),
        "{piped}"
    );
}

#[cfg(unix)]
#[test]
fn list_colour_follows_clicolor_and_term_as_clap_does() {
    let server = TestServer::start(|_| {});
    let id = server.create();
    // An empty NO_COLOR asks for nothing (no-color.org).
    let Some(empty) = run_on_a_terminal_with(&server, &["list"], "", &[("NO_COLOR", "")]) else {
        eprintln!("{SKIPPED_WITHOUT_SCRIPT}");
        return;
    };
    assert_exit(&empty, 0);
    // The same escapes as before anstyle: bold headers, yellow ids.
    let screen = stdout(&empty);
    assert!(screen.contains("\x1b[1mID\x1b[0m"), "{screen:?}");
    assert!(
        screen.contains(&format!("\x1b[33m{id}\x1b[0m")),
        "{screen:?}"
    );

    for envs in [[("CLICOLOR", "0")], [("TERM", "dumb")], [("NO_COLOR", "1")]] {
        let plain = run_on_a_terminal_with(&server, &["list"], "", &envs).unwrap();
        assert_exit(&plain, 0);
        let screen = stdout(&plain);
        assert!(!screen.contains('\x1b'), "colour with {envs:?}: {screen:?}");
        assert!(screen.contains("(just now)"), "{screen:?}");
    }

    // CLICOLOR_FORCE colours a pipe too: the same plain table, in colour; NO_COLOR still wins.
    let piped = stdout(&server.run(&["list"]));
    let list_with = |envs: &[(&str, &str)]| {
        let output = cli()
            .args(["--host", &server.url, "list"])
            .envs(envs.iter().copied())
            .output()
            .unwrap();
        assert_exit(&output, 0);
        stdout(&output)
    };
    let forced = list_with(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains(CSI), "{forced:?}");
    assert_eq!(without_escapes(&forced), piped);
    let refused = list_with(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert_eq!(refused, piped);
}

/// `text` without its `ESC [ ... m` colour sequences.
fn without_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn verbose_shows_each_call_on_stderr_and_leaves_stdout_alone() {
    let server = TestServer::start(|_| {});
    server.create();
    let quiet = server.run(&["list"]);
    let verbose = server.run(&["-v", "list"]);
    assert_exit(&verbose, 0);
    assert_eq!(stdout(&verbose), stdout(&quiet));
    assert!(stderr(&quiet).is_empty(), "{}", stderr(&quiet));
    let log = stderr(&verbose);
    let line = log
        .lines()
        .find(|line| line.contains("backups_call"))
        .unwrap_or_else(|| panic!("no backups_call span: {log}"));
    for field in [
        "operation=\"list\"",
        "method=GET",
        "status=200",
        "duration_ms=",
    ] {
        assert!(line.contains(field), "{field} missing: {line}");
    }
    assert!(!log.contains('\x1b'), "colour in a pipe: {log:?}");
}

#[test]
fn completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = cli().args(["completions", shell]).output().unwrap();
        assert_exit(&output, 0);
        let script = stdout(&output);
        for command in SUBCOMMANDS {
            assert!(script.contains(command), "{shell}: no {command}");
        }
    }
    let bash = stdout(&cli().args(["completions", "bash"]).output().unwrap());
    assert!(bash.contains("complete -F"), "{bash}");
    assert!(bash.contains("--keep-last"), "{bash}");
    assert_exit(&cli().args(["completions", "tcsh"]).output().unwrap(), 2);
}

/// Every subcommand, as `--help` lists them.
const SUBCOMMANDS: [&str; 13] = [
    "doctor",
    "list",
    "create",
    "show",
    "restore",
    "status",
    "cancel",
    "watch",
    "delete",
    "prune",
    "demo",
    "completions",
    "man",
];

/// The page's lines from its title on: clap_mangen opens every page with the two-line
/// definition of the `Aq` (apostrophe) string that its text uses, before `.TH`.
fn from_title(page: &str) -> Vec<&str> {
    page.lines()
        .skip_while(|line| line.starts_with(".ie ") || line.starts_with(".el "))
        .collect()
}

#[test]
fn the_man_page_starts_with_its_title_and_names_every_subcommand() {
    let output = cli().arg("man").output().unwrap();
    assert_exit(&output, 0);
    let page = stdout(&output);
    let lines = from_title(&page);
    assert!(lines[0].starts_with(".TH pieces-backups 1"), "{page}");
    for command in SUBCOMMANDS {
        assert!(
            page.contains(&format!("pieces\\-backups\\-{command}(1)")),
            "{command} missing: {page}"
        );
    }
    assert!(page.contains("Exit statuses"), "{page}");

    let prune = cli().args(["man", "prune"]).output().unwrap();
    assert_exit(&prune, 0);
    let prune = stdout(&prune);
    assert!(
        from_title(&prune)[0].starts_with(".TH pieces-backups-prune 1"),
        "{prune}"
    );
    assert!(prune.contains("keep\\-last"), "{prune}");

    let unknown = cli().args(["man", "frobnicate"]).output().unwrap();
    assert_exit(&unknown, 2);
    assert!(
        stderr(&unknown).contains("pick one of: list"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn man_out_dir_writes_a_page_per_command() {
    let dir = std::env::temp_dir().join(format!("pieces-backups-man-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = cli().args(["man", "--out-dir"]).arg(&dir).output().unwrap();
    assert_exit(&output, 0);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(names.contains(&"pieces-backups.1".to_owned()), "{names:?}");
    for command in SUBCOMMANDS {
        let name = format!("pieces-backups-{command}.1");
        assert!(names.contains(&name), "{name} missing: {names:?}");
    }
}

/// The ids `list --json` gives, newest first as the server orders them.
fn listed_ids(server: &TestServer) -> Vec<String> {
    let listed = server.run(&["list", "--json"]);
    assert_exit(&listed, 0);
    json_lines(&listed)[0]["iterable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|backup| backup["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A server with three backups, and their ids oldest first.
fn three_backups() -> (TestServer, Vec<String>) {
    let server = TestServer::start(|_| {});
    let ids: Vec<String> = (0..3)
        .map(|_| {
            let id = server.create();
            // Distinct creation times, whatever the clock's resolution.
            std::thread::sleep(Duration::from_millis(20));
            id
        })
        .collect();
    (server, ids)
}

#[test]
fn prune_keep_last_1_of_3_deletes_the_2_oldest() {
    let (server, ids) = three_backups();
    let output = server.run(&["prune", "--keep-last", "1", "--yes"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        text.contains("Deleting 2 of 3 backups, keeping the newest 1:"),
        "{text}"
    );
    for id in &ids[..2] {
        assert!(text.contains(&format!("Deleted backup {id}")), "{text}");
    }
    assert!(
        text.contains("Pruned 2 backups; kept the newest 1."),
        "{text}"
    );
    assert_eq!(listed_ids(&server), [ids[2].clone()]);
}

#[test]
fn prune_json_prints_the_plan_and_what_was_deleted() {
    let (server, ids) = three_backups();
    let output = server.run(&["prune", "--keep-last", "2", "--yes", "--json"]);
    assert_exit(&output, 0);
    let report = &json_lines(&output)[0];
    assert_eq!(report["keep_last"], 2);
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["kept"], serde_json::json!([ids[2], ids[1]]));
    assert_eq!(report["to_delete"], serde_json::json!([ids[0]]));
    assert_eq!(report["deleted"], serde_json::json!([ids[0]]));
    assert_eq!(report["not_deleted"], serde_json::json!([]));
    assert_eq!(listed_ids(&server).len(), 2);
}

#[test]
fn prune_dry_run_lists_and_deletes_nothing() {
    let (server, ids) = three_backups();
    let before = listed_ids(&server);
    // No --yes needed off a terminal: nothing is deleted.
    let output = server.run(&["prune", "--keep-last", "1", "--dry-run"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("Would delete 2 of 3 backups"), "{text}");
    assert!(text.contains(&ids[0]) && text.contains(&ids[1]), "{text}");
    assert!(text.contains("Dry run: nothing deleted."), "{text}");
    assert_eq!(listed_ids(&server), before);

    let json = server.run(&["prune", "--keep-last", "1", "--dry-run", "--json"]);
    assert_exit(&json, 0);
    let report = &json_lines(&json)[0];
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["to_delete"].as_array().unwrap().len(), 2);
    assert_eq!(report["deleted"], serde_json::json!([]));
    assert_eq!(listed_ids(&server), before);
}

#[test]
fn prune_off_a_terminal_without_yes_refuses_with_2() {
    let (server, _) = three_backups();
    let before = listed_ids(&server);
    let output = server.run(&["prune", "--keep-last", "1"]);
    assert_exit(&output, 2);
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "one line: {message}");
    assert!(message.contains("pass --yes"), "{message}");
    assert!(message.contains("--dry-run"), "{message}");
    assert_eq!(listed_ids(&server), before);
}

#[test]
fn prune_keeping_more_than_there_are_deletes_nothing() {
    let (server, _) = three_backups();
    let before = listed_ids(&server);
    let output = server.run(&["prune", "--keep-last", "5"]);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output).trim(),
        "Nothing to prune: 3 backups, keeping the newest 5."
    );
    assert_eq!(listed_ids(&server), before);
}

#[test]
fn prune_reports_a_failing_server_with_its_status() {
    let server = TestServer::start(|config| config.simulate = Some(Fault::InternalError));
    let output = server.run(&["prune", "--keep-last", "1", "--yes"]);
    assert_exit(&output, 6);
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
}

#[cfg(unix)]
#[test]
fn prune_on_a_terminal_asks_first() {
    let (server, ids) = three_backups();
    let Some(declined) = run_on_a_terminal(&server, &["prune", "--keep-last", "2"], "n\n") else {
        eprintln!("{SKIPPED_WITHOUT_SCRIPT}");
        return;
    };
    assert_exit(&declined, 1);
    let screen = stdout(&declined);
    assert!(
        screen.contains("Delete 1 backup? This cannot be undone. [y/N]"),
        "{screen}"
    );
    assert!(screen.contains("nothing deleted"), "{screen}");
    assert_eq!(listed_ids(&server).len(), 3);

    let agreed = run_on_a_terminal(&server, &["prune", "--keep-last", "2"], "y\n").unwrap();
    assert_exit(&agreed, 0);
    let screen = stdout(&agreed);
    assert!(
        screen.contains(&format!("Deleted backup {}", ids[0])),
        "{screen}"
    );
    assert_eq!(listed_ids(&server), [ids[2].clone(), ids[1].clone()]);
}
