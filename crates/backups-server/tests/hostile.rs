//! Hostile clients: slow headers, endless and huge bodies, huge header counts, path traversal in
//! every encoding, arbitrary bytes. While each runs, a well-behaved SDK client keeps calling the
//! server and must keep succeeding; no file outside the store changes. (`bad_input.rs` has the
//! status and text of each single bad request; these tests are about harm.)

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backups_hyper::BackupsClient;
use common::{TestServer, request, tree_contents};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

const HEADER_TIMEOUT: Duration = Duration::from_millis(300);

async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.header_read_timeout = HEADER_TIMEOUT;
        c.max_body_bytes = 64 * 1024;
    })
    .await
}

/// A well-behaved client calling list in a loop; every call must succeed.
struct Bystander {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    task: JoinHandle<Vec<String>>,
}

impl Bystander {
    fn start(addr: SocketAddr) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let client = BackupsClient::builder()
            .base_url(format!("http://{addr}"))
            .request_timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let task = tokio::spawn({
            let (stop, ok) = (stop.clone(), ok.clone());
            async move {
                let mut failures = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match client.list().await {
                        Ok(_) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(err) => failures.push(err.to_string()),
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                failures
            }
        });
        Self { stop, ok, task }
    }

    /// Stops and checks that every call succeeded and that there were calls to check.
    async fn finish(self) -> usize {
        // At least a few calls overlap whatever the hostile client did last.
        let before = self.ok.load(Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.ok.load(Ordering::Relaxed) < before + 3 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.stop.store(true, Ordering::Relaxed);
        let failures = self.task.await.expect("bystander");
        assert!(failures.is_empty(), "the bystander failed: {failures:#?}");
        let ok = self.ok.load(Ordering::Relaxed);
        assert!(ok >= before + 3, "the bystander stalled at {ok} calls");
        ok
    }
}

/// Reads until the server closes the connection; returns what came and how long it took.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open past {limit:?}"),
        }
    }
    (seen, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_clients_are_cut_off_and_harm_no_one() {
    let t = server().await;
    let bystander = Bystander::start(t.addr);
    // Fifty clients that start a request and never finish its head, and one that sends it a
    // byte at a time, slower than the header timeout allows.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(t.addr).await.expect("connect");
        stream
            .write_all(b"GET /backups HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .expect("send");
        slow.push(stream);
    }
    let dripper = tokio::spawn({
        let addr = t.addr;
        async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            let started = Instant::now();
            for byte in b"GET /backups HTTP/1.1\r\nHost: x\r\n\r\n" {
                if stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            let (seen, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
            (seen, started.elapsed())
        }
    });
    for stream in &mut slow {
        let (seen, elapsed) = read_until_closed(stream, Duration::from_secs(5)).await;
        // Cut off after the header timeout, without a request being served.
        assert!(!seen.starts_with(b"HTTP/1.1 200"), "{seen:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    }
    let (seen, elapsed) = dripper.await.expect("dripper");
    assert!(!seen.starts_with(b"HTTP/1.1 200"), "{seen:?}");
    // 36 bytes at 30 ms would take over a second: the server closed before.
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
    bystander.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_refused_without_reading_them() {
    let t = server().await;
    let bystander = Bystander::start(t.addr);
    // A declared 10 GiB body on every route that takes one: refused from the head alone.
    for path in [
        "/backups/create",
        "/backups/create/streamed",
        "/backups/x/delete",
    ] {
        let mut stream = TcpStream::connect(t.addr).await.expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            10u64 << 30
        );
        stream.write_all(head.as_bytes()).await.expect("send");
        let mut answer = vec![0u8; 12];
        tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut answer))
            .await
            .expect("answered at once")
            .expect("read");
        assert_eq!(&answer, b"HTTP/1.1 413", "{path}");
    }
    // An endless chunked body: the server stops reading soon after the limit.
    let mut stream = TcpStream::connect(t.addr).await.expect("connect");
    stream
        .write_all(
            b"POST /backups/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await
        .expect("send");
    let chunk = [
        format!("{:x}\r\n", 16 * 1024).into_bytes(),
        vec![b' '; 16 * 1024],
        b"\r\n".to_vec(),
    ]
    .concat();
    let mut written = 0usize;
    let started = Instant::now();
    while written < 512 * 1024 * 1024 {
        match tokio::time::timeout(Duration::from_secs(2), stream.write_all(&chunk)).await {
            Ok(Ok(())) => written += chunk.len(),
            // Refused (reset) or no longer read (the write blocks): either way, it stopped.
            Ok(Err(_)) | Err(_) => break,
        }
    }
    eprintln!("an endless body: the server stopped reading after {written} bytes");
    assert!(
        written < 64 * 1024 * 1024,
        "the server read {written} bytes of an endless body"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(t.ids().await.is_empty(), "no backup from a refused request");
    bystander.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_header_counts_and_sizes_are_refused() {
    let t = server().await;
    let bystander = Bystander::start(t.addr);
    let many = |count: usize| {
        let mut raw = String::from("GET /backups HTTP/1.1\r\nHost: x\r\n");
        for i in 0..count {
            raw.push_str(&format!("X-H-{i}: {i}\r\n"));
        }
        raw + "\r\n"
    };
    let huge_value = format!(
        "GET /backups HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "v".repeat(1024 * 1024)
    );
    let huge_path = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    for raw in [many(65), many(1000), many(20_000), huge_value, huge_path] {
        let mut stream = TcpStream::connect(t.addr).await.expect("connect");
        // The server may close before the whole head is written.
        let _ = stream.write_all(raw.as_bytes()).await;
        let (seen, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        let status = String::from_utf8_lossy(&seen[..seen.len().min(12)]).into_owned();
        // Refused with a 4xx, or the connection dropped: never served.
        assert!(
            seen.is_empty() || status.starts_with("HTTP/1.1 4"),
            "{status}"
        );
    }
    bystander.finish().await;
}

/// Every spelling of `..`, `/` and `\` a decoder might accept, in the delete id and around the
/// other routes: each is refused (4xx), and neither the store, the data directory nor a sentinel
/// directory next to them changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_in_every_encoding_touches_nothing() {
    let t = server().await;
    let backup = t.create().await;
    let id = backup["id"].as_str().expect("id").to_owned();
    let bystander = Bystander::start(t.addr);

    // A sentinel directory beside the store, holding what an escape would aim at.
    let sentinel = tempfile::tempdir().expect("sentinel");
    std::fs::create_dir_all(sentinel.path().join("backups")).expect("mkdir");
    std::fs::write(
        sentinel.path().join("backups").join(format!("{id}.json")),
        "{}",
    )
    .expect("w");
    std::fs::write(sentinel.path().join("victim.txt"), "keep me").expect("w");
    let snapshot = |dir: &Path| tree_contents(dir);
    let before = (
        snapshot(sentinel.path()),
        snapshot(t.dirs.store()),
        snapshot(t.dirs.data()),
    );

    let dots = [
        "..",
        "%2e%2e",
        "%2E%2E",
        "%2e%2E",
        ".%2e",
        "%2e.",
        "%252e%252e",
        "%25252e%25252e",
        "%c0%ae%c0%ae",
        "%e0%80%ae%e0%80%ae",
        "%f0%80%80%ae%f0%80%80%ae",
        "%ef%bc%8e%ef%bc%8e",
        "%u002e%u002e",
        "....",
        ".%00.",
        "..%00",
    ];
    let slashes = [
        "/",
        "%2f",
        "%2F",
        "%252f",
        "%5c",
        "%5C",
        "%255c",
        "\\",
        "%c0%af",
        "%e0%80%af",
        "%c1%9c",
        "%ef%bc%8f",
        "%00/",
    ];
    let sentinel_abs = sentinel.path().display().to_string();
    let mut targets = Vec::new();
    for dot in dots {
        for slash in slashes {
            let up = format!("{dot}{slash}").repeat(8);
            for tail in [
                format!("{sentinel_abs}{slash}victim.txt").replace('/', slash),
                format!("{dot}{slash}backups{slash}{id}"),
                "etc/passwd".replace('/', slash),
            ] {
                targets.push(format!("/backups/{up}{tail}/delete"));
            }
            targets.push(format!("/backups/{dot}/delete"));
            targets.push(format!("/backups/{id}{slash}{dot}/delete"));
            targets.push(format!("/backups/{dot}{slash}{id}/delete"));
            targets.push(format!("/backups/create{slash}{dot}{slash}create"));
            targets.push(format!("/backups{slash}{dot}{slash}backups"));
        }
    }
    targets.push(format!("http://x/backups/{id}/../../delete"));
    targets.push(format!("/backups/{id}/delete/../../{id}/delete"));
    targets.push(format!("/backups/{id}%2Fdelete"));
    targets.push(format!("/backups/{id}/delete%3F"));
    targets.push(format!("/backups/{id}/delete;/.."));

    let mut refused = 0;
    for target in &targets {
        for method in ["POST", "GET"] {
            let reply = request(t.addr, method, target, &[], b"").await;
            assert!(
                (400..500).contains(&reply.status),
                "{method} {target}: {} {}",
                reply.status,
                reply.text()
            );
            refused += 1;
        }
    }
    let after = (
        snapshot(sentinel.path()),
        snapshot(t.dirs.store()),
        snapshot(t.dirs.data()),
    );
    assert!(before == after, "a file changed");
    assert_eq!(t.ids().await, [id], "the real backup is untouched");
    eprintln!("{refused} traversal requests refused");
    assert!(refused > 1000);
    bystander.finish().await;
}

fn arbitrary_request() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        Just("GET".to_owned()),
        Just("POST".to_owned()),
        Just("HEAD".to_owned()),
        Just("DELETE".to_owned()),
        "[A-Z]{1,8}",
    ];
    let path = prop_oneof![
        Just("/backups".to_owned()),
        Just("/backups/create".to_owned()),
        Just("/backups/create/streamed".to_owned()),
        Just("/.well-known/health".to_owned()),
        "/backups/[%./a-zA-Z0-9\\\\_-]{0,40}/delete",
        "/[ -~]{0,60}",
    ];
    let header = prop_oneof![
        Just("Content-Length: 5".to_owned()),
        Just("Content-Length: -1".to_owned()),
        Just("Content-Length: 99999999999999999999".to_owned()),
        Just("Transfer-Encoding: chunked".to_owned()),
        Just("Accept: application/x-ndjson".to_owned()),
        Just("Expect: 100-continue".to_owned()),
        "[!-~]{1,20}: [ -~]{0,40}",
    ];
    let structured = (
        method,
        path,
        proptest::collection::vec(header, 0..6),
        proptest::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(method, path, headers, body)| {
            let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n");
            for header in headers {
                raw.push_str(&header);
                raw.push_str("\r\n");
            }
            raw.push_str("\r\n");
            let mut raw = raw.into_bytes();
            raw.extend_from_slice(&body);
            raw
        });
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..400),
        3 => structured,
    ]
}

/// The proptest twin of the `server_request` fuzz target, run in CI: arbitrary and
/// half-structured request bytes never take the server down, never make it answer 5xx, and
/// never touch a file outside the store.
#[test]
fn arbitrary_request_bytes_never_harm_the_server() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let t = runtime.block_on(server());
    let data_before = tree_contents(t.dirs.data());
    let cases: u32 = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let addr = t.addr;
    runner
        .run(&arbitrary_request(), |raw| {
            let seen = runtime.block_on(async {
                let mut stream = TcpStream::connect(addr).await.expect("connect");
                let _ = stream.write_all(&raw).await;
                let _ = stream.shutdown().await;
                let mut seen = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut seen))
                    .await;
                seen
            });
            let status = String::from_utf8_lossy(&seen[..seen.len().min(12)]).into_owned();
            prop_assert!(
                !status.starts_with("HTTP/1.1 5") && !status.starts_with("HTTP/1.0 5"),
                "{status}"
            );
            let health = runtime.block_on(request(addr, "GET", "/.well-known/health", &[], b""));
            prop_assert_eq!(health.status, 200);
            Ok(())
        })
        .expect("no request harms the server");
    assert_eq!(tree_contents(t.dirs.data()), data_before);
    let report = backups_server::verify_store(t.dirs.store()).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    eprintln!(
        "{cases} arbitrary requests, {} backups made by valid ones",
        report.backups
    );
}

/// A client may close its sending side once its request is out (as `nc -N`, or a fuzzer, do):
/// it still gets its answer, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_still_gets_its_answer() {
    let t = server().await;
    let mut empty = 0;
    for _ in 0..300 {
        let mut stream = TcpStream::connect(t.addr).await.expect("connect");
        stream
            .write_all(b"GET /.well-known/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("send");
        stream.shutdown().await.expect("half-close");
        let (seen, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        if !seen.starts_with(b"HTTP/1.1 200") {
            empty += 1;
        }
    }
    assert_eq!(empty, 0, "answers lost out of 300");
}
