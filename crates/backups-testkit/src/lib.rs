//! What the workspace's tests share, written once: a reference server over temporary
//! directories (async or in its own runtime), deterministic sample data, sample API bodies, a
//! request reader for test peers that speak raw HTTP over TCP, and a fault-injecting TCP proxy
//! ([`FaultProxy`]) that cuts, closes or stalls chosen responses.
//!
//! Crates use it only as a dev-dependency. The server over temporary directories and the data
//! generator live in [`backups_server::temp`], because `pieces-backups demo` needs them too;
//! they are re-exported here so that tests have one place to look.
//!
//! ```
//! use backups_testkit::{BlockingServer, pseudo_random};
//!
//! let blob = pseudo_random(64 * 1024, 1);
//! let server = BlockingServer::start(&[("notes.txt", b"hello"), ("blob.bin", &blob)], |config| {
//!     config.max_body_bytes = 4096;
//! });
//! assert!(server.base_url().starts_with("http://127.0.0.1:"));
//! // Dropping it stops the server and removes its directories.
//! ```

#![forbid(unsafe_code)]

mod proxy;
mod raw_http;
mod samples;
mod server;
mod trace;

pub use backups_server::temp::{PseudoRandom, TempDirs, TempServer, pseudo_random};
pub use proxy::{BlockingProxy, Fault, FaultProxy, Match, Rule};
pub use raw_http::{RawRequest, read_request};
pub use samples::backup_json;
pub use server::{BlockingServer, start_server};
pub use trace::{Fields, TraceCapture};
