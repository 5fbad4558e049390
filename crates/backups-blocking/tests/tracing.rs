//! Each call of the blocking client is a `backups_call` span with its operation, method, path,
//! status, attempt and duration, as with the async client: checked with the test kit's
//! capturing subscriber.

use std::time::Duration;

use backups_blocking::{Client, RetryPolicy};
use backups_testkit::{BlockingServer, TraceCapture};

#[test]
fn each_call_is_a_span_with_its_outcome() {
    let server = BlockingServer::start(&[("notes.txt", b"hello")], |_| {});
    let capture = TraceCapture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let client = Client::builder()
        .base_url(server.base_url())
        .build()
        .expect("client");
    client.list().expect("list");
    let made = client
        .create_over_websocket()
        .expect("socket")
        .finish(|_| {})
        .expect("made");
    client.get("no-such-backup").expect_err("404");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let refused = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy::new(2).with_base_delay(Duration::from_millis(1)))
        .build()
        .expect("client");
    refused.list().expect_err("refused");
    assert!(!made.id.is_empty());

    let calls = capture.calls();
    assert_eq!(calls.len(), 5, "{calls:#?}");
    let field = |call: usize, name: &str| calls[call].get(name).cloned().unwrap_or_default();

    assert_eq!(field(0, "operation"), "list");
    assert_eq!(field(0, "method"), "GET");
    assert_eq!(field(0, "path"), "/backups");
    assert_eq!(field(0, "status"), "200");
    assert_eq!(field(0, "attempt"), "1");
    assert!(
        field(0, "duration_ms").parse::<u64>().is_ok(),
        "{:?}",
        calls[0]
    );
    assert!(!calls[0].contains_key("error"));

    // The socket's span lasts until its close.
    assert_eq!(field(1, "operation"), "create_over_websocket");
    assert_eq!(field(1, "status"), "101");
    assert!(
        field(1, "duration_ms").parse::<u64>().is_ok(),
        "{:?}",
        calls[1]
    );

    assert_eq!(field(2, "operation"), "get");
    assert_eq!(field(2, "status"), "404");

    assert!(!calls[3].contains_key("status"));
    assert!(
        field(3, "error").contains("could not connect"),
        "{:?}",
        calls[3]
    );
    assert_eq!(field(3, "attempt"), "1");
    assert_eq!(field(4, "attempt"), "2");

    let messages = capture.messages();
    assert!(messages.iter().any(|m| m == "retrying"), "{messages:?}");
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.starts_with("backups call"))
            .count(),
        5,
        "{messages:?}"
    );
}
