//! Discovery against in-test servers: the port file, the parallel probe, the legacy ports, and
//! the report of where it looked when nothing answers.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use backups_hyper::discovery::Discovery;
use backups_hyper::discovery::{Place, Step, Verdict};
use backups_hyper::{BackupsClient, DiscoveryError, Error};
use common::{Reply, TestServer, free_port};

/// A Pieces OS stand-in: healthy, with an empty list of backups.
async fn pieces_os() -> TestServer {
    TestServer::start(|request| match request.path.as_str() {
        "/.well-known/health" => Reply::text(200, "ok:11.0.0"),
        _ => Reply::json(200, r#"{"iterable":[]}"#),
    })
    .await
}

/// A port file holding `content`, in a fresh directory under the temporary directory.
fn port_file(content: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "backups-hyper-discovery-{}-{}",
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

fn port(server: &TestServer) -> u16 {
    server.addr.port()
}

#[tokio::test]
async fn the_port_file_is_read_first_and_checked() {
    let server = pieces_os().await;
    let file = port_file(&format!("{}\n", port(&server)));

    let located = nowhere().port_file(&file).locate().await.expect("found");
    assert_eq!(located.step, Step::PortFile);
    assert_eq!(located.port, port(&server));
    assert_eq!(
        located.base_url.to_string(),
        format!("http://127.0.0.1:{}", port(&server))
    );

    let health = &server.requests()[0];
    assert_eq!(health.method, http::Method::GET);
    assert_eq!(health.path, "/.well-known/health");

    // A client for what it found talks to that server.
    let client = BackupsClient::builder()
        .base_url(located.base_url)
        .build()
        .expect("client");
    assert!(client.list().await.expect("list").is_empty());
    assert_eq!(
        server.requests().last().map(|r| r.path.clone()),
        Some("/backups".into())
    );
}

/// All ports are probed at once; the first healthy one in the list wins (the default list is
/// ascending, so that is the lowest port, the one Pieces OS takes first).
#[tokio::test]
async fn the_probe_takes_the_first_healthy_port_of_the_list() {
    let healthy = pieces_os().await;
    let also_healthy = pieces_os().await;
    let not_found = TestServer::start(|_| Reply::text(404, "no such route")).await;
    let not_ok = TestServer::start(|_| Reply::text(200, "nope")).await;
    let ports = [
        free_port(),
        port(&not_found),
        port(&not_ok),
        port(&healthy),
        port(&also_healthy),
    ];

    let located = nowhere().probe_ports(ports).locate().await.expect("found");
    assert_eq!(located.step, Step::Probe);
    assert_eq!(located.port, port(&healthy));
    let verdict = |p: u16| {
        located
            .findings
            .iter()
            .find(|f| f.place == Place::Port(p))
            .map(|f| f.verdict.clone())
    };
    assert_eq!(verdict(ports[0]), Some(Verdict::NotListening));
    assert!(matches!(verdict(ports[1]), Some(Verdict::Unhealthy(why)) if why.contains("404")));
    assert!(matches!(verdict(ports[2]), Some(Verdict::Unhealthy(why)) if why.contains("nope")));
    assert_eq!(verdict(port(&healthy)), Some(Verdict::Healthy));
    assert_eq!(verdict(port(&also_healthy)), Some(Verdict::Healthy));
}

#[tokio::test]
async fn a_stale_port_file_falls_through_to_the_probe_then_the_legacy_ports() {
    let server = pieces_os().await;
    let stale = free_port();
    let file = port_file(&stale.to_string());

    let located = nowhere()
        .port_file(&file)
        .probe_ports([free_port()])
        .legacy_ports([free_port(), port(&server)])
        .locate()
        .await
        .expect("found");
    assert_eq!(located.step, Step::Legacy);
    assert_eq!(located.port, port(&server));
    assert_eq!(located.findings[0].verdict, Verdict::HoldsPort(stale));
    assert_eq!(located.findings[1].place, Place::Port(stale));
    assert_eq!(located.findings[1].verdict, Verdict::NotListening);
}

#[tokio::test]
async fn nothing_found_lists_every_place_and_what_was_there() {
    let unhealthy = TestServer::start(|_| Reply::text(503, "starting")).await;
    let slow =
        TestServer::start(|_| Reply::text(200, "ok").head_delay(Duration::from_secs(5))).await;
    let garbage = port_file("not a port");
    let missing = garbage.with_file_name("missing.txt");
    let silent = free_port();

    let not_found = nowhere()
        .port_files([garbage.clone(), missing.clone()])
        .probe_ports([silent, port(&unhealthy), port(&slow)])
        .legacy_ports([free_port()])
        .health_timeout(Duration::from_millis(100))
        .locate()
        .await
        .expect_err("nothing there");

    assert_eq!(not_found.host, "127.0.0.1");
    assert_eq!(not_found.findings.len(), 6);
    // The entry points' error says the same and keeps the findings.
    let error = DiscoveryError::from(not_found.clone());
    assert_eq!(error.to_string(), not_found.to_string());
    assert_eq!(error.findings(), not_found.findings.as_slice());
    let text = error.to_string();
    for expected in [
        format!(
            "port file {}: does not hold a port number (\"not a port\")",
            garbage.display()
        ),
        format!("port file {}: no such file", missing.display()),
        format!("port {silent}: nothing listening"),
        format!(
            "port {}: answered, but not as a healthy Pieces OS",
            port(&unhealthy)
        ),
        "503".to_owned(),
        format!(
            "port {}: answered, but not as a healthy Pieces OS (no answer to GET /.well-known/health within 100 ms)",
            port(&slow)
        ),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in {text}");
    }

    // With `?` in a function returning the SDK's error, it is a connect failure.
    let error = Error::from(error);
    assert!(error.is_connect(), "{error:?}");
}

/// What `ClientBuilder::discover` does with the default discovery, here pointed at a test server.
#[tokio::test]
async fn the_client_builder_settings_are_kept() {
    let server = pieces_os().await;
    let located = nowhere()
        .probe_ports([port(&server)])
        .locate()
        .await
        .expect("found");
    let client = BackupsClient::builder()
        .application_id("discovering-app")
        .max_body(4096)
        .base_url(located.base_url)
        .build()
        .expect("client");
    assert_eq!(client.limits().max_body, 4096);
    client.list().await.expect("list");
    let list = server.requests().pop().expect("a request");
    assert_eq!(list.headers["x-application-id"], "discovering-app");
}

#[test]
fn the_default_port_file_is_under_the_platform_directory() {
    let path = Discovery::port_file_under(std::path::Path::new("/home/me"));
    let expected = if cfg!(target_os = "macos") {
        "/home/me/Library/com.pieces.os/production/Config/.port.txt"
    } else {
        "/home/me/Documents/com.pieces.os/production/Config/.port.txt"
    };
    assert_eq!(path, PathBuf::from(expected));
}
