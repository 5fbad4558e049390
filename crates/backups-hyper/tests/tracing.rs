//! Each call is a `backups_call` span with its operation, method, path, status, attempt and
//! duration, checked with the test kit's capturing subscriber.

mod common;

use backups_hyper::{BackupsClient, RetryPolicy};
use backups_testkit::TraceCapture;
use common::{Reply, TestServer, free_port};

#[tokio::test]
async fn each_call_is_a_span_with_its_outcome() {
    let capture = TraceCapture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let server = TestServer::start(|request| match request.path.as_str() {
        "/backups" => Reply::json(200, r#"{"iterable":[]}"#),
        _ => Reply::text(511, "User is not authenticated"),
    })
    .await;
    let client = BackupsClient::builder()
        .base_url(server.url())
        .build()
        .expect("client");
    client.list().await.expect("list");
    client.create().await.expect_err("511");
    let refused = BackupsClient::builder()
        .base_url(format!("http://127.0.0.1:{}", free_port()))
        .retry(RetryPolicy::new(2).with_base_delay(std::time::Duration::from_millis(1)))
        .build()
        .expect("client");
    refused.list().await.expect_err("refused");

    let calls = capture.calls();
    // The refused list is two calls of the transport: the client retried it once.
    assert_eq!(calls.len(), 4, "{calls:#?}");
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

    assert_eq!(field(1, "operation"), "create");
    assert_eq!(field(1, "method"), "POST");
    assert_eq!(field(1, "path"), "/backups/create");
    assert_eq!(field(1, "status"), "511");
    assert!(calls[1].contains_key("duration_ms"));

    assert_eq!(field(2, "operation"), "list");
    assert!(!calls[2].contains_key("status"));
    assert!(
        field(2, "error").contains("could not connect"),
        "{:?}",
        calls[2]
    );
    assert!(calls[2].contains_key("duration_ms"));
    assert_eq!(field(2, "attempt"), "1");
    assert_eq!(field(3, "operation"), "list");
    assert_eq!(field(3, "attempt"), "2");
    assert!(
        field(3, "error").contains("could not connect"),
        "{:?}",
        calls[3]
    );

    let messages = capture.messages();
    assert!(messages.iter().any(|m| m == "retrying"), "{messages:?}");
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.starts_with("backups call"))
            .count(),
        4,
        "{messages:?}"
    );
}
