//! A blocking client for the Pieces OS **Backups API**: for synchronous tools, build scripts and
//! a plain `fn main`, with no `async` in sight and no runtime to set up.
//!
//! [`Client`] has every operation of the async [`backups_proto::Client`] (the one
//! `backups-hyper` runs on Tokio) as a plain call (`list`, `create`, `get`, `restore`, `delete`, the status and cancel calls, `run` for any
//! operation given as a value), and the streamed ones as iterators: `create_streamed`,
//! `restore_streamed`, `create_over_websocket` and `restore_over_websocket` return a
//! [`Progress`] of events (with [`Progress::finish`] and [`Progress::follow`] to read it to the
//! finished backup), and `watch_progress` a [`Watch`] of snapshots. Every failure is the SDK's
//! one [`Error`] type.
//!
//! ```
//! use backups_blocking::Client;
//! # let server = backups_testkit::BlockingServer::start(&[("notes.txt", b"hello")], |_| {});
//! # let base_url = server.base_url();
//!
//! // `Client::discover()` finds a running Pieces OS; here, a local server at `base_url`.
//! let client = Client::builder().base_url(&base_url).build()?;
//!
//! let made = client.create()?;
//! println!("made backup {} ({} bytes)", made.id, made.bytes);
//! assert!(client.list()?.iter().any(|backup| backup.id == made.id));
//!
//! // A restore with its progress, event by event (a `&Backup`, an id or a string names it)...
//! for event in client.restore_streamed(&made)? {
//!     let event = event?;
//!     println!("{:?} {:?}", event.status, event.percentage);
//! }
//! // ...or read to the end in one call, following a stream that ends early.
//! let restored = client
//!     .restore_streamed(made.id.as_str())?
//!     .follow(|event| println!("{:?}", event.status))?;
//! assert_eq!(restored.id, made.id);
//!
//! client.delete(&made)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How it works
//!
//! The client is the SDK's one [`backups_proto::Client`] over an [`UreqTransport`]:
//! [ureq](https://docs.rs/ureq) 3 for HTTP/1.1 (a keep-alive pool, per-call timeouts) and
//! [tungstenite](https://docs.rs/tungstenite) over a `std::net::TcpStream` for the WebSocket
//! channels. There is no async runtime, Tokio or other, and no hyper. Each call polls the async
//! client's future on the calling thread (`pollster`), and the transport does its IO there, as
//! it is polled: a call costs what a bare ureq call costs. Two things run elsewhere:
//! - a plain create or restore runs on a thread of its own, because the client watches it by
//!   its status (and Pieces OS's health) while it runs, which needs both at once;
//! - the waits between retries and status polls are `futures-timer` timers, on one shared
//!   thread.
//!
//! So it works from any thread: a plain `fn main`, `tokio::task::spawn_blocking`, a thread of
//! an application that runs another runtime. Called on an async runtime's worker thread, it
//! works too, but blocks that worker for the call, as `std::fs` would: prefer
//! `spawn_blocking` there, or `backups-hyper`'s async client.
//!
//! Timeouts are ureq's, set per call: the connect timeout, the request timeout for a plain call
//! (head and body), and for a progress stream the idle timeout on every read (its head is
//! bounded by both); a socket's reads are bounded by the idle timeout.
//!
//! # Which crate
//!
//! A crate of its own rather than a `blocking` feature of `backups-hyper`: a synchronous tool
//! compiles no async stack at all (`cargo tree -p backups-blocking -e normal` has neither tokio
//! nor hyper). This crate re-exports what a caller needs ([`BackupId`], [`Error`], the
//! [`models`], [`RetryPolicy`], [`Timeouts`]), and [`proto`] for the rest.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod background;
mod body;
mod builder;
mod client;
mod connect;
pub mod discovery;
mod errors;
mod methods;
mod progress;
mod socket;
mod transport;
mod wait;

pub use body::UreqBody;
pub use builder::ClientBuilder;
pub use client::Client;
pub use discovery::DiscoveryError;
pub use progress::{Progress, Watch};
pub use socket::{CLOSE_TIMEOUT, Socket};
pub use transport::{DEFAULT_POOL_IDLE_TIMEOUT, UreqTransport};

pub use backups_proto::operations::{AnyOperation, AnyOutput};
pub use backups_proto::{
    self as proto, BackupId, BaseUrl, Error, ErrorKind, IntoBackupId, IntoBaseUrl, Limits,
    Operation, RetryPolicy, SocketTransport, TimeoutKind, Timeouts, Transport, TransportKind,
    models,
};
