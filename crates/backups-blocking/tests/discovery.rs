//! Blocking discovery against in-test servers: the port file, the parallel probe, the legacy
//! ports, the report of where it looked when nothing answers, and calls from every kind of
//! thread (no runtime needed, none refused).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backups_blocking::discovery::{self, Discovery, Place, Step, Verdict};
use backups_testkit::BlockingServer;

/// A peer that answers every request with `status` and `body` after `delay`, and records the
/// request lines it read. Connections that send nothing (a probe's connect) are closed.
struct Canned {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Canned {
    fn start(status: &'static str, body: &'static str, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        // The thread ends with the test process; it only ever holds its listener.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || answer(stream, status, body, delay, &seen));
            }
        });
        Self { port, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

/// Reads a request head, then answers it.
fn answer(
    mut stream: TcpStream,
    status: &str,
    body: &str,
    delay: Duration,
    seen: &Mutex<Vec<String>>,
) {
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or_default().to_owned();
    seen.lock().expect("requests").push(line);
    std::thread::sleep(delay);
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
}

fn healthy() -> Canned {
    Canned::start("200 OK", "ok:11.0.0", Duration::ZERO)
}

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// A port file holding `content`, in a fresh directory under the temporary directory.
fn port_file(content: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "backups-blocking-discovery-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(".port.txt");
    std::fs::write(&path, content).expect("write port file");
    path
}

/// Discovery that looks only where the test says.
fn nowhere() -> Discovery {
    Discovery::new()
        .port_files(Vec::<PathBuf>::new())
        .probe_ports([])
        .legacy_ports([])
}

fn verdict_at(findings: &[discovery::Finding], port: u16) -> Option<Verdict> {
    findings
        .iter()
        .find(|f| f.place == Place::Port(port))
        .map(|f| f.verdict.clone())
}

#[test]
fn a_healthy_port_file_wins_over_the_scan() {
    let server = BlockingServer::start(&[], |_| {});
    let port = server.local_addr().port();
    let file = port_file(&format!("{port}\n"));
    let also_healthy = healthy();

    let located = discovery::locate(&nowhere().port_file(&file).probe_ports([also_healthy.port]))
        .expect("found");
    assert_eq!(located.step, Step::PortFile);
    assert_eq!(located.port, port);
    assert_eq!(located.base_url.to_string(), server.base_url());
    assert_eq!(located.findings[0].verdict, Verdict::HoldsPort(port));
    assert_eq!(located.findings.len(), 2, "{:?}", located.findings);
    // The scan never ran.
    assert!(also_healthy.requests().is_empty());
}

/// All ports are probed at once; the first healthy one in the list wins.
#[test]
fn the_probe_takes_the_first_healthy_port_of_the_list() {
    let first = healthy();
    let second = healthy();
    let not_found = Canned::start("404 Not Found", "no such route", Duration::ZERO);
    let not_ok = Canned::start("200 OK", "nope", Duration::ZERO);
    let ports = [
        free_port(),
        not_found.port,
        not_ok.port,
        first.port,
        second.port,
    ];

    let located = discovery::locate(&nowhere().probe_ports(ports)).expect("found");
    assert_eq!(located.step, Step::Probe);
    assert_eq!(located.port, first.port);
    let verdict = |port| verdict_at(&located.findings, port);
    assert_eq!(verdict(ports[0]), Some(Verdict::NotListening));
    assert!(matches!(verdict(ports[1]), Some(Verdict::Unhealthy(why)) if why.contains("404")));
    assert!(matches!(verdict(ports[2]), Some(Verdict::Unhealthy(why)) if why.contains("nope")));
    assert_eq!(verdict(first.port), Some(Verdict::Healthy));
    assert_eq!(verdict(second.port), Some(Verdict::Healthy));
    assert_eq!(first.requests(), ["GET /.well-known/health HTTP/1.1"]);
}

#[test]
fn a_stale_port_file_falls_through_to_the_probe_then_the_legacy_ports() {
    let server = healthy();
    let stale = free_port();
    let file = port_file(&stale.to_string());

    let discovery = nowhere()
        .port_file(&file)
        .probe_ports([free_port()])
        .legacy_ports([free_port(), server.port]);
    let located = discovery::locate(&discovery).expect("found");
    assert_eq!(located.step, Step::Legacy);
    assert_eq!(located.port, server.port);
    assert_eq!(located.findings[0].verdict, Verdict::HoldsPort(stale));
    assert_eq!(located.findings[1].place, Place::Port(stale));
    assert_eq!(located.findings[1].verdict, Verdict::NotListening);
}

#[test]
fn nothing_found_lists_every_place_and_what_was_there() {
    let unhealthy = Canned::start("503 Service Unavailable", "starting", Duration::ZERO);
    let slow = Canned::start("200 OK", "ok", Duration::from_secs(5));
    let garbage = port_file("not a port");
    let missing = garbage.with_file_name("missing.txt");
    let silent = free_port();

    let discovery = nowhere()
        .port_files([garbage.clone(), missing.clone()])
        .probe_ports([silent, unhealthy.port, slow.port])
        .legacy_ports([free_port()])
        .health_timeout(Duration::from_millis(100));
    let started = Instant::now();
    let not_found = discovery::locate(&discovery).expect_err("nothing there");
    // The slow answer is cut at the health timeout, not waited for.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    assert_eq!(not_found.host, "127.0.0.1");
    assert_eq!(not_found.findings.len(), 6);
    let text = not_found.to_string();
    for expected in [
        format!(
            "port file {}: does not hold a port number (\"not a port\")",
            garbage.display()
        ),
        format!("port file {}: no such file", missing.display()),
        format!("port {silent}: nothing listening"),
        format!(
            "port {}: answered, but not as a healthy Pieces OS",
            unhealthy.port
        ),
        "503".to_owned(),
        format!(
            "port {}: answered, but not as a healthy Pieces OS (no answer to GET /.well-known/health within 100 ms)",
            slow.port
        ),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in {text}");
    }
    // With `?` in a function returning the SDK's error, it is a connect failure.
    assert!(backups_blocking::Error::from(not_found).is_connect());
}

/// A scan of many slow ports takes about one health timeout, not one per port.
#[test]
fn the_ports_of_a_step_are_probed_at_once() {
    let slow: Vec<Canned> = (0..16)
        .map(|_| Canned::start("200 OK", "ok", Duration::from_secs(5)))
        .collect();
    let discovery = nowhere()
        .probe_ports(slow.iter().map(|server| server.port))
        .health_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let not_found = discovery::locate(&discovery).expect_err("all too slow");
    let elapsed = started.elapsed();
    assert_eq!(not_found.findings.len(), 16);
    // One after the other would take 16 x 300 ms = 4.8 s.
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

/// `locate` neither needs a runtime nor refuses one: it works on a runtime's worker, inside
/// `block_on`, and from `spawn_blocking`, where blocking calls from async code belong.
#[test]
fn locate_works_from_spawn_blocking_and_inside_a_runtime() {
    let server = healthy();
    let discovery = nowhere().probe_ports([server.port]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");

    let on_blocking = discovery.clone();
    let located = runtime
        .block_on(async move {
            tokio::task::spawn_blocking(move || discovery::locate(&on_blocking)).await
        })
        .expect("no panic")
        .expect("found from spawn_blocking");
    assert_eq!(located.port, server.port);

    let on_worker = discovery.clone();
    let located = runtime
        .block_on(runtime.spawn(async move { discovery::locate(&on_worker) }))
        .expect("no panic")
        .expect("found on a worker");
    assert_eq!(located.port, server.port);

    let located = runtime
        .block_on(async { discovery::locate(&discovery) })
        .expect("found inside block_on");
    assert_eq!(located.port, server.port);
}

/// The `Locate` a blocking client follows with finds Pieces OS where discovery does.
#[test]
fn discovery_is_a_locate() {
    let server = healthy();
    let discovery = nowhere().probe_ports([free_port(), server.port]);
    let found = pollster::block_on(backups_proto::Locate::locate(&discovery));
    assert_eq!(
        found.map(|url| url.to_string()),
        Some(format!("http://127.0.0.1:{}", server.port))
    );
    let nothing = nowhere().probe_ports([free_port()]);
    assert!(pollster::block_on(backups_proto::Locate::locate(&nothing)).is_none());
}

#[test]
fn an_unknown_host_is_a_finding_not_a_panic() {
    let not_found = discovery::locate(
        &nowhere()
            .host("no-such-host.invalid")
            .probe_ports([39300, 39301])
            .connect_timeout(Duration::from_millis(500)),
    )
    .expect_err("no such host");
    assert_eq!(not_found.findings.len(), 2);
    for finding in &not_found.findings {
        assert!(
            matches!(
                finding.verdict,
                Verdict::ConnectFailed(_) | Verdict::ConnectTimeout
            ),
            "{finding}"
        );
    }
}

/// The builder's discovery makes a client for what it finds, which keeps the discovery to find
/// Pieces OS again; finding nothing is `DiscoveryError::NotFound` with the findings.
#[test]
fn the_builder_discovers_a_client_and_keeps_its_discovery() {
    let server = BlockingServer::start(&[("notes.txt", b"hello")], |_| {});
    let port = server.local_addr().port();
    let file = port_file(&format!("{port}\n"));
    let client = backups_blocking::Client::builder()
        .application_id("discovery-test")
        .discover_with(nowhere().port_file(&file))
        .expect("found");
    assert_eq!(client.endpoint().base_url().to_string(), server.base_url());
    assert_eq!(
        client.endpoint().headers()["x-application-id"],
        "discovery-test"
    );
    assert!(client.inner().locator().is_some(), "no locator kept");
    let made = client.create().expect("create");
    assert!(client.list().expect("list").iter().any(|b| b.id == made.id));

    let err = backups_blocking::Client::builder()
        .discover_with(nowhere().probe_ports([free_port()]))
        .expect_err("nothing there");
    let backups_blocking::DiscoveryError::NotFound(not_found) = &err else {
        panic!("not NotFound: {err}");
    };
    assert!(!not_found.findings.is_empty());
    assert_eq!(err.findings().len(), not_found.findings.len());
}
