//! The default transport of the Pieces OS **Backups API** SDK, on hyper 1.
//!
//! [`backups_proto`] knows the wire and does no IO; this crate sends its requests:
//! - [`BackupsClient`]: a ready client, one line for the documented `http://localhost:1000`
//!   ([`BackupsClient::localhost`]), a [`ClientBuilder`] for every setting, and
//!   [`BackupsClient::discover`] to find a running Pieces OS the way the official wrappers do
//!   (the [`discovery`] module says where it looked);
//! - [`HyperTransport`]: the [`Transport`] under it, with pooled keep-alive connections,
//!   connect and request timeouts, and an idle timeout between chunks of a progress stream; the
//!   client over it retries the idempotent GETs that could not connect, under its
//!   [`RetryPolicy`] (a POST is never resent);
//! - [`Socket`] (the `websocket` feature, on by default): the WebSocket channels over hyper's
//!   upgrade and tokio-tungstenite, so that `watch_progress`, `create_over_websocket` and
//!   `restore_over_websocket` work on a [`BackupsClient`] too;
//! - every failure is the SDK's one [`Error`] type, re-exported here.
//!
//! Calls need a Tokio runtime (with IO and time enabled, as `#[tokio::main]` sets up);
//! building a client does not.
//!
//! Each call is a `tracing` span named `backups_call` at INFO level with the fields
//! `operation`, `method`, `path`, `status`, `attempt` (2 for the first retry: one span per
//! attempt), `duration_ms` (from the request to the
//! end of the body) and `error`, closed by an event. Nothing is printed unless the application
//! installs a `tracing` subscriber.
//!
//! ```
//! use std::convert::Infallible;
//! use backups_hyper::BackupsClient;
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use hyper::{Request, Response, server::conn::http1, service::service_fn};
//! use hyper_util::rt::TokioIo;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A stand-in Pieces OS that knows one backup.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let base_url = format!("http://{}", listener.local_addr()?);
//! tokio::spawn(async move {
//!     while let Ok((stream, _)) = listener.accept().await {
//!         let service = service_fn(|_request: Request<hyper::body::Incoming>| async {
//!             let json = r#"{"iterable":[{"id":"b1","bytes":1024,"device_name":"laptop",
//!                 "platform":"LINUX","timestamp":"1","version":"11.0.0",
//!                 "created":{"value":"2026-11-26T21:00:00Z"}}]}"#;
//!             let response = Response::builder()
//!                 .header("content-type", "application/json")
//!                 .body(Full::new(Bytes::from_static(json.as_bytes())));
//!             Ok::<_, Infallible>(response.expect("a valid response"))
//!         });
//!         tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
//!     }
//! });
//!
//! let client = BackupsClient::builder().base_url(base_url).build()?;
//! let backups = client.list().await?;
//! assert_eq!(backups.iter().next().map(|b| b.id.as_str()), Some("b1"));
//! # Ok(())
//! # }
//! ```
//!
//! Against a real Pieces OS (the README's example): back up, then restore the newest backup with
//! progress. `follow` reads the stream to its end, and when the stream breaks on the way (a
//! reset, a silent phase, a server that ends it early, a restart) follows the restore by its
//! status to its real end.
//!
//! ```no_run
//! use backups_hyper::BackupsClient;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = BackupsClient::discover().await?;
//! let made = client.create().await?;
//! println!("made backup {} ({} bytes)", made.id, made.bytes);
//!
//! // Any method that names a backup takes a `&Backup`, a `BackupId`, a `&str` or a `String`.
//! let stream = client.restore_streamed(&made).await?;
//! let restored = client
//!     .follow(stream, |event| println!("{:?} {:?}", event.status, event.percentage))
//!     .await?;
//! println!("restored {}", restored.id);
//! # Ok(())
//! # }
//! ```
//!
//! Over the WebSockets (the `websocket` feature): a live view of every backup and restore in
//! progress until Ctrl-C, and a create whose events come over a socket. The idle timeout ends a
//! socket that stays silent longer (`idle_timeout` of the builder); dropping a stream closes
//! its socket with a close frame.
//!
//! ```no_run
//! # #[cfg(feature = "websocket")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use backups_hyper::BackupsClient;
//!
//! let client = BackupsClient::builder()
//!     .base_url("http://127.0.0.1:39300")
//!     .idle_timeout(Duration::from_secs(600))
//!     .build()?;
//!
//! let made = client
//!     .create_over_websocket()
//!     .await?
//!     .finish(|event| println!("{:?} {:?}", event.status, event.percentage))
//!     .await?;
//! println!("made backup {}", made.id);
//!
//! let mut snapshots = client.watch_progress().await?;
//! loop {
//!     tokio::select! {
//!         snapshot = snapshots.next_snapshot() => match snapshot {
//!             Some(snapshot) => println!("{:?}", snapshot?),
//!             None => break,
//!         },
//!         _ = tokio::signal::ctrl_c() => break,
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds | dependencies it adds |
//! |---|---|---|---|
//! | `websocket` | yes | [`Socket`], [`CLOSE_TIMEOUT`] and the [`SocketTransport`] implementation of [`HyperTransport`], so that `watch_progress`, `create_over_websocket` and `restore_over_websocket` work on a [`BackupsClient`] | `tokio-tungstenite` (framing and the handshake's key only: no TLS, no connector), `futures-core`, `futures-util` |
//!
//! With `default-features = false` the crate is the HTTP client alone: every HTTP operation,
//! discovery, retries, timeouts and tracing spans.
//!
//! Two parts of the crate are not features, on purpose:
//! - [`discovery`] uses only what the transport already compiles (hyper's HTTP/1 client
//!   connection, tokio's TCP and tasks, `http`): a feature would remove no dependency, only
//!   [`BackupsClient::discover`] and [`ClientBuilder::discover`];
//! - the `tracing` spans: hyper-util's client, which the transport is built on, depends on
//!   `tracing` itself, so a feature could not take it out of the build. This crate uses
//!   `tracing` without its default features (no `tracing-attributes` proc macro), and while no
//!   subscriber is installed its spans are disabled and cost next to nothing.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod builder;
mod client;
pub mod discovery;
mod errors;
#[cfg(feature = "websocket")]
#[cfg_attr(docsrs, doc(cfg(feature = "websocket")))]
mod socket;
mod transport;

pub use body::HyperBody;
pub use builder::ClientBuilder;
pub use client::BackupsClient;
pub use discovery::DiscoveryError;
#[cfg(feature = "websocket")]
#[cfg_attr(docsrs, doc(cfg(feature = "websocket")))]
pub use socket::{CLOSE_TIMEOUT, Socket};
pub use transport::{DEFAULT_POOL_IDLE_TIMEOUT, HyperTransport};

pub use backups_proto::{
    self as proto, APPLICATION_ID, BackupId, BaseUrl, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, Error, ErrorKind, Handshake, IntoBackupId,
    IntoBaseUrl, Limits, Message, Operation, Polling, ProgressStream, RetryPolicy, Snapshots,
    SocketEvents, SocketTransport, TimeoutKind, Timeouts, Transport, TransportKind, models,
};
