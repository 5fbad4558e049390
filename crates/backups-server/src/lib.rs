//! A faithful local implementation of the Pieces OS **Backups API**.
//!
//! `backups-server` answers the API exactly as the official Pieces OS clients expect, over real
//! sockets, so that the SDK, the CLI and the conformance suite can be exercised end to end and
//! so that users can develop against the API offline. It backs up a data directory (the
//! stand-in for the Pieces OS database) into a store directory (the stand-in for the cloud):
//! a content-addressed, deduplicating store whose backups survive crashes and can be checked
//! ([`verify_store`]) and written back out ([`restore_backup`]).
//!
//! Routes: `GET`/`HEAD /.well-known/health`, `GET /backups`, `POST /backups/create`,
//! `POST /backups/create/streamed` (NDJSON progress for clients that ask for
//! `application/x-ndjson`, otherwise the final event), `POST /backups/{backup}/delete`, and the
//! operations on one backup: `GET /backup/{backup}`, `POST /backup/{backup}/restore` (and
//! `/restore/streamed`, negotiated the same way), `GET /backup/{backup}/creation/status`,
//! `POST /backup/{backup}/creation/cancel`, `GET /backup/{backup}/restoration/status` and
//! `POST /backup/{backup}/restoration/cancel`; `POST /backup` and `POST /backup/asset`, which
//! check their `Assets`/`Asset` body and answer 204, keeping nothing. A restore replaces the
//! data directory atomically:
//! after a crash at any moment it holds the whole old tree or the whole backup. Three WebSocket
//! channels: `/backups/streamed/progress` (a snapshot of every create and restore in progress on
//! connect and on every change), `/backups/create/streamed/websocket` and
//! `/backup/{backup}/restore/streamed/websocket` (the operation's events, then close 1000).
//!
//! Start one in-process on a free port, call it, and stop it:
//!
//! ```
//! use std::net::SocketAddr;
//! use backups_server::{Server, ServerConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let data = tempfile::tempdir()?;
//! let store = tempfile::tempdir()?;
//! std::fs::write(data.path().join("notes.txt"), "hello")?;
//!
//! let runtime = tokio::runtime::Runtime::new()?;
//! runtime.block_on(async {
//!     let listen: SocketAddr = "127.0.0.1:0".parse()?;
//!     let config = ServerConfig::new(data.path(), store.path()).with_listen(listen);
//!     let server = Server::start(config).await?;
//!     assert!(server.base_url().starts_with("http://127.0.0.1:"));
//!     assert_eq!(
//!         std::fs::read_to_string(server.port_file())?,
//!         server.local_addr().port().to_string(),
//!     );
//!     server.shutdown().await?;
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })?;
//!
//! // An empty store verifies.
//! assert!(backups_server::verify_store(store.path())?.is_ok());
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds | dependencies it adds |
//! |---|---|---|---|
//! | `temp` | no | the [`temp`] module: [`TempDirs`](temp::TempDirs) and [`TempServer`](temp::TempServer), a server over throwaway directories, for demos and tests (`pieces-backups demo` turns it on) | `tempfile` |
//!
//! The `backups-server` binary needs no feature.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The features table links to the `temp` module, which exists only with its feature.
#![cfg_attr(not(feature = "temp"), allow(rustdoc::broken_intra_doc_links))]

mod accept;
mod channels;
mod chunking;
mod config;
mod control;
mod error;
mod fault;
mod filemeta;
mod fsio;
mod hashing;
mod id;
mod jobs;
mod layout;
mod listing;
mod manifest;
mod metacache;
mod objects;
mod origin;
mod progress;
mod record;
mod reply;
mod restore;
mod routes;
mod server;
mod socket;
mod state;
mod store;
mod swap;
mod tasks;
// Also in the crate's own unit tests, for its data generator.
#[cfg(any(test, feature = "temp"))]
#[cfg_attr(docsrs, doc(cfg(feature = "temp")))]
pub mod temp;
mod threads;
mod verify;
mod walk;
mod watchers;

pub use config::{DEFAULT_PORT_FILE_NAME, DEFAULT_PORTS, ServerConfig};
pub use error::{ServerError, StoreError};
pub use fault::{Fault, UnknownFault};
pub use restore::{RestoreSummary, restore_backup};
pub use server::{RunningServer, Server};
pub use verify::{Problem, VerifyReport, verify_store};
