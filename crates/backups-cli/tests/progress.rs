//! What `pieces-backups` shows of progress that Pieces OS resets or moves back: said aloud, not
//! a bar that silently jumps back. The server here is canned (the reference server never resets
//! a restore), answering one streamed restore with exactly the events below.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener};

use common::{assert_exit, run_at, stderr, stdout};

const ID: &str = "1796248401012-0000";

fn event(status: &str, percentage: u32) -> String {
    format!(
        r#"{{"backup":{{"id":"{ID}","bytes":5,"created":{{"value":"2026-12-02T21:53:21.012Z","readable":"2026-12-02 21:53:21 UTC"}},"device_name":"vm","platform":"LINUX","timestamp":"1796248401012","version":"0.1.0"}},"percentage":{percentage},"status":"{status}"}}"#
    )
}

/// Serves one request with `body` as an NDJSON progress stream, and returns its base URL.
fn canned(body: String) -> String {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((socket, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(socket);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
            line.clear();
        }
        let mut socket = reader.into_inner();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).ok();
        socket.write_all(body.as_bytes()).ok();
    });
    url
}

#[test]
fn progress_that_resets_or_goes_back_is_said_on_stderr() {
    let events = [
        event("INITIALIZED", 0),
        event("IN-PROGRESS", 50),
        event("RESET", 0),
        event("IN-PROGRESS", 60),
        event("IN-PROGRESS", 40),
        event("COMPLETED", 100),
    ];
    let url = canned(events.join("\n") + "\n");
    let args = ["restore", ID, "--stream", "--yes", "--no-safety-backup"];
    let output = run_at(&url, &args);
    assert_exit(&output, 0);
    // stdout keeps one line per event, and the verdict.
    assert_eq!(
        stdout(&output).lines().count(),
        events.len() + 1,
        "{}",
        stdout(&output)
    );
    let notes = stderr(&output);
    assert!(
        notes.contains("Pieces OS reset the progress to 0% (it was at 50%)"),
        "{notes}"
    );
    assert!(
        notes.contains("the progress went back from 60% to 40%"),
        "{notes}"
    );
    assert_eq!(notes.lines().count(), 2, "{notes}");
}

#[test]
fn steady_progress_says_nothing_on_stderr() {
    let events = [
        event("INITIALIZED", 0),
        event("IN-PROGRESS", 50),
        event("COMPLETED", 100),
    ];
    let url = canned(events.join("\n") + "\n");
    let args = ["restore", ID, "--stream", "--yes", "--no-safety-backup"];
    let output = run_at(&url, &args);
    assert_exit(&output, 0);
    assert_eq!(stderr(&output), "");
}
