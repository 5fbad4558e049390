//! The fault proxy seen from the client: what bytes arrive before each cut, and how the cut
//! looks (`ECONNRESET`, EOF, or an open socket that says nothing).

use std::future::Future;
use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backups_testkit::{BlockingProxy, Fault, FaultProxy, Match, Rule, read_request, start_server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Every test ends well inside 2 s, or fails instead of hanging.
async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(2), test)
        .await
        .expect("the test finishes within 2 s")
}

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

fn chunk(body: &str) -> Vec<u8> {
    format!("{:x}\r\n{body}\r\n", body.len()).into_bytes()
}

/// A progress stream as the server sends it: a head, three chunks, the last chunk.
fn progress_response() -> Vec<Vec<u8>> {
    vec![
        HEAD.to_vec(),
        chunk(r#"{"percentage":10}"#),
        chunk(r#"{"percentage":46}"#),
        chunk(r#"{"percentage":100}"#),
        LAST_CHUNK.to_vec(),
    ]
}

/// An upstream that answers every request of every connection (kept alive) with `pieces`,
/// pausing between them so that each reaches the proxy in a read of its own, and remembers the
/// targets it was asked for.
struct Upstream {
    addr: SocketAddr,
    targets: Arc<Mutex<Vec<String>>>,
    /// How many connections have ended (the peer closed or failed).
    ended: Arc<AtomicUsize>,
}

impl Upstream {
    async fn start(pieces: Vec<Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("an address");
        let targets = Arc::new(Mutex::new(Vec::new()));
        let ended = Arc::new(AtomicUsize::new(0));
        let (seen, ends) = (Arc::clone(&targets), Arc::clone(&ended));
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (pieces, seen, ends) = (pieces.clone(), Arc::clone(&seen), Arc::clone(&ends));
                tokio::spawn(async move {
                    'requests: while let Ok(request) = read_request(&mut socket).await {
                        seen.lock().unwrap().push(request.path);
                        for piece in &pieces {
                            if socket.write_all(piece).await.is_err() {
                                break 'requests;
                            }
                            tokio::time::sleep(Duration::from_millis(15)).await;
                        }
                    }
                    ends.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        Self {
            addr,
            targets,
            ended,
        }
    }

    fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }

    /// Waits until `count` connections have ended (the test's bound stops a wait that never
    /// ends).
    async fn ended(&self, count: usize) {
        while self.ended.load(Ordering::SeqCst) < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// How the client's read of a response ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The whole chunked body arrived.
    Complete,
    /// An EOF before the body was complete.
    Eof,
    /// An error of the socket, such as `ConnectionReset`.
    Error(io::ErrorKind),
}

async fn send(stream: &mut TcpStream, target: &str) -> io::Result<()> {
    let request = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await
}

/// Reads until the chunked body is complete, an EOF or an error.
async fn read_response(stream: &mut TcpStream) -> (Vec<u8>, End) {
    let mut seen = Vec::new();
    let mut buf = [0; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return (seen, End::Eof),
            Ok(n) => {
                seen.extend_from_slice(&buf[..n]);
                if seen.ends_with(LAST_CHUNK) {
                    return (seen, End::Complete);
                }
            }
            Err(err) => return (seen, End::Error(err.kind())),
        }
    }
}

/// One request on a new connection through `addr`.
async fn request(addr: SocketAddr, target: &str) -> (Vec<u8>, End) {
    let mut stream = TcpStream::connect(addr).await.expect("the proxy accepts");
    if let Err(err) = send(&mut stream, target).await {
        return (Vec::new(), End::Error(err.kind()));
    }
    read_response(&mut stream).await
}

/// Waits until the proxy holds no connection (the test's bound stops a wait that never ends).
async fn all_closed(proxy: &FaultProxy) {
    while proxy.open_connections() > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn whole() -> Vec<u8> {
    progress_response().concat()
}

#[tokio::test]
async fn an_unarmed_proxy_passes_the_response_through_whole() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        assert_eq!(proxy.base_url(), format!("http://{}", proxy.addr()));
        let (seen, end) = request(proxy.addr(), "/backups/create/streamed").await;
        assert_eq!((seen, end), (whole(), End::Complete));
        assert_eq!(upstream.targets(), ["/backups/create/streamed"]);
        assert_eq!((proxy.connections(), proxy.faults_fired()), (1, 0));
    })
    .await;
}

#[tokio::test]
async fn reset_after_forwards_the_count_then_the_client_reads_econnreset() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        // Inside the second chunk, so the cut comes mid-body and a few reads in.
        let cut = HEAD.len() + 30;
        proxy.arm(Rule::any(Fault::ResetAfter(cut)));
        let (seen, end) = request(proxy.addr(), "/backups/create/streamed").await;
        assert_eq!(seen, whole()[..cut]);
        assert_eq!(end, End::Error(io::ErrorKind::ConnectionReset));
        assert!(proxy.wait_fired(1, Duration::from_secs(1)).await);
        assert_eq!(proxy.armed(), 0);
        all_closed(&proxy).await;
    })
    .await;
}

#[tokio::test]
async fn close_after_forwards_the_count_then_the_client_reads_eof() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        let cut = HEAD.len() + 30;
        proxy.arm(Rule::any(Fault::CloseAfter(cut)));
        let (seen, end) = request(proxy.addr(), "/").await;
        assert_eq!((seen.as_slice(), end), (&whole()[..cut], End::Eof));
        assert!(proxy.wait_fired(1, Duration::from_secs(1)).await);
    })
    .await;
}

#[tokio::test]
async fn reset_when_cuts_after_a_pattern_split_across_two_reads() {
    bounded(async {
        // The pattern's halves come 15 ms apart: two reads of the proxy.
        let pieces = vec![
            HEAD.to_vec(),
            b"11\r\n{\"perce".to_vec(),
            b"ntage\":46}\r\n".to_vec(),
            LAST_CHUNK.to_vec(),
        ];
        let upstream = Upstream::start(pieces).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        proxy.arm(Rule::on_path(
            "/backups/create/streamed",
            Fault::ResetWhen(b"\"percentage\":46".to_vec()),
        ));
        let (seen, end) = request(proxy.addr(), "/backups/create/streamed").await;
        assert_eq!(seen, [HEAD, b"11\r\n{\"percentage\":46"].concat());
        assert_eq!(end, End::Error(io::ErrorKind::ConnectionReset));
        assert!(proxy.wait_fired(1, Duration::from_secs(1)).await);
    })
    .await;
}

#[tokio::test]
async fn close_when_cuts_after_the_first_occurrence_of_the_pattern() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        proxy.arm(Rule::any(Fault::CloseWhen(b"\"percentage\":".to_vec())));
        let (seen, end) = request(proxy.addr(), "/").await;
        assert_eq!(seen, [HEAD, b"11\r\n{\"percentage\":"].concat());
        assert_eq!(end, End::Eof);
    })
    .await;
}

#[tokio::test]
async fn stall_after_keeps_the_socket_open_and_silent_until_released() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        proxy.arm(Rule::any(Fault::StallAfter(HEAD.len())));
        let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
        send(&mut stream, "/").await.unwrap();
        let mut head = vec![0; HEAD.len()];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(head, HEAD);
        assert!(proxy.wait_fired(1, Duration::from_secs(1)).await);
        // The upstream sent the rest long before this wait ends; none of it arrives, no EOF.
        let mut buf = [0; 64];
        let silent = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
        assert!(silent.is_err(), "the stalled socket said {silent:?}");
        proxy.release_stalls();
        assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_stall_ends_when_the_client_leaves() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        proxy.arm(Rule::any(Fault::StallAfter(0)));
        let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
        send(&mut stream, "/").await.unwrap();
        assert!(proxy.wait_fired(1, Duration::from_secs(1)).await);
        assert_eq!(proxy.open_connections(), 1);
        drop(stream);
        upstream.ended(1).await;
        all_closed(&proxy).await;
    })
    .await;
}

#[tokio::test]
async fn dropping_the_proxy_ends_its_connections_and_stops_accepting() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        let addr = proxy.addr();
        proxy.arm(Rule::any(Fault::StallWhen(b"0\r\n".to_vec())));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        send(&mut stream, "/").await.unwrap();
        assert!(proxy.wait_fired(1, Duration::from_secs(1)).await);
        drop(proxy);
        let (seen, end) = read_response(&mut stream).await;
        assert_eq!(end, End::Eof);
        assert!(seen.ends_with(b"0\r\n") && !seen.ends_with(LAST_CHUNK));
        assert!(TcpStream::connect(addr).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn a_spent_rule_leaves_the_next_matching_connection_clean() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        proxy.arm(Rule::on_path("/backups/create", Fault::ResetAfter(5)));
        let (seen, end) = request(proxy.addr(), "/backups/create/streamed").await;
        assert_eq!(
            (seen.as_slice(), end),
            (&b"HTTP/"[..], End::Error(io::ErrorKind::ConnectionReset))
        );
        let (seen, end) = request(proxy.addr(), "/backups/create/streamed").await;
        assert_eq!((seen, end), (whole(), End::Complete));
        assert_eq!((proxy.connections(), proxy.faults_fired()), (2, 1));
    })
    .await;
}

#[tokio::test]
async fn another_path_passes_clean_while_the_rule_waits_for_its_own() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        proxy.arm(Rule {
            matches: Match::PathPrefix("/backups/create/streamed".into()),
            fault: Fault::CloseAfter(0),
        });
        let (seen, end) = request(proxy.addr(), "/backups/streamed/progress").await;
        assert_eq!((seen, end), (whole(), End::Complete));
        assert_eq!((proxy.armed(), proxy.faults_fired()), (1, 0));
        let (seen, end) = request(proxy.addr(), "/backups/create/streamed").await;
        assert_eq!((seen, end), (Vec::new(), End::Eof));
        assert_eq!((proxy.armed(), proxy.faults_fired()), (0, 1));
    })
    .await;
}

#[tokio::test]
async fn a_rule_matches_a_later_request_of_a_kept_alive_connection() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        proxy.arm(Rule::on_path(
            "/backups/create/streamed",
            Fault::CloseAfter(HEAD.len()),
        ));
        let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
        send(&mut stream, "/backups").await.unwrap();
        assert_eq!(read_response(&mut stream).await, (whole(), End::Complete));
        // The count starts again at the second response, on the same connection.
        send(&mut stream, "/backups/create/streamed").await.unwrap();
        assert_eq!(read_response(&mut stream).await, (HEAD.to_vec(), End::Eof));
        assert_eq!(proxy.connections(), 1);
        assert_eq!(upstream.targets(), ["/backups", "/backups/create/streamed"]);
    })
    .await;
}

#[tokio::test]
async fn a_websocket_is_dropped_after_a_frame_without_a_close_frame() {
    bounded(async {
        let switching = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        // Unmasked text frames as a server sends them: the text is on the wire as it is.
        let pieces = vec![
            switching.to_vec(),
            [&[0x81, 11][..], b"progress 46"].concat(),
            [&[0x81, 12][..], b"progress 100"].concat(),
            vec![0x88, 2, 0x03, 0xe8],
        ];
        let upstream = Upstream::start(pieces).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        proxy.arm(Rule::on_path(
            "/backups/create/streamed/websocket",
            Fault::CloseWhen(b"progress 46".to_vec()),
        ));
        let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
        let upgrade = "GET /backups/create/streamed/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                       Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        stream.write_all(upgrade.as_bytes()).await.unwrap();
        let mut seen = Vec::new();
        stream.read_to_end(&mut seen).await.unwrap();
        assert_eq!(seen, [&switching[..], &[0x81, 11], b"progress 46"].concat());
    })
    .await;
}

#[tokio::test]
async fn set_upstream_sends_later_connections_to_the_new_server() {
    bounded(async {
        let first = Upstream::start(progress_response()).await;
        let second =
            Upstream::start(vec![HEAD.to_vec(), chunk("second"), LAST_CHUNK.to_vec()]).await;
        let proxy = FaultProxy::start(first.addr).await.unwrap();
        assert_eq!(request(proxy.addr(), "/a").await, (whole(), End::Complete));
        proxy.set_upstream(second.addr);
        let (seen, end) = request(proxy.addr(), "/b").await;
        assert_eq!(
            (seen, end),
            (
                [HEAD, b"6\r\nsecond\r\n", LAST_CHUNK].concat(),
                End::Complete
            )
        );
        assert_eq!(
            (first.targets(), second.targets()),
            (vec!["/a".to_owned()], vec!["/b".to_owned()])
        );
    })
    .await;
}

#[tokio::test]
async fn refusing_resets_every_connection_until_lifted() {
    bounded(async {
        let upstream = Upstream::start(progress_response()).await;
        let proxy = FaultProxy::start(upstream.addr).await.unwrap();
        proxy.refuse(true);
        let (seen, end) = request(proxy.addr(), "/").await;
        assert!(seen.is_empty());
        assert!(
            matches!(
                end,
                End::Error(io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe)
            ),
            "a refused connection ended with {end:?}"
        );
        proxy.refuse(false);
        assert_eq!(request(proxy.addr(), "/").await, (whole(), End::Complete));
        assert_eq!(proxy.connections(), 2);
        assert_eq!(upstream.targets(), ["/"]);
    })
    .await;
}

#[tokio::test]
async fn an_upstream_that_is_down_resets_the_client() {
    bounded(async {
        let gone = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = gone.local_addr().unwrap();
        drop(gone);
        let proxy = FaultProxy::start(addr).await.unwrap();
        let (seen, end) = request(proxy.addr(), "/").await;
        assert_eq!(
            (seen, end),
            (Vec::new(), End::Error(io::ErrorKind::ConnectionReset))
        );
    })
    .await;
}

#[tokio::test]
async fn the_reference_server_answers_through_the_proxy_until_the_cut() {
    bounded(async {
        let server = start_server(&[("notes.txt", b"hello")], |_| {}).await;
        let proxy = FaultProxy::start(server.local_addr()).await.unwrap();
        proxy.arm(Rule::on_path("/backups", Fault::CloseAfter(12)));
        let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
        send(&mut stream, "/backups").await.unwrap();
        let mut seen = Vec::new();
        stream.read_to_end(&mut seen).await.unwrap();
        assert_eq!(seen, b"HTTP/1.1 200");
        // The next listing gets through whole.
        let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
        let listing = "GET /backups HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        stream.write_all(listing.as_bytes()).await.unwrap();
        let mut seen = Vec::new();
        stream.read_to_end(&mut seen).await.unwrap();
        let seen = String::from_utf8_lossy(&seen);
        assert!(seen.starts_with("HTTP/1.1 200 OK\r\n"), "{seen}");
        server.shutdown().await.unwrap();
    })
    .await;
}

#[test]
fn a_blocking_proxy_cuts_a_blocking_client() {
    // A plain-thread upstream: nothing in this test runs inside a Tokio runtime.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            let mut buf = [0; 1024];
            let _ = socket.read(&mut buf);
            let _ = socket.write_all(&whole());
        }
    });
    let proxy = BlockingProxy::start(upstream).unwrap();
    assert!(proxy.base_url().starts_with("http://127.0.0.1:"));
    proxy.arm(Rule::any(Fault::ResetAfter(HEAD.len())));
    assert_eq!(proxy.armed(), 1);
    let mut stream = std::net::TcpStream::connect(proxy.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut head = vec![0; HEAD.len()];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(head, HEAD);
    let err = stream.read(&mut [0; 16]).expect_err("reset");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    assert!(proxy.wait_fired(1, Duration::from_secs(1)));
    assert_eq!((proxy.connections(), proxy.faults_fired()), (1, 1));
    // Refusing and moving the upstream work from a plain thread too.
    proxy.refuse(true);
    proxy.refuse(false);
    proxy.set_upstream(upstream);
    proxy.release_stalls();
}
