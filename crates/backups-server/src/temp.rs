//! A reference server over throwaway directories, for demos and tests (feature `temp`).
//!
//! It lives here rather than in the test kit because the `pieces-backups demo` command needs it
//! too, and a published binary must not depend on a test crate.
//!
//! ```
//! use backups_server::temp::{TempDirs, pseudo_random};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! tokio::runtime::Runtime::new()?.block_on(async {
//!     let dirs = TempDirs::new()?;
//!     dirs.write_file("notes/a.txt", "alpha")?;
//!     dirs.write_file("blob.bin", pseudo_random(4096, 7))?;
//!     let server = dirs.start(|config| config.max_body_bytes = 4096).await?;
//!     assert!(server.base_url().starts_with("http://127.0.0.1:"));
//!     // Shutting down hands the directories back, so the store can be inspected.
//!     let dirs = server.shutdown().await?;
//!     assert!(backups_server::verify_store(dirs.store())?.is_ok());
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })
//! # }
//! ```

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::{RunningServer, Server, ServerConfig, ServerError};

/// A temporary directory holding `data/` (what is backed up) and `store/` (made by the server),
/// removed with everything in it when dropped.
#[derive(Debug)]
pub struct TempDirs {
    root: tempfile::TempDir,
    data: PathBuf,
    store: PathBuf,
}

impl TempDirs {
    /// Makes the temporary directory and its empty `data/`.
    pub fn new() -> io::Result<Self> {
        let root = tempfile::tempdir()?;
        let data = root.path().join("data");
        let store = root.path().join("store");
        std::fs::create_dir(&data)?;
        Ok(Self { root, data, store })
    }

    /// The temporary directory itself.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The data directory that backups are made of.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// The store directory (it exists once a server has started on it).
    pub fn store(&self) -> &Path {
        &self.store
    }

    /// Writes `contents` to `relative` inside the data directory, making its parent directories.
    pub fn write_file(
        &self,
        relative: impl AsRef<Path>,
        contents: impl AsRef<[u8]>,
    ) -> io::Result<()> {
        let path = self.data.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, contents)
    }

    /// Starts a server on a free port of 127.0.0.1 over these directories. `configure` sees the
    /// configuration last, so it may change anything, the listening address included; the port
    /// file stays where the server puts it by default (in the store).
    pub async fn start(
        self,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> Result<TempServer, ServerError> {
        let mut config = ServerConfig::new(&self.data, &self.store)
            .with_listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        configure(&mut config);
        let server = Server::start(config).await?;
        Ok(TempServer { server, dirs: self })
    }
}

/// A running server that owns its temporary directories. Dropping it stops the server and then
/// removes the directories; [`shutdown`](Self::shutdown) first cancels the operations in
/// progress and waits for them and for requests in flight (see [`RunningServer::shutdown`]).
#[derive(Debug)]
pub struct TempServer {
    // Declared first so that it is dropped, and stops, before its directories go.
    server: RunningServer,
    dirs: TempDirs,
}

impl TempServer {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The base URL of the API, such as `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The server itself.
    pub fn running(&self) -> &RunningServer {
        &self.server
    }

    /// Its directories.
    pub fn dirs(&self) -> &TempDirs {
        &self.dirs
    }

    /// The server and its directories apart, for a caller that stops the server and keeps
    /// looking at the files.
    pub fn into_parts(self) -> (RunningServer, TempDirs) {
        (self.server, self.dirs)
    }

    /// Stops the server as [`RunningServer::shutdown`] does and hands the directories back.
    pub async fn shutdown(self) -> Result<TempDirs, ServerError> {
        self.server.shutdown().await?;
        Ok(self.dirs)
    }
}

/// Deterministic bytes that neither compress nor repeat: sample content that makes the store do
/// real work. The same as `PseudoRandom::new(seed).bytes(len)`.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    PseudoRandom::new(seed).bytes(len)
}

/// A small xorshift generator: reproducible sample content, kill points and operation mixes.
/// Not for anything that needs real randomness.
#[derive(Debug, Clone)]
pub struct PseudoRandom(u64);

impl PseudoRandom {
    /// A generator whose whole sequence is fixed by `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        // The multiplication spreads small seeds over the state; the `| 1` keeps it non-zero,
        // where xorshift would stay forever.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `len` bytes, the low byte of each number.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
