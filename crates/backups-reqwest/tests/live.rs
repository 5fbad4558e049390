//! `ReqwestTransport` against the reference server on 127.0.0.1: every kind of call, a
//! WebSocket, a refused port and a silent stream.

use std::time::{Duration, Instant};

use backups_proto::{BackupId, Client, Endpoint, Error, Operation, Polling, TimeoutKind};
use backups_reqwest::ReqwestTransport;
use backups_testkit::TempServer;

/// Files enough for a create or restore of several progress steps.
fn files() -> Vec<(String, Vec<u8>)> {
    (0..8)
        .map(|i| {
            let path = format!("db/part{i:02}.bin");
            (path, backups_testkit::pseudo_random(16 * 1024, i))
        })
        .collect()
}

/// A reference server whose creates and restores go silent for `silent_phase` half way.
async fn start(silent_phase: Duration) -> TempServer {
    let files = files();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    backups_testkit::start_server(&refs, move |config| config.silent_phase = silent_phase).await
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

fn client(base_url: &str, transport: ReqwestTransport) -> Client<ReqwestTransport> {
    let base = base_url.parse().expect("base URL");
    Client::new(transport, Endpoint::new(base)).with_polling(
        Polling::default()
            .with_interval(Duration::from_millis(50))
            .with_max_backoff(Duration::from_millis(200))
            .with_poll_timeout(Duration::from_secs(2))
            .with_unanswered(Duration::from_secs(5)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_create_and_restore_streamed_and_followed() {
    let server = start(Duration::ZERO).await;
    let client = client(&server.base_url(), ReqwestTransport::new(http()));
    assert!(client.list().await.expect("list").is_empty());

    let made = client.create().await.expect("create");
    let stream = client.create_streamed().await.expect("create_streamed");
    let mut events = 0;
    let streamed = client
        .follow(stream, |_| events += 1)
        .await
        .expect("a followed create");
    assert!(events >= 2, "only {events} events");
    assert_ne!(streamed.id, made.id);
    let listed = client.list().await.expect("list");
    assert_eq!(listed.len(), 2);

    // A restore brings back what the backup holds.
    let data = server.dirs().data().join("db/part00.bin");
    let original = std::fs::read(&data).expect("read");
    std::fs::write(&data, b"changed").expect("write");
    let id = BackupId::new(made.id.clone()).expect("id");
    let stream = client
        .restore_streamed(&id)
        .await
        .expect("restore_streamed");
    let restored = client.follow(stream, |_| {}).await.expect("restored");
    assert_eq!(restored.id, made.id);
    assert_eq!(std::fs::read(&data).expect("read"), original);

    // A plain restore, which the transport never bounds by its request timeout.
    std::fs::write(&data, b"changed again").expect("write");
    let transport = ReqwestTransport::new(http()).with_request_timeout(Duration::from_millis(1));
    let slow = client_with(&server, transport);
    slow.restore(&id)
        .await
        .expect("a plain restore outlives the request timeout");
    assert_eq!(std::fs::read(&data).expect("read"), original);
}

fn client_with(server: &TempServer, transport: ReqwestTransport) -> Client<ReqwestTransport> {
    client(&server.base_url(), transport)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_over_websocket_ends_at_its_backup() {
    let server = start(Duration::ZERO).await;
    let client = client(&server.base_url(), ReqwestTransport::new(http()));
    let stream = client.create_over_websocket().await.expect("upgraded");
    assert_eq!(stream.operation(), Operation::CreateOverWebSocket);
    let mut events = 0;
    let backup = stream.finish(|_| events += 1).await.expect("the backup");
    assert!(events >= 2, "only {events} events");
    let listed = client.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed.iter().next().map(|b| b.id.clone()), Some(backup.id));
}

#[tokio::test]
async fn a_refused_port_is_a_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = client(
        &format!("http://127.0.0.1:{port}"),
        ReqwestTransport::new(http()),
    );
    let error = client.list().await.expect_err("nothing listens");
    assert!(error.is_connect(), "{error:?}");
    assert!(
        matches!(
            error,
            Error::Transport {
                operation: Some(Operation::List),
                ..
            }
        ),
        "{error:?}"
    );
    let error = client.create().await.expect_err("nothing listens");
    assert!(error.is_connect(), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stream_ends_with_the_idle_timeout() {
    let server = start(Duration::from_secs(3)).await;
    let transport = ReqwestTransport::new(http()).with_idle_timeout(Duration::from_millis(300));
    let client = client(&server.base_url(), transport);
    let mut stream = client.create_streamed().await.expect("create_streamed");
    let started = Instant::now();
    let error = loop {
        match stream.next_event().await {
            Some(Ok(_)) => continue,
            Some(Err(error)) => break error,
            None => panic!("the stream ended without the idle timeout"),
        }
    };
    assert!(
        matches!(
            error,
            Error::Timeout {
                kind: TimeoutKind::Idle,
                operation: Some(Operation::CreateStreamed)
            }
        ),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stream_is_followed_to_its_end_by_its_status() {
    let server = start(Duration::from_secs(1)).await;
    let transport = ReqwestTransport::new(http()).with_idle_timeout(Duration::from_millis(200));
    let client = client(&server.base_url(), transport);
    let stream = client.create_streamed().await.expect("create_streamed");
    let backup = client
        .follow(stream, |_| {})
        .await
        .expect("followed through the silence");
    let listed = client.list().await.expect("list");
    assert_eq!(listed.iter().next().map(|b| b.id.clone()), Some(backup.id));
}

#[tokio::test]
async fn an_id_of_dot_dot_is_sent_as_one_segment() {
    // reqwest's URL parser would send `/backup/%2E%2E` as `/`; the transport sends it as built.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let seen = backups_testkit::read_request(&mut stream)
            .await
            .expect("request");
        let answer = "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n\
                      content-length: 7\r\nconnection: close\r\n\r\nunknown";
        tokio::io::AsyncWriteExt::write_all(&mut stream, answer.as_bytes())
            .await
            .expect("write");
        seen
    });
    let client = client(&format!("http://{addr}"), ReqwestTransport::new(http()));
    let id = BackupId::new("..").expect("id");
    let error = client.get(&id).await.expect_err("no such backup");
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    let seen = peer.await.expect("peer");
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/backup/%2E%2E")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_socket_of_id_dot_dot_is_refused_by_its_own_route() {
    let server = start(Duration::ZERO).await;
    let client = client(&server.base_url(), ReqwestTransport::new(http()));
    let id = BackupId::new("..").expect("id");
    let outcome = match client.restore_over_websocket(&id).await {
        Ok(stream) => stream.finish(|_| {}).await.map(|_| ()),
        Err(error) => Err(error),
    };
    let error = outcome.expect_err("no such backup");
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}
