//! The built `pieces-backups` binary against the reference server, over TCP.

use std::net::{Ipv4Addr, TcpListener};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use backups_server::{Fault, ServerConfig};
use backups_testkit::BlockingServer;
use serde_json::Value;

/// A reference server on an ephemeral port over temporary directories, alive while this is.
struct TestServer {
    _server: BlockingServer,
    url: String,
}

impl TestServer {
    fn start(configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let big = vec![7u8; 300_000];
        let files: [(&str, &[u8]); 2] = [("a.txt", b"alpha"), ("sub/b.bin", &big)];
        let server = BlockingServer::start(&files, configure);
        let url = server.base_url();
        Self {
            _server: server,
            url,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        cli()
            .arg("--host")
            .arg(&self.url)
            .args(args)
            .output()
            .unwrap()
    }
}

fn cli() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pieces-backups"));
    command.env_remove("PIECES_OS_URL").stdin(Stdio::null());
    command
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
}

fn json_lines(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

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
fn an_unknown_backup_is_a_server_error() {
    let server = TestServer::start(|_| {});
    let output = server.run(&["delete", "no-such-backup"]);
    assert_exit(&output, 6);
    assert!(stderr(&output).contains("404"), "{}", stderr(&output));
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
fn a_silent_stream_hits_the_timeout() {
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(800));
    let output = server.run(&["create", "--stream", "--timeout", "0.2"]);
    assert_exit(&output, 8);
    assert!(stderr(&output).contains("timed out"), "{}", stderr(&output));
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
    for command in ["list", "create", "delete", "demo"] {
        let output = cli().args([command, "--help"]).output().unwrap();
        assert_exit(&output, 0);
        assert!(stdout(&output).contains("Example:"), "{command}");
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_stream_exits_130() {
    let server = TestServer::start(|config| config.progress_delay = Duration::from_millis(300));
    let mut child = cli()
        .args(["--host", &server.url, "create", "--stream"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
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
        "Deleted backup ",
        "No backups.",
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
