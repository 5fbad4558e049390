//! The whole recorded suite through `backups_reqwest::ReqwestTransport` over real HTTP and real
//! WebSockets (`check_transport`), as `tests/live.rs` runs it through the hyper transport.

use std::time::Duration;

use backups_conformance::check_transport;
use backups_reqwest::ReqwestTransport;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reqwest_transport_passes_every_recorded_case() {
    // As an application would build it; no proxy from the environment, which would send the
    // loopback calls elsewhere.
    let client = backups_reqwest::reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client");
    // A short idle timeout: the stall cases wait for it.
    let transport = ReqwestTransport::new(client).with_idle_timeout(Duration::from_secs(1));
    let report = check_transport(transport).await;
    let mut renamed = report.clone();
    for result in &mut renamed.results {
        result.suite = "transport-reqwest".into();
    }
    renamed
        .write_results("transport-reqwest")
        .expect("results file");
    println!("{}", report.table());
    report.assert_passed();
    assert!(
        report.results.len() > 100,
        "only {} cases ran",
        report.results.len()
    );
}
