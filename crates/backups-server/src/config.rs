//! What a server is started with.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::Fault;

/// The ports current Pieces OS versions listen on, tried in order when no address is given.
pub const DEFAULT_PORTS: std::ops::RangeInclusive<u16> = 39300..=39333;

/// The name of the port file written in the store when no other path is given.
pub const DEFAULT_PORT_FILE_NAME: &str = ".port.txt";

/// Everything [`Server::start`](crate::Server::start) needs.
///
/// Build one with [`ServerConfig::new`] and change the public fields that matter to you.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The directory that is backed up: the stand-in for the Pieces OS database.
    pub data_dir: PathBuf,
    /// Where backups are kept: the stand-in for the cloud. Created when missing.
    pub store_dir: PathBuf,
    /// The address to listen on; `None` takes the first free port of 127.0.0.1:39300 to 39333,
    /// as Pieces OS does. Give port 0 for any free port.
    pub listen: Option<SocketAddr>,
    /// Where the chosen port is written, as Pieces OS writes `.port.txt`; `None` writes
    /// `<store_dir>/.port.txt`. The real Pieces OS file is never written unless named here.
    pub port_file: Option<PathBuf>,
    /// When set, every backups call answers with this fault instead of doing its work.
    pub simulate: Option<Fault>,
    /// A pause after every progress step of a create or restore (each file and each MiB
    /// copied), to test timeouts, progress bars, cancels and crashes mid-way.
    pub progress_delay: Duration,
    /// A silent phase of every create and restore, for testing clients against one (as in a
    /// long migration step of Pieces OS): when its progress first reaches 50 %, the work stops
    /// for this long, sending no event on its stream or socket while its status keeps answering
    /// `IN-PROGRESS`. Zero (the default) means none. A cancel or a shutdown ends it early.
    pub silent_phase: Duration,
    /// When set, every progress stream breaks after this many events, as a lost connection
    /// would: a streamed create or restore's HTTP response is cut (the connection closes
    /// before the chunked body ends, so the client sees an error, never a complete response)
    /// and an operation WebSocket is dropped without a close frame. The work goes on to its end
    /// and its status says how it ended. `None` (the default) means never.
    pub drop_streams_after: Option<u32>,
    /// The largest request body accepted; larger ones answer 413.
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers before the connection is closed.
    pub header_read_timeout: Duration,
    /// The most headers a request may carry; more are refused by the HTTP layer.
    pub max_headers: usize,
    /// The bound on [`RunningServer::shutdown`](crate::RunningServer::shutdown): how long it
    /// waits for the creates and restores it cancels to stop and for requests in flight to
    /// finish before it drops their connections (3 s by default).
    pub shutdown_timeout: Duration,
}

impl ServerConfig {
    /// A configuration backing up `data_dir` into `store_dir`, with every other setting at its
    /// default: Pieces OS ports, port file in the store, no fault, no delay, no silent phase,
    /// no dropped stream, 1 MiB bodies.
    pub fn new(data_dir: impl Into<PathBuf>, store_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            store_dir: store_dir.into(),
            listen: None,
            port_file: None,
            simulate: None,
            progress_delay: Duration::ZERO,
            silent_phase: Duration::ZERO,
            drop_streams_after: None,
            max_body_bytes: 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            max_headers: 64,
            // Canceled operations stop within a progress step (a MiB), and the binary must exit
            // within 5 s of SIGTERM: 3 s leaves room for a slow disk's last syncs.
            shutdown_timeout: Duration::from_secs(3),
        }
    }

    /// The same configuration listening on `addr` (port 0 picks any free port).
    pub fn with_listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// The port file that will be written: the one configured, or `<store_dir>/.port.txt`.
    pub fn port_file_path(&self) -> PathBuf {
        self.port_file
            .clone()
            .unwrap_or_else(|| self.store_dir.join(DEFAULT_PORT_FILE_NAME))
    }
}
