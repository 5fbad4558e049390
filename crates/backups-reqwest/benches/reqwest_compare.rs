//! `ReqwestTransport` beside the code it replaces, for `cargo xtask bench`.
//!
//! - `reqwest-transport-list-round-trip`: median latency of one `list` through
//!   `backups_proto::Client` over `ReqwestTransport`, against a bare `reqwest::Client` sending
//!   the same request (same headers), taking `.bytes()` and parsing them with
//!   `serde_json::from_slice` into the same `Backups` model: what an application holding a
//!   reqwest client would write without the SDK. Both clients are built alike (no proxy,
//!   `TCP_NODELAY`), each with its own pool, and talk to the same local hyper server (its own
//!   thread and runtime) answering a canned listing of 10 backups. Batches of each side
//!   alternate, so both see the same drift of the machine's speed.
//!
//! Prints one JSON object per comparison on stdout (`xtask/bench-support/emit.rs`).

use std::time::Instant;

use backups_models::Backups;
use backups_proto::{Client, Endpoint};
use backups_reqwest::ReqwestTransport;
use http::header::{ACCEPT, USER_AGENT};

#[path = "../../../xtask/bench-support/emit.rs"]
mod emit;
use emit::{Options, emit};
#[path = "../../../xtask/bench-support/canned.rs"]
mod canned;
use canned::{listing, start_server};

const ROUND_TRIP: &str = "reqwest-transport-list-round-trip";

fn main() {
    let options = Options::from_env();
    if !options.wants(ROUND_TRIP) {
        return;
    }
    let addr = start_server(listing(10));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let base = format!("http://{addr}");
    let ours = Client::new(
        ReqwestTransport::new(reqwest_client()),
        Endpoint::new(base.parse().expect("base URL")),
    );
    let bare = Bare::new(&base);
    runtime.block_on(round_trip(&ours, &bare, options.quick));
}

/// A client as an application builds one for a local service: a proxy from the environment
/// would measure the proxy.
fn reqwest_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .expect("reqwest client")
}

/// reqwest as its users write a JSON GET: a shared client, the SDK's request headers,
/// `.bytes()` and `serde_json::from_slice` into the same model.
struct Bare {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl Bare {
    fn new(base: &str) -> Self {
        let url = format!("{base}/backups").parse().expect("url");
        Self {
            client: reqwest_client(),
            url,
        }
    }

    async fn list(&self) -> Backups {
        let response = self
            .client
            .get(self.url.clone())
            .header(USER_AGENT, backups_proto::DEFAULT_USER_AGENT)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .expect("send");
        assert!(response.status().is_success());
        let body = response.bytes().await.expect("body");
        serde_json::from_slice(&body).expect("parse")
    }
}

async fn round_trip(ours: &Client<ReqwestTransport>, bare: &Bare, quick: bool) {
    let (rounds, batch) = if quick { (60, 10) } else { (600, 10) };
    // Warm-up: connections open, caches hot.
    for _ in 0..200 {
        ours.list().await.expect("list");
        bare.list().await;
    }
    let mut ours_us = Vec::new();
    let mut bare_us = Vec::new();
    for round in 0..rounds {
        // The side going first alternates, round by round.
        for sdk in [round % 2 == 0, round % 2 != 0] {
            for _ in 0..batch {
                let start = Instant::now();
                let n = if sdk {
                    ours.list().await.expect("list").len()
                } else {
                    bare.list().await.len()
                };
                let us = start.elapsed().as_secs_f64() * 1e6;
                assert_eq!(n, 10);
                if sdk {
                    ours_us.push(us);
                } else {
                    bare_us.push(us);
                }
            }
        }
    }
    emit(
        ROUND_TRIP,
        "µs",
        &ours_us,
        &bare_us,
        "lower",
        Some(1.05),
        "median latency, 10-backup listing; baseline the same reqwest::Client setup + serde_json",
    );
}
