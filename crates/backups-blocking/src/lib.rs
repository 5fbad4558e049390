//! A blocking client for the Pieces OS **Backups API**: for synchronous tools, build scripts and
//! a plain `fn main`, with no `async` in sight and no runtime to set up.
//!
//! [`Client`] has every operation of the async [`backups_hyper::BackupsClient`] as a plain call
//! (`list`, `create`, `get`, `restore`, `delete`, the status and cancel calls, `run` for any
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
//! The client owns a current-thread Tokio runtime, as `reqwest::blocking` does, and runs it on
//! a **thread of its own** for as long as the client (or any clone, [`Progress`] or [`Watch`]
//! of it) lives. Each call is sent by a task on that thread through the hyper transport of
//! `backups-hyper`, and comes back through channels; the calling thread parks until then. A
//! runtime that is driven only while a caller blocks in `block_on` would leave the pool's
//! background work stalled between calls: idle connections neither noticed as closed nor
//! dropped on time, a dropped WebSocket's close frame unsent. On a thread that keeps running,
//! hyper's connection tasks and timers run as they do under `#[tokio::main]`, so pooled
//! keep-alive connections, the connect, request and idle timeouts, retries and `tracing` spans
//! are exactly those of [`backups_hyper::HyperTransport`].
//!
//! The runtime thread reads response bodies and socket messages a few frames ahead of the
//! caller, so an iterator blocks only for what the server has not sent yet, and dropping an
//! iterator stops its reader at once (the HTTP connection is dropped, a socket closed with a
//! close frame). That machinery is a public [`Transport`] and [`SocketTransport`],
//! [`ThreadTransport`], whose futures any executor (or none) can wait on; the conformance
//! suite's transport check runs over it.
//!
//! # Inside an async runtime
//!
//! A blocking call made inside a Tokio runtime would stall it (and can deadlock a
//! current-thread one), so every call, iterator step and `finish`/`follow` checks first
//! ([`tokio::runtime::Handle::try_current`]) and refuses with [`Error::InvalidRequest`], saying
//! to use [`backups_hyper::BackupsClient`] there. This includes `spawn_blocking` threads and a
//! thread with an entered runtime handle; there, await the async client with
//! `Handle::block_on`. Building a client is allowed anywhere; only calls refuse.
//!
//! # Which crate
//!
//! A crate of its own rather than a `blocking` feature of `backups-hyper`: the async crate's
//! features stay about the async client, and a user who wants blocking calls depends on one
//! crate with one obvious API. This crate re-exports what a caller needs ([`BackupId`],
//! [`Error`], the [`models`], [`RetryPolicy`], [`Timeouts`]), and [`backups_hyper`] and
//! [`proto`] for the rest.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
pub mod discovery;
mod methods;
mod progress;
mod thread;
mod wait;

pub use client::{Client, ClientBuilder};
pub use progress::{Progress, Watch};
pub use thread::{ChannelBody, ChannelSocket, ThreadTransport};

pub use backups_hyper::{self, DiscoveryError, IntoBaseUrl, RetryPolicy, Timeouts, proto};
pub use backups_proto::operations::{AnyOperation, AnyOutput};
pub use backups_proto::{
    BackupId, BaseUrl, Error, ErrorKind, IntoBackupId, Limits, Operation, SocketTransport,
    TimeoutKind, Transport, TransportKind, models,
};
