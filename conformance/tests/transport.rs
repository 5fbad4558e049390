//! `check_transport` against a transport that is not hyper (the `std::net` one of the example),
//! and proof that it catches a transport that gets the wire wrong.

use bytes::Bytes;
use http::Request;

use std::time::Duration;

use backups_conformance::{
    Case, check_http_transport_within, check_transport, check_transport_with,
};
use backups_proto::{Error, Handshake, SocketTransport, Transport};

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/std_net_transport.rs"]
mod example;

use example::StdNetTransport;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_std_net_transport_passes_every_case() {
    // A short idle timeout: the stall cases wait for it.
    let report = check_transport(StdNetTransport::with_timeout(Duration::from_secs(1))).await;
    report.write_results("transport").expect("results file");
    println!("{}", report.table());
    report.assert_passed();
    assert!(report.results.len() >= 50);
}

/// A transport that drops the Accept header on the way out.
struct DropsAccept(StdNetTransport);

impl Transport for DropsAccept {
    type Body = example::StdNetBody;

    async fn send(
        &self,
        mut request: Request<Bytes>,
    ) -> Result<http::Response<example::StdNetBody>, Error> {
        request.headers_mut().remove("accept");
        self.0.send(request).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transport_that_drops_a_header_fails() {
    let cases = vec![
        Case::load(format!("{}/list_success.har", backups_conformance::BUILTIN_DIR).as_ref())
            .unwrap(),
    ];
    let report = check_http_transport_within(
        DropsAccept(StdNetTransport::default()),
        &cases,
        backups_conformance::CASE_TIMEOUT,
    )
    .await;
    assert!(!report.passed());
    let detail = &report.results[0].detail;
    assert!(
        detail.contains(r#"header accept: expected "application/json", missing"#),
        "{detail}"
    );
}

/// A transport that never answers.
struct Hangs;

impl Transport for Hangs {
    type Body = example::StdNetBody;

    async fn send(&self, _: Request<Bytes>) -> Result<http::Response<example::StdNetBody>, Error> {
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transport_that_hangs_fails_each_case_and_the_suite_goes_on() {
    let case = |name: &str| {
        Case::load(format!("{}/{name}.har", backups_conformance::BUILTIN_DIR).as_ref()).unwrap()
    };
    let cases = vec![case("list_success"), case("delete_success")];
    let report = check_http_transport_within(Hangs, &cases, Duration::from_millis(200)).await;
    assert_eq!(report.results.len(), 2, "every case is reported");
    for result in &report.results {
        assert!(!result.passed, "{}", result.case);
        assert!(
            result.detail.contains("exchange 0: no outcome after 200ms"),
            "{}",
            result.detail
        );
    }
}

/// A socket transport that never sends the client's first message.
struct ForgetsFirst(StdNetTransport);

impl Transport for ForgetsFirst {
    type Body = example::StdNetBody;

    async fn send(&self, request: Request<Bytes>) -> Result<http::Response<Self::Body>, Error> {
        self.0.send(request).await
    }
}

impl SocketTransport for ForgetsFirst {
    type Socket = example::StdNetSocket;

    async fn connect(
        &self,
        request: Request<Bytes>,
        _first: Option<String>,
    ) -> Result<Handshake<Self::Socket>, Error> {
        self.0.connect(request, None).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_transport_that_forgets_the_first_message_fails() {
    let case = |name: &str| {
        Case::load(format!("{}/{name}.har", backups_conformance::BUILTIN_DIR).as_ref()).unwrap()
    };
    // The server that waits for the input never starts: the client times out; the server that
    // starts at once finishes, and still notices the missing message.
    let cases = vec![
        case("create_over_websocket_waits_for_input"),
        case("restore_over_websocket_starts_at_once"),
    ];
    let transport = ForgetsFirst(StdNetTransport::with_timeout(Duration::from_millis(500)));
    let report = check_transport_with(transport, &cases).await;
    assert_eq!(report.results.len(), 2);
    for result in &report.results {
        assert!(!result.passed, "{}", result.case);
        assert!(
            result
                .detail
                .contains("expected the client to send JSON text {}, it sent nothing"),
            "{}: {}",
            result.case,
            result.detail
        );
    }
}
