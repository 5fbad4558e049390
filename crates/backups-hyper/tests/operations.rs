//! Every operation through `BackupsClient` against a real hyper server on 127.0.0.1: success,
//! the documented errors, an undocumented status, a stream in odd chunks, the size limits, and
//! what the server sees on the wire.

mod common;

use std::time::Duration;

use backups_hyper::models::{ProgressStatus, SeededBackup};
use backups_hyper::proto::operations::AnyOperation;
use backups_hyper::{BackupId, BackupsClient, Error, Operation};
use backups_testkit::backup_json;
use common::{Part, Reply, TestServer};

fn client(server: &TestServer) -> BackupsClient {
    BackupsClient::builder()
        .base_url(server.url())
        .application_id("backups-hyper-tests")
        .build()
        .expect("client")
}

#[tokio::test]
async fn list_returns_the_backups_and_sends_the_documented_headers() {
    let body = format!(
        r#"{{"iterable":[{},{}]}}"#,
        backup_json("b1"),
        backup_json("b2")
    );
    let server = TestServer::start(move |_| Reply::json(200, &body)).await;

    let backups = client(&server).list().await.expect("list");

    let ids: Vec<_> = backups.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["b1", "b2"]);
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, http::Method::GET);
    assert_eq!(request.path, "/backups");
    assert_eq!(request.headers["accept"], "application/json");
    let user_agent = request.headers["user-agent"].to_str().expect("ascii");
    assert!(
        user_agent.starts_with("pieces-backups-rs/"),
        "User-Agent {user_agent:?}"
    );
    assert_eq!(request.headers["x-application-id"], "backups-hyper-tests");
    assert!(request.headers.get("content-type").is_none());
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn create_posts_an_empty_body_and_returns_the_backup() {
    let body = backup_json("new");
    let server = TestServer::start(move |_| Reply::json(200, &body)).await;
    let client = client(&server);

    let backup = client.create().await.expect("create");
    assert_eq!(backup.id, "new");
    assert_eq!(backup.device_name, "Zoë's Mäcbook 💻");

    let seeded = client
        .create_with(SeededBackup::new())
        .await
        .expect("create with a seed");
    assert_eq!(seeded.id, "new");

    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.method, http::Method::POST);
        assert_eq!(request.path, "/backups/create");
        assert_eq!(request.headers["content-type"], "application/json");
        assert_eq!(request.headers["accept"], "application/json");
    }
    assert_eq!(seen[0].headers["content-length"], "0");
    assert!(seen[0].body.is_empty());
    assert_eq!(&seen[1].body[..], b"{}");
}

#[tokio::test]
async fn delete_sends_the_id_as_one_encoded_segment() {
    let server = TestServer::start(|_| Reply::new(204)).await;
    let client = client(&server);

    let id = BackupId::new("a/b c?d#e%f..").expect("id");
    client.delete(&id).await.expect("delete");
    client
        .delete(&BackupId::new("..").expect("id"))
        .await
        .expect("delete ..");

    let seen = server.requests();
    assert_eq!(seen[0].method, http::Method::POST);
    assert_eq!(seen[0].path, "/backups/a%2Fb%20c%3Fd%23e%25f%2E%2E/delete");
    assert_eq!(seen[0].headers["accept"], "text/plain");
    assert_eq!(seen[0].headers["content-type"], "application/json");
    assert_eq!(seen[1].path, "/backups/%2E%2E/delete");
}

/// An NDJSON progress stream whose cuts fall after one byte, inside an object, inside a
/// four-byte UTF-8 character and just before the last byte.
#[tokio::test]
async fn create_streamed_reads_a_stream_split_in_odd_chunks() {
    let events = [
        r#"{"status":"INITIALIZED","percentage":0}"#.to_owned(),
        r#"{"status":"IN-PROGRESS","percentage":42.5}"#.to_owned(),
        format!(
            r#"{{"status":"COMPLETED","percentage":100,"backup":{}}}"#,
            backup_json("streamed")
        ),
    ];
    let body = events.join("\n") + "\n";
    let emoji = body.find('💻').expect("emoji");
    let cuts = [1, 17, emoji + 2, emoji + 3, body.len() - 1];
    let mut sizes = Vec::new();
    let mut last = 0;
    for cut in cuts {
        sizes.push(cut - last);
        last = cut;
    }
    let server = TestServer::start(move |_| {
        Reply::new(200)
            .header("content-type", "application/x-ndjson")
            .chunked(body.as_bytes(), &sizes, Duration::from_millis(5))
    })
    .await;

    let mut stream = client(&server).create_streamed().await.expect("stream");
    let mut statuses = Vec::new();
    let mut finished = None;
    while let Some(event) = stream.next_event().await {
        let event = event.expect("event");
        statuses.push(event.status.clone().expect("status"));
        if let Some(backup) = event.backup {
            finished = Some(backup);
        }
    }
    assert_eq!(
        statuses,
        [
            ProgressStatus::Initialized,
            ProgressStatus::InProgress,
            ProgressStatus::Completed
        ]
    );
    let backup = finished.expect("the completed backup");
    assert_eq!(backup.id, "streamed");
    assert_eq!(backup.device_name, "Zoë's Mäcbook 💻");

    let seen = server.requests();
    assert_eq!(seen[0].path, "/backups/create/streamed");
    assert_eq!(
        seen[0].headers["accept"],
        "application/x-ndjson, application/json"
    );
    assert_eq!(seen[0].headers["content-type"], "application/json");
}

#[tokio::test]
async fn create_streamed_finish_returns_the_backup() {
    let body = format!(
        "{{\"status\":\"INITIALIZED\",\"percentage\":0}}\n{{\"status\":\"COMPLETED\",\"percentage\":100,\"backup\":{}}}\n",
        backup_json("done")
    );
    let server = TestServer::start(move |_| {
        Reply::new(200)
            .header("content-type", "application/x-ndjson")
            .chunked(body.as_bytes(), &[3, 50], Duration::from_millis(2))
    })
    .await;
    let mut seen = 0;
    let backup = client(&server)
        .create_streamed()
        .await
        .expect("stream")
        .finish(|_| seen += 1)
        .await
        .expect("backup");
    assert_eq!(backup.id, "done");
    assert_eq!(seen, 2);
}

/// Calls every operation once and returns its error.
/// Every HTTP operation's error against a server that answers them all with one error.
async fn every_error(client: &BackupsClient) -> Vec<Error> {
    let mut errors = Vec::new();
    for operation in Operation::http() {
        let id = operation
            .takes_id()
            .then(|| BackupId::new("x").expect("id"));
        let call = AnyOperation::from_parts(operation, id, None).expect("an operation");
        errors.push(client.run(&call, |_| {}).await.expect_err(operation.name()));
    }
    errors
}

#[tokio::test]
async fn documented_error_statuses_become_typed_errors_with_advice() {
    let cases = [
        (500, "database is locked", "Pieces OS failed to"),
        (505, "local OS too old", "update Pieces OS"),
        (511, "User is not authenticated", "sign in"),
    ];
    for (status, text, advice) in cases {
        let server = TestServer::start(move |_| Reply::text(status, text)).await;
        let errors = every_error(&client(&server)).await;
        for (error, operation) in errors.iter().zip(Operation::http()) {
            let matches_variant = match status {
                500 => matches!(error, Error::Internal { message, .. } if message == text),
                505 => matches!(error, Error::OsOutdated { message, .. } if message == text),
                _ => matches!(error, Error::Unauthenticated { message, .. } if message == text),
            };
            assert!(matches_variant, "{status} {operation}: {error:?}");
            assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
            assert_eq!(error.operation(), Some(operation));
            let display = error.to_string();
            assert!(display.contains(advice), "{display}");
            assert!(display.contains(text), "{display}");
        }
    }
}

#[tokio::test]
async fn an_undocumented_status_is_reported_with_its_text() {
    let server = TestServer::start(|_| Reply::text(418, "I'm a teapot")).await;
    for error in every_error(&client(&server)).await {
        match &error {
            Error::UnexpectedStatus {
                status, excerpt, ..
            } => {
                assert_eq!(status.as_u16(), 418);
                assert_eq!(excerpt, "I'm a teapot");
            }
            other => panic!("expected UnexpectedStatus, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_oversized_body_hits_the_limit_with_or_without_content_length() {
    let big = format!(r#"{{"iterable":[],"pad":"{}"}}"#, "x".repeat(4096));
    let declared = TestServer::start({
        let big = big.clone();
        move |_| Reply::json(200, &big)
    })
    .await;
    let chunked = TestServer::start(move |_| {
        Reply::new(200)
            .header("content-type", "application/json")
            .chunked(big.as_bytes(), &[512; 16], Duration::ZERO)
    })
    .await;
    for server in [&declared, &chunked] {
        let client = BackupsClient::builder()
            .base_url(server.url())
            .max_body(1024)
            .build()
            .expect("client");
        assert_eq!(client.limits().max_body, 1024);
        let error = client.list().await.expect_err("too large");
        assert!(
            matches!(
                error,
                Error::BodyTooLarge {
                    limit: 1024,
                    operation: Some(Operation::List)
                }
            ),
            "{error:?}"
        );
    }
    // Under the limit, the same body is fine.
    let roomy = BackupsClient::builder()
        .base_url(declared.url())
        .build()
        .expect("client");
    assert!(roomy.list().await.expect("list").is_empty());
}

#[tokio::test]
async fn an_oversized_progress_event_hits_the_frame_limit() {
    let body = format!(
        "{{\"status\":\"COMPLETED\",\"percentage\":100,\"backup\":{}}}\n",
        backup_json("big")
    );
    let server = TestServer::start(move |_| {
        Reply::new(200)
            .header("content-type", "application/x-ndjson")
            .chunked(body.as_bytes(), &[40, 40], Duration::ZERO)
    })
    .await;
    let client = BackupsClient::builder()
        .base_url(server.url())
        .max_frame(64)
        .build()
        .expect("client");
    let error = client
        .create_streamed()
        .await
        .expect("head")
        .finish(|_| {})
        .await
        .expect_err("frame too large");
    assert!(
        matches!(error, Error::FrameTooLarge { limit: 64, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_body_cut_short_is_truncated() {
    let server = TestServer::start(|_| {
        Reply::new(200)
            .header("content-type", "application/json")
            .header("content-length", "100")
            .part(Part::Data(bytes::Bytes::from_static(b"{\"iterable\":[")))
            .part(Part::Abort)
    })
    .await;
    let error = client(&server).list().await.expect_err("cut");
    assert!(
        matches!(
            error,
            Error::Truncated {
                operation: Operation::List,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn connections_are_reused() {
    let server = TestServer::start(|_| Reply::json(200, r#"{"iterable":[]}"#)).await;
    let client = client(&server);
    for _ in 0..5 {
        client.list().await.expect("list");
    }
    assert_eq!(server.request_count(), 5);
    assert_eq!(server.connection_count(), 1);
}

#[test]
fn a_client_is_built_without_a_runtime() {
    let client = BackupsClient::localhost();
    assert_eq!(
        client.endpoint().base_url().to_string(),
        "http://localhost:1000"
    );
    let built = BackupsClient::builder()
        .base_url("http://127.0.0.1:39300/prefix")
        .user_agent("my-tool/1.0")
        .header("x-extra", "yes")
        .build()
        .expect("client");
    assert_eq!(built.endpoint().headers()["user-agent"], "my-tool/1.0");
    assert_eq!(built.endpoint().headers()["x-extra"], "yes");
}

#[test]
fn bad_settings_are_refused_at_build() {
    let cases = [
        BackupsClient::builder().base_url("ftp://host"),
        BackupsClient::builder().base_url("https://127.0.0.1:39300"),
        BackupsClient::builder().header("bad name", "x"),
        BackupsClient::builder().header("x-ok", "bad\nvalue"),
        BackupsClient::builder().user_agent("bad\r\nagent"),
    ];
    for builder in cases {
        let error = builder.build().expect_err("invalid");
        assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    }
}
