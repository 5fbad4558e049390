//! The blocking client beside the code it replaces, for `cargo xtask bench`.
//!
//! - `blocking-list-round-trip`: median latency of one `list` through `backups_blocking::Client`
//!   (the SDK's client over `UreqTransport`, polled on the calling thread), against a bare
//!   `ureq::Agent` sending the same request (same headers), reading the body with
//!   `read_to_vec` and parsing it with `serde_json::from_slice` into the same `Backups` model:
//!   what a synchronous tool would write without the SDK. Both agents keep their connection
//!   alive and talk to the same local server (its own thread), answering a canned listing of
//!   10 backups. Batches of each side alternate, so both see the same drift of the machine.
//!
//! Prints one JSON object per comparison on stdout (`xtask/bench-support/emit.rs`).

use std::time::Instant;

use backups_blocking::Client;
use backups_models::Backups;
use http::header::{ACCEPT, USER_AGENT};

#[path = "../../../xtask/bench-support/emit.rs"]
mod emit;
use emit::{Options, emit};
#[path = "../../../xtask/bench-support/canned.rs"]
mod canned;
use canned::{listing, start_server};

const ROUND_TRIP: &str = "blocking-list-round-trip";

fn main() {
    let options = Options::from_env();
    if !options.wants(ROUND_TRIP) {
        return;
    }
    let addr = start_server(listing(10));
    let base = format!("http://{addr}");
    let ours = Client::builder().base_url(&base).build().expect("client");
    let bare = Bare::new(&base);
    round_trip(&ours, &bare, options.quick);
}

/// ureq as its users write a JSON GET: a shared agent, the SDK's request headers, the body read
/// whole and `serde_json::from_slice` into the same model.
struct Bare {
    agent: ureq::Agent,
    url: String,
}

impl Bare {
    fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self {
            agent,
            url: format!("{base}/backups"),
        }
    }

    fn list(&self) -> Backups {
        let mut response = self
            .agent
            .get(&self.url)
            .header(USER_AGENT, backups_proto::DEFAULT_USER_AGENT)
            .header(ACCEPT, "application/json")
            .call()
            .expect("send");
        assert!(response.status().is_success());
        let body = response.body_mut().read_to_vec().expect("body");
        serde_json::from_slice(&body).expect("parse")
    }
}

fn round_trip(ours: &Client, bare: &Bare, quick: bool) {
    let (rounds, batch) = if quick { (60, 10) } else { (600, 10) };
    // Warm-up: connections open, caches hot.
    for _ in 0..200 {
        ours.list().expect("list");
        bare.list();
    }
    let mut ours_us = Vec::new();
    let mut bare_us = Vec::new();
    for round in 0..rounds {
        // The side going first alternates, round by round.
        for sdk in [round % 2 == 0, round % 2 != 0] {
            for _ in 0..batch {
                let start = Instant::now();
                let n = if sdk {
                    ours.list().expect("list").len()
                } else {
                    bare.list().len()
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
        "median latency, 10-backup listing; baseline a bare ureq::Agent + serde_json",
    );
}
