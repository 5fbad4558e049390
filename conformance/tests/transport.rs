//! `check_transport` against a transport that is not hyper (the `std::net` one of the example),
//! and proof that it catches a transport that gets the wire wrong.

use bytes::Bytes;
use http::Request;

use std::time::Duration;

use backups_conformance::{Case, check_transport, check_transport_with, check_transport_within};
use backups_proto::{Error, Transport};

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/std_net_transport.rs"]
mod example;

use example::StdNetTransport;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_std_net_transport_passes_every_case() {
    let report = check_transport(StdNetTransport::default()).await;
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
    let report = check_transport_with(DropsAccept(StdNetTransport::default()), &cases).await;
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
    let report = check_transport_within(Hangs, &cases, Duration::from_millis(200)).await;
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
