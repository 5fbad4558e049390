//! [`BackupsClient`]: the ready-to-use client over [`HyperTransport`].

use core::ops::Deref;

use backups_proto::{Client, Endpoint};

use crate::transport::HyperTransport;

/// A Backups API client over [`HyperTransport`].
///
/// It dereferences to [`backups_proto::Client`], which has every operation: `list`,
/// `create`, `create_with`, `create_streamed`, `delete`, and `run` for any [`AnyOperation`](backups_proto::operations::AnyOperation).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // Find the running Pieces OS (port file, then ports 39300 to 39333, then 1000 and 5323).
/// let client = backups_hyper::BackupsClient::discover().await?;
/// for backup in client.list().await?.iter() {
///     println!("{} {}", backup.id, backup.device_name);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BackupsClient {
    inner: Client<HyperTransport>,
}

impl BackupsClient {
    /// A client for the API's documented base URL, `http://localhost:1000`, with every default.
    ///
    /// Current Pieces OS versions listen on 39300 to 39333 instead: see
    /// [`discover`](Self::discover).
    pub fn localhost() -> Self {
        Self::from_client(Client::new(HyperTransport::default(), Endpoint::default()))
    }

    /// The same as [`localhost`](Self::localhost).
    pub fn new() -> Self {
        Self::localhost()
    }

    /// Wraps a client built by hand.
    pub fn from_client(inner: Client<HyperTransport>) -> Self {
        Self { inner }
    }

    /// The underlying client.
    pub fn inner(&self) -> &Client<HyperTransport> {
        &self.inner
    }

    /// Unwraps the underlying client.
    pub fn into_inner(self) -> Client<HyperTransport> {
        self.inner
    }
}

impl Default for BackupsClient {
    fn default() -> Self {
        Self::localhost()
    }
}

impl Deref for BackupsClient {
    type Target = Client<HyperTransport>;

    fn deref(&self) -> &Client<HyperTransport> {
        &self.inner
    }
}

impl From<Client<HyperTransport>> for BackupsClient {
    fn from(inner: Client<HyperTransport>) -> Self {
        Self { inner }
    }
}
