//! Connection failures and retries: refused connections, list retried until the server is up,
//! POSTs never resent.

mod common;

use std::time::{Duration, Instant};

use backups_hyper::{BackupId, BackupsClient, Error, Operation, RetryPolicy, TransportKind};
use common::{HangUpServer, Reply, TestServer, free_port};
use tokio::net::TcpListener;

/// Retries every 40 ms, then 80, 160, 320: about 600 ms in all.
fn patient() -> RetryPolicy {
    RetryPolicy::new(5)
        .with_base_delay(Duration::from_millis(40))
        .with_max_delay(Duration::from_millis(320))
}

fn client_for(port: u16, retry: RetryPolicy) -> BackupsClient {
    BackupsClient::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(retry)
        .request_timeout(Duration::from_secs(3))
        .build()
        .expect("client")
}

/// Starts a server on `port` after `delay`.
fn serve_later(port: u16, delay: Duration) -> tokio::task::JoinHandle<TestServer> {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("rebind");
        TestServer::on(listener, |_| Reply::json(200, r#"{"iterable":[]}"#))
    })
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let client = client_for(free_port(), RetryPolicy::none());
    let error = client.list().await.expect_err("refused");
    assert!(
        matches!(
            &error,
            Error::Transport {
                kind: TransportKind::Connect,
                operation: Some(Operation::List),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_connect());
    let display = error.to_string();
    assert!(display.contains("could not connect"), "{display}");
    assert!(display.to_lowercase().contains("refused"), "{display}");
}

#[tokio::test]
async fn list_is_retried_until_the_server_is_up() {
    let port = free_port();
    let server = serve_later(port, Duration::from_millis(100));
    let client = client_for(port, patient());

    let started = Instant::now();
    let backups = client.list().await.expect("list after retries");
    assert!(backups.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(100));
    let server = server.await.expect("server");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn list_gives_up_after_the_last_attempt() {
    let client = client_for(free_port(), RetryPolicy::new(3));
    let started = Instant::now();
    let error = client.list().await.expect_err("refused");
    assert!(error.is_connect(), "{error:?}");
    // Two waits of the default policy: 50 ms and 100 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
}

/// A POST is not retried even when nothing was sent: the policy retries idempotent calls only.
#[tokio::test]
async fn posts_are_not_retried_on_a_refused_connection() {
    let port = free_port();
    let server = serve_later(port, Duration::from_millis(100));
    let client = client_for(port, patient());

    let error = client.create().await.expect_err("refused, not retried");
    assert!(error.is_connect(), "{error:?}");
    let id = BackupId::new("x").expect("id");
    let error = client.delete(&id).await.expect_err("refused, not retried");
    assert!(error.is_connect(), "{error:?}");

    let server = server.await.expect("server");
    assert_eq!(server.request_count(), 0);
}

/// The server reads the request, then hangs up: the request may have had its effect, so it is
/// never sent again, and the error says the connection failed (not that it could not connect).
#[tokio::test]
async fn a_request_the_server_received_is_never_resent() {
    let server = HangUpServer::start().await;
    let client = BackupsClient::builder()
        .base_url(server.url())
        .retry(patient())
        .build()
        .expect("client");
    let id = BackupId::new("x").expect("id");

    let errors = [
        client.create().await.expect_err("create"),
        client.create_streamed().await.expect_err("create_streamed"),
        client.delete(&id).await.expect_err("delete"),
        client.list().await.expect_err("list"),
    ];
    for (error, operation) in errors.iter().zip([
        Operation::Create,
        Operation::CreateStreamed,
        Operation::Delete,
        Operation::List,
    ]) {
        assert!(!error.is_connect(), "{operation}: {error:?}");
        assert!(
            matches!(
                error,
                Error::Transport {
                    kind: TransportKind::Io,
                    ..
                } | Error::Truncated { .. }
            ),
            "{operation}: {error:?}"
        );
        assert_eq!(error.operation(), Some(operation));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        server.request_count(),
        4,
        "one request per call, none resent"
    );
}

/// Making a call's future needs no runtime (only polling it does), and the future a `list` is
/// kept small: it is moved on every await, and its size shows in the round trip.
#[test]
fn a_call_future_is_made_without_a_runtime_and_stays_small() {
    use backups_hyper::Transport;
    use backups_hyper::proto::operations::{ApiOperation, List};

    let client = client_for(free_port(), RetryPolicy::default());
    let request = List.request(client.endpoint()).expect("request");
    let sent = client.transport().send(request);
    let list = client.list();
    assert!(
        std::mem::size_of_val(&list) <= 1024,
        "the list future grew to {} bytes",
        std::mem::size_of_val(&list)
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let error = runtime.block_on(sent).expect_err("refused");
    assert!(error.is_connect(), "{error:?}");
    let error = runtime.block_on(list).expect_err("refused");
    assert!(error.is_connect(), "{error:?}");
}
