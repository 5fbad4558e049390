//! The whole recorded suite through `backups_blocking::UreqTransport` (ureq and tungstenite) over
//! real HTTP and real WebSockets (`check_transport`), as `tests/live.rs` runs it through the hyper
//! transport.
//!
//! No Tokio here: the suite's future is waited on by the calling thread (`pollster`), as the
//! blocking client waits on its calls; the transport does its IO as it is polled.

use std::time::Duration;

use backups_blocking::{Timeouts, UreqTransport};
use backups_conformance::check_transport;

#[test]
fn the_blocking_transport_passes_every_recorded_case() {
    // A short idle timeout: the stall cases wait for it.
    let transport = UreqTransport::new(Timeouts::default().with_idle(Duration::from_secs(1)));
    let report = pollster::block_on(check_transport(transport));
    let mut renamed = report.clone();
    for result in &mut renamed.results {
        result.suite = "transport-blocking".into();
    }
    renamed
        .write_results("transport-blocking")
        .expect("results file");
    println!("{}", report.table());
    report.assert_passed();
    assert!(
        report.results.len() > 100,
        "only {} cases ran",
        report.results.len()
    );
    assert!(
        report.results.iter().any(|r| r.case.contains("websocket")),
        "no WebSocket case ran"
    );
}
