//! Starting, running and stopping the HTTP server.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{RwLock, oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::DEFAULT_PORTS;
use crate::jobs::{Jobs, Pace};
use crate::origin::Origin;
use crate::routes;
use crate::state::{AppState, stopped};
use crate::store::Store;
use crate::swap;
use crate::{ServerConfig, ServerError, StoreError};

/// The Backups API server. See [`Server::start`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Server;

impl Server {
    /// Opens the store (taking its lock and recovering from any crash), binds the listening
    /// socket, writes the port file and starts serving in the background.
    ///
    /// Must be called inside a Tokio runtime with the IO and time drivers enabled.
    pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
        let not_a_dir = || StoreError::DataDir {
            path: config.data_dir.clone(),
            reason: "not an existing directory".into(),
        };
        // A restore interrupted mid-swap may have left the data directory renamed away; opening
        // the store finishes that restore and brings it back.
        if !config.data_dir.is_dir() && !swap::interrupted(&config.store_dir) {
            return Err(not_a_dir().into());
        }
        let store_dir = config.store_dir.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&store_dir))
            .await
            .map_err(|err| ServerError::Internal(format!("opening the store: {err}")))??;
        if !config.data_dir.is_dir() {
            return Err(not_a_dir().into());
        }
        let listener = bind(config.listen).await?;
        let local_addr = listener
            .local_addr()
            .map_err(|err| ServerError::Internal(format!("reading the bound address: {err}")))?;
        let port_file = config.port_file_path();
        write_port_file(&port_file, local_addr.port()).await?;

        let state = Arc::new(AppState {
            store: Arc::new(store),
            listing: Default::default(),
            data_dir: config.data_dir.clone(),
            origin: Origin::this_server(),
            fault: config.simulate,
            pace: Pace {
                delay: config.progress_delay,
                silent: config.silent_phase,
            },
            drop_streams_after: config.drop_streams_after,
            max_body_bytes: config.max_body_bytes,
            jobs: Arc::new(Jobs::default()),
            data_gate: Arc::new(RwLock::new(())),
            stop: watch::Sender::new(false),
            halt: watch::Sender::new(false),
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(serve(listener, state, config.clone(), stop_rx));
        Ok(RunningServer {
            local_addr,
            port_file,
            store_dir: config.store_dir,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }
}

/// A server that is accepting connections. Dropping it starts the same shutdown as
/// [`shutdown`](RunningServer::shutdown), in the background; call `shutdown` to wait for it.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    port_file: PathBuf,
    store_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL of the API, such as `http://127.0.0.1:39300`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The port file written at start.
    pub fn port_file(&self) -> &Path {
        &self.port_file
    }

    /// The store directory.
    pub fn store_dir(&self) -> &Path {
        &self.store_dir
    }

    /// Stops the server within [`ServerConfig::shutdown_timeout`] (3 s by default), plus the
    /// few milliseconds it takes to drop what is left.
    ///
    /// It stops accepting connections and starting operations, and **cancels every create and
    /// restore in progress**, as their cancel endpoints do: a create leaves nothing in the
    /// store, a restore removes the tree it was writing and leaves the data directory as it
    /// was. One already past its commit point (its objects being renamed into the store, or
    /// its tree being swapped in, a matter of a few syncs) completes instead. Either way its
    /// client gets the final event (`CANCELED` or `COMPLETED`) or answer. Requests in flight
    /// are finished, and WebSockets closed with 1001. Once the bound has passed, connections
    /// still open are dropped, and an operation still running (a disk that does not answer)
    /// is left to end in the background, holding the store; a process that exits then leaves
    /// the store as a crash does, which its next start recovers. Finally the port file is
    /// removed if it still names this server.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .map_err(|err| ServerError::Internal(format!("server task: {err}")))?;
        }
        let ours = tokio::fs::read_to_string(&self.port_file)
            .await
            .is_ok_and(|text| text.trim() == self.local_addr.port().to_string());
        if ours {
            let _ = tokio::fs::remove_file(&self.port_file).await;
        }
        Ok(())
    }
}

async fn bind(listen: Option<SocketAddr>) -> Result<TcpListener, ServerError> {
    if let Some(addr) = listen {
        return TcpListener::bind(addr)
            .await
            .map_err(|err| ServerError::bind(addr, err));
    }
    for port in DEFAULT_PORTS {
        if let Ok(listener) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            return Ok(listener);
        }
    }
    Err(ServerError::NoFreePort {
        first: *DEFAULT_PORTS.start(),
        last: *DEFAULT_PORTS.end(),
    })
}

/// Writes the port as text, atomically, so a reader never sees a half-written number.
async fn write_port_file(path: &Path, port: u16) -> Result<(), ServerError> {
    let error = |source| ServerError::PortFile {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent).await.map_err(error)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    tokio::fs::write(&tmp, port.to_string())
        .await
        .map_err(error)?;
    tokio::fs::rename(&tmp, path).await.map_err(error)
}

async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    config: ServerConfig,
    mut stop: oneshot::Receiver<()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_headers(config.max_headers)
        // A client may shut down its sending side once the request is out; without this, hyper
        // closes the connection on that EOF and the answer is lost (a third of the time).
        .half_close(true);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    // Progress lines are small; send each at once.
                    let _ = stream.set_nodelay(true);
                    let mut stop = state.stop.subscribe();
                    let mut halt = state.halt.subscribe();
                    let service_state = Arc::clone(&state);
                    let service = service_fn(move |request| {
                        routes::handle(Arc::clone(&service_state), request)
                    });
                    // With upgrades, so that the WebSocket channels can take the connection
                    // over. hyper-util's `GracefulShutdown` cannot watch such a connection, so
                    // the `stop` signal does the same: finish the request in flight, then close.
                    let connection = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades();
                    tokio::spawn(async move {
                        let mut connection = std::pin::pin!(connection);
                        // A connection error concerns one client only (reset, timeout).
                        tokio::select! {
                            _ = connection.as_mut() => {}
                            () = stopped(&mut stop) => {
                                connection.as_mut().graceful_shutdown();
                                // Past the shutdown's bound the connection is dropped.
                                tokio::select! {
                                    _ = connection.as_mut() => {}
                                    () = stopped(&mut halt) => {}
                                }
                            }
                        }
                    });
                }
                // Out of file descriptors and the like: back off instead of spinning or dying.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            // Sent by `shutdown`, or the handle was dropped.
            _ = &mut stop => break,
        }
    }
    drop(listener);
    let deadline = tokio::time::Instant::now() + config.shutdown_timeout;
    // Operations first: a streamed one's response ends with its final event, so connections
    // can finish only once the work has stopped. Without this, a long restore held the
    // shutdown for its whole length (and the process, whose runtime waits for its thread).
    state.jobs.stop_all();
    state.stop.send_replace(true);
    let _ = tokio::time::timeout_at(deadline, state.jobs.idle()).await;
    // Every connection and WebSocket holds a receiver: once all are gone, all have finished.
    let _ = tokio::time::timeout_at(deadline, state.stop.closed()).await;
    state.halt.send_replace(true);
    // Dropping them takes a moment of the tasks that hold them.
    let _ = tokio::time::timeout(HALT_GRACE, state.stop.closed()).await;
}

/// How long shutdown waits, past its bound, for the connections it drops to be gone.
const HALT_GRACE: Duration = Duration::from_millis(100);
