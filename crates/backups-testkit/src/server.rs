//! Starting a reference server for a test, failing the test loudly when it cannot start.

use std::future::Future;
use std::net::SocketAddr;

use backups_server::ServerConfig;
use backups_server::temp::{TempDirs, TempServer};

/// Starts a server on a free port of 127.0.0.1 over temporary directories whose data directory
/// holds `files` (relative path, content); `configure` may change the configuration last.
///
/// # Panics
///
/// When the directories cannot be written or the server cannot start: a test cannot go on.
pub async fn start_server(
    files: &[(&str, &[u8])],
    configure: impl FnOnce(&mut ServerConfig),
) -> TempServer {
    let dirs = TempDirs::new().expect("a temporary directory");
    for (path, contents) in files {
        dirs.write_file(path, contents)
            .unwrap_or_else(|err| panic!("cannot write {path}: {err}"));
    }
    dirs.start(configure)
        .await
        .unwrap_or_else(|err| panic!("the reference server does not start: {err}"))
}

/// A server as [`start_server`] makes it, running on a runtime of its own, for tests and fuzz
/// targets that are not async themselves. Dropping it shuts the server down and removes its
/// directories.
#[derive(Debug)]
pub struct BlockingServer {
    server: Option<TempServer>,
    runtime: tokio::runtime::Runtime,
}

impl BlockingServer {
    /// Starts the server on a new two-thread runtime (the server answers while the test blocks).
    ///
    /// # Panics
    ///
    /// As [`start_server`], and when the runtime cannot be built.
    pub fn start(files: &[(&str, &[u8])], configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        let server = runtime.block_on(start_server(files, configure));
        Self {
            server: Some(server),
            runtime,
        }
    }

    /// The server (present until the drop).
    pub fn server(&self) -> &TempServer {
        self.server.as_ref().expect("running until dropped")
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server().local_addr()
    }

    /// The base URL of the API, such as `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        self.server().base_url()
    }

    /// Runs `future` to completion on the server's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

impl Drop for BlockingServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            // A failed shutdown must not turn a passing test into a double panic.
            let _ = self.runtime.block_on(server.shutdown());
        }
    }
}
