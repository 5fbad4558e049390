//! What every request handler, WebSocket and background task of a running server shares, and the
//! signal that tells them the server is stopping.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{RwLock, watch};

use crate::Fault;
use crate::jobs::{Jobs, Pace};
use crate::listing::Listing;
use crate::origin::Origin;
use crate::store::Store;

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) store: Arc<Store>,
    /// The encoded answer of `GET /backups`, rebuilt when the store's index changes.
    pub(crate) listing: Listing,
    pub(crate) data_dir: PathBuf,
    pub(crate) origin: Origin,
    pub(crate) fault: Option<Fault>,
    /// `progress_delay` and `silent_phase` of the configuration.
    pub(crate) pace: Pace,
    /// Progress streams and operation sockets break after this many events.
    pub(crate) drop_streams_after: Option<u32>,
    pub(crate) max_body_bytes: usize,
    /// The running and recently finished creates and restores.
    pub(crate) jobs: Arc<Jobs>,
    /// Held shared by creates and exclusively by a restore while it swaps the data directory,
    /// so that no snapshot mixes the old tree and the restored one.
    pub(crate) data_gate: Arc<RwLock<()>>,
    /// Turns true when the server shuts down. Each connection and each WebSocket holds a
    /// receiver, so that shutdown can tell them to finish and wait until they have.
    pub(crate) stop: watch::Sender<bool>,
    /// Turns true when the shutdown's bound has passed: every connection and WebSocket still
    /// open is dropped.
    pub(crate) halt: watch::Sender<bool>,
}

/// Resolves once the server stops (`stop` turns true, or its sender is gone); also used for
/// `halt`.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; it is dropped here, before any other await.
    let _ = stop.wait_for(|stop| *stop).await.map(drop);
}
