//! The request, idle and connect timeouts against servers that stall.

mod common;

use std::time::{Duration, Instant};

use backups_hyper::{BackupsClient, Error, Operation, TimeoutKind};
use bytes::Bytes;
use common::{Part, Reply, TestServer};

const SHORT: Duration = Duration::from_millis(200);

fn client(server: &TestServer) -> BackupsClient {
    BackupsClient::builder()
        .base_url(server.url())
        .request_timeout(SHORT)
        .idle_timeout(SHORT)
        .build()
        .expect("client")
}

#[track_caller]
fn assert_timeout(error: &Error, kind: TimeoutKind, operation: Operation) {
    assert!(
        matches!(error, Error::Timeout { kind: k, operation: Some(op) } if *k == kind && *op == operation),
        "expected a {kind:?} timeout of {operation}, got {error:?}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_request_timeout() {
    let server = TestServer::start(|_| {
        Reply::json(200, r#"{"iterable":[]}"#).head_delay(Duration::from_secs(30))
    })
    .await;
    let started = Instant::now();
    let error = client(&server).list().await.expect_err("timeout");
    assert_timeout(&error, TimeoutKind::Request, Operation::List);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(error.to_string().contains("timed out"), "{error}");
}

#[tokio::test]
async fn a_body_that_stalls_hits_the_request_deadline() {
    let server = TestServer::start(|_| {
        Reply::new(200)
            .header("content-type", "application/json")
            .header("content-length", "100")
            .part(Part::Data(Bytes::from_static(b"{\"iterable\":[")))
            .part(Part::Stall)
    })
    .await;
    let started = Instant::now();
    let error = client(&server).list().await.expect_err("timeout");
    assert_timeout(&error, TimeoutKind::Request, Operation::List);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stalled_stream_hits_the_idle_timeout_after_its_first_event() {
    let server = TestServer::start(|_| {
        Reply::new(200)
            .header("content-type", "application/x-ndjson")
            .part(Part::Data(Bytes::from_static(
                b"{\"status\":\"INITIALIZED\",\"percentage\":0}\n",
            )))
            .part(Part::Stall)
    })
    .await;
    let mut stream = client(&server).create_streamed().await.expect("head");
    let first = stream.next_event().await.expect("an event").expect("ok");
    assert_eq!(first.percentage.map(|p| p.as_f64()), Some(0.0));
    let started = Instant::now();
    let error = stream
        .next_event()
        .await
        .expect("an item")
        .expect_err("idle");
    assert_timeout(&error, TimeoutKind::Idle, Operation::CreateStreamed);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(1),
        "{waited:?}"
    );
    assert!(
        stream.next_event().await.is_none(),
        "the stream ends after an error"
    );
}

/// A stream that keeps talking outlives the request timeout: it has no total deadline, and
/// each chunk rearms the idle timeout.
#[tokio::test]
async fn a_lively_stream_is_not_bound_by_the_request_timeout() {
    let server = TestServer::start(|_| {
        let mut reply = Reply::new(200).header("content-type", "application/x-ndjson");
        for percentage in [0, 20, 40, 60, 80] {
            let event = format!("{{\"status\":\"IN-PROGRESS\",\"percentage\":{percentage}}}\n");
            reply = reply
                .part(Part::Data(Bytes::from(event)))
                .part(Part::Delay(Duration::from_millis(100)));
        }
        reply.part(Part::Data(Bytes::from_static(
            b"{\"status\":\"CANCELED\",\"percentage\":80}\n",
        )))
    })
    .await;
    let started = Instant::now();
    let mut count = 0;
    let error = client(&server)
        .create_streamed()
        .await
        .expect("head")
        .finish(|_| count += 1)
        .await
        .expect_err("canceled");
    assert!(started.elapsed() > SHORT, "{:?}", started.elapsed());
    assert_eq!(count, 6);
    // CANCELED is the server's answer, not a timeout.
    assert!(matches!(error, Error::Ended { .. }), "{error:?}");
}

/// On Linux a listener with a backlog of 0 that never accepts drops further SYNs once its queue
/// is full, so the next connect hangs until the connect timeout.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_connect_that_hangs_hits_the_connect_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let listener = socket.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr");
    // Fill the accept queue.
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(stream)) = tokio::time::timeout(
            Duration::from_millis(50),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(stream);
        }
    }
    let client = BackupsClient::builder()
        .base_url(format!("http://{addr}"))
        .connect_timeout(Duration::from_millis(100))
        .request_timeout(Duration::from_secs(2))
        .retry(backups_hyper::RetryPolicy::none())
        .build()
        .expect("client");
    let started = Instant::now();
    let error = client.create().await.expect_err("connect timeout");
    assert_timeout(&error, TimeoutKind::Connect, Operation::Create);
    assert!(error.is_connect());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    drop(listener);
}

/// `Duration::MAX` means "no timeout": it must not overflow a clock.
#[tokio::test]
async fn huge_timeouts_do_not_overflow() {
    let server = TestServer::start(|_| {
        Reply::new(200)
            .header("content-type", "application/x-ndjson")
            .chunked(
                b"{\"status\":\"INITIALIZED\",\"percentage\":0}\n{\"status\":\"CANCELED\"}\n",
                &[10],
                Duration::from_millis(1),
            )
    })
    .await;
    let client = BackupsClient::builder()
        .base_url(server.url())
        .connect_timeout(Duration::MAX)
        .request_timeout(Duration::MAX)
        .idle_timeout(Duration::MAX)
        .retry(
            backups_hyper::RetryPolicy::new(u32::MAX)
                .with_base_delay(Duration::MAX)
                .with_max_delay(Duration::MAX),
        )
        .build()
        .expect("client");
    let mut stream = client.create_streamed().await.expect("head");
    let mut count = 0;
    while let Some(event) = stream.next_event().await {
        event.expect("event");
        count += 1;
    }
    assert_eq!(count, 2);
}
