//! What a hostile (or broken) Pieces OS sends never drives the user's terminal: control
//! characters in its error texts and in the backups' fields reach the screen escaped
//! (`\u{1b}`), never as the escape sequences they spell. The server here is canned.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener};

use common::{assert_exit, run_at, stderr, stdout};

/// Serves every request with `status`, `content_type` and `body`; returns the base URL.
fn canned(status: &'static str, content_type: &'static str, body: String) -> String {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(socket) = socket else { return };
            let mut reader = BufReader::new(socket);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let mut socket = reader.into_inner();
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            socket.write_all(head.as_bytes()).ok();
            socket.write_all(body.as_bytes()).ok();
        }
    });
    url
}

/// A title change, a bell and a screen clear.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J";

#[test]
fn an_error_text_from_pieces_os_is_escaped_on_stderr() {
    let url = canned(
        "500 Internal Server Error",
        "text/plain",
        format!("{HOSTILE}boom"),
    );
    let output = run_at(&url, &["list"]);
    assert_exit(&output, 6);
    let err = stderr(&output);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains(r"\u{1b}]0;pwned\u{7}\u{1b}[2Jboom"), "{err:?}");
}

#[test]
fn the_fields_of_a_backup_are_escaped_in_the_table_and_in_show() {
    let mut backup: serde_json::Value =
        serde_json::from_str(&backups_testkit::backup_json("1796248401012-0000")).unwrap();
    backup["device_name"] = format!("{HOSTILE}laptop").into();
    backup["version"] = "11\u{9b}31m".into();
    let url = canned(
        "200 OK",
        "application/json",
        serde_json::json!({ "iterable": [backup.clone()] }).to_string(),
    );
    let output = run_at(&url, &["list"]);
    assert_exit(&output, 0);
    let out = stdout(&output);
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{9b}'),
        "{out:?}"
    );
    assert!(
        out.contains(r"\u{1b}]0;pwned\u{7}\u{1b}[2Jlaptop"),
        "{out:?}"
    );
    assert!(out.contains(r"11\u{9b}31m"), "{out:?}");

    // In JSON the characters are JSON's escapes, as they always were.
    let output = run_at(&url, &["list", "--json"]);
    assert_exit(&output, 0);
    let out = stdout(&output);
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains(r"\u001b]0;pwned"), "{out:?}");
}
