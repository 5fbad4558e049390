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
use crate::jobs::Jobs;
use crate::origin::Origin;
use crate::routes::{self, AppState};
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
            progress_delay: config.progress_delay,
            max_body_bytes: config.max_body_bytes,
            jobs: Arc::new(Jobs::default()),
            data_gate: Arc::new(RwLock::new(())),
            stop: watch::Sender::new(false),
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

/// A server that is accepting connections. Dropping it stops accepting; call
/// [`shutdown`](RunningServer::shutdown) to also wait for requests in flight.
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

    /// Stops accepting connections, lets requests in flight finish (up to the configured
    /// shutdown timeout), releases the store and removes the port file if it still names us.
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

/// Resolves once the server stops (`stop` turns true, or its sender is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; it is dropped here, before any other await.
    let _ = stop.wait_for(|stop| *stop).await.map(drop);
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
                                let _ = connection.await;
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
    // Every connection and WebSocket holds a receiver: once all are gone, all have finished.
    state.stop.send_replace(true);
    let _ = tokio::time::timeout(config.shutdown_timeout, state.stop.closed()).await;
}
