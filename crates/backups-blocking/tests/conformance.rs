//! The conformance suite's transport check over the blocking client's transport: every recorded
//! case, HTTP and WebSocket, through the runtime thread and its channels.
//!
//! No Tokio in the test: the suite's future is waited on with a parked thread, as the blocking
//! client waits on its calls.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use backups_blocking::Client;

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

#[test]
fn the_blocking_clients_transport_passes_every_recorded_case() {
    // A short idle timeout: the stall cases wait for it.
    let client = Client::builder()
        .idle_timeout(Duration::from_secs(1))
        .build()
        .expect("a client");
    let report = block_on(backups_conformance::check_transport(
        client.transport().clone(),
    ));
    println!("{}", report.table());
    report.assert_passed();
    // HTTP and WebSocket cases alike.
    assert!(
        report.results.len() >= 50,
        "only {} cases",
        report.results.len()
    );
    assert!(
        report.results.iter().any(|r| r.case.contains("websocket")),
        "no WebSocket case ran"
    );
}
