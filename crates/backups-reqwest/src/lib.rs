//! A transport of the Pieces OS **Backups SDK** on the [`reqwest::Client`] your application
//! already holds, so that the SDK goes through its proxies, TLS settings, default headers and
//! connection pool instead of compiling a second HTTP stack.
//!
//! [`ReqwestTransport`] implements `backups-proto`'s [`Transport`](backups_proto::Transport)
//! (every HTTP call) and [`SocketTransport`](backups_proto::SocketTransport) (the WebSocket
//! channels, over reqwest's HTTP/1.1 upgrade and tokio-tungstenite), and enforces the SDK's
//! timeouts and limits on top of the client: a request timeout for plain calls (never for a
//! plain create or restore, which the client watches instead), an idle timeout between the
//! chunks of a progress stream or the messages of a socket, a frame limit on each message. It
//! gives the client a timer (tokio's), so retries of idempotent calls and following a broken
//! create or restore work as with `backups-hyper`.
//!
//! ```no_run
//! use std::time::Duration;
//! use backups_proto::{Client, Endpoint};
//! use backups_reqwest::ReqwestTransport;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build()?;
//!     let transport = ReqwestTransport::new(http).with_idle_timeout(Duration::from_secs(30));
//!     let client = Client::new(transport, Endpoint::new("http://127.0.0.1:39300".parse()?));
//!     let made = client.create().await?;
//!     let stream = client.restore_streamed(&made).await?;
//!     let restored = client.follow(stream, |event| println!("{:?}", event.percentage)).await?;
//!     println!("restored {}", restored.id);
//!     Ok(())
//! }
//! ```
//!
//! What stays the client's: its `connect_timeout` (a refused or slow connection is a connect
//! error, which the SDK retries for idempotent calls), proxies, TLS, redirects and pool. Leave
//! its `read_timeout` unset (or longer than any silence of a restore): it cannot be lifted per
//! request, and a plain restore sends nothing until it is done. Its total `timeout` is lifted
//! for plain creates and restores and for progress streams, and applies to the other calls.
//!
//! # Features
//!
//! None. The crate depends on `backups-proto`, `reqwest` (no default features: your own
//! dependency on reqwest chooses TLS, HTTP/2 and the rest), tokio and tokio-tungstenite (no TLS,
//! no connector), and never on hyper-util's client or `backups-hyper`.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod direct;
mod errors;
mod socket;
mod transport;

pub use body::ReqwestBody;
pub use socket::{CLOSE_TIMEOUT, Socket};
pub use transport::ReqwestTransport;

/// The defaults of the SDK's every transport: 120 s for a plain call, 60 s of silence in a stream.
pub use backups_proto::{DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT};

/// The protocol layer, re-exported so that one dependency brings the client and its types.
pub use backups_proto as proto;
/// reqwest, re-exported so that the client you pass is of the version this crate was built with.
pub use reqwest;

/// The README's example, compiled with the doc tests so that it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
