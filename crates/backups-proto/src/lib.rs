//! The sans-IO protocol layer of the Pieces OS **Backups API**.
//!
//! This crate knows the wire and does no IO: each operation builds a plain [`http::Request`] and
//! parses an [`http::Response`] ([`operations`]); a [`ProgressDecoder`] turns the chunks of a
//! progress stream into events; one [`Error`] type covers the whole SDK. Bring any HTTP stack by
//! implementing [`Transport`], and [`Client`] gives you every operation over it.
//! `backups-hyper` is the default transport.
//!
//! ```
//! use backups_proto::operations::{ApiOperation, Delete, List};
//! use backups_proto::{BackupId, Endpoint};
//!
//! let endpoint = Endpoint::new("http://127.0.0.1:39300".parse()?);
//! let request = List.request(&endpoint)?;
//! assert_eq!(request.uri(), "http://127.0.0.1:39300/backups");
//! assert_eq!(request.headers()["accept"], "application/json");
//!
//! let delete = Delete::new(BackupId::new("../etc")?).request(&endpoint)?;
//! assert_eq!(delete.uri().path(), "/backups/%2E%2E%2Fetc/delete");
//!
//! let response = http::Response::builder()
//!     .status(511)
//!     .header("content-type", "text/plain; charset=utf-8")
//!     .body(bytes::Bytes::from_static(b"User is not authenticated"))?;
//! let err = List::parse_response(response).unwrap_err();
//! assert_eq!(err.status().map(|s| s.as_u16()), Some(511));
//! assert!(err.to_string().contains("sign in"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! None: the crate is the whole protocol, sans IO, for every transport. It depends on `http`,
//! `http-body`, `bytes`, `futures-core`, `serde`/`serde_json` and small helpers, and never on an
//! async runtime or an HTTP implementation (CI checks that neither hyper nor tokio is in its
//! tree).

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backup_id;
mod client;
mod decoder;
pub mod discovery;
mod endpoint;
mod error;
mod follow;
mod operation;
pub mod operations;
mod polling;
mod progress_stream;
mod race;
mod response;
mod retry;
mod socket;
#[cfg(feature = "tungstenite")]
mod socket_error;
mod table;
mod timeouts;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod trace;
mod transport;

pub use backup_id::{BackupId, IntoBackupId};
pub use client::{Client, DEFAULT_MAX_BODY, Limits};
pub use decoder::{DEFAULT_MAX_FRAME, ProgressDecoder};
pub use endpoint::{
    APPLICATION_ID, BaseUrl, DEFAULT_BASE_URL, DEFAULT_USER_AGENT, Endpoint, IntoBaseUrl,
};
pub use error::{
    BoxError, EXCERPT_LIMIT, Error, ErrorKind, TimeoutKind, TransportKind, chain_has_io_kind,
    describe_chain, escape_controls, excerpt,
};
pub use follow::{FollowNote, SafeRestore};
pub use operation::{Operation, OperationSpec, RequestBody, ResponseBody, STREAM_ACCEPT};
pub use polling::{Locate, LocateFuture, Polling};
pub use progress_stream::{BodyEvents, EventSource, ProgressStream};
pub use retry::{Attempt, RetryPolicy};
pub use socket::{Handshake, Message, Snapshots, SocketEvents, SocketTransport, read_message};
#[cfg(feature = "tungstenite")]
#[cfg_attr(docsrs, doc(cfg(feature = "tungstenite")))]
pub use socket_error::socket_error;
pub use timeouts::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, Timeouts,
};
pub use transport::{Transport, TransportFn, transport_fn};

/// The models, re-exported so that one dependency brings both.
pub use backups_models as models;
/// The `http` crate, re-exported so that callers and transports share one version.
pub use http;
