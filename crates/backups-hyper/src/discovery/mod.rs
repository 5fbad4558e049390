//! Finding the port a running Pieces OS listens on, and reporting where discovery looked, on
//! Tokio and hyper.
//!
//! This module only finds a base URL: [`Discovery::locate`] answers [`Located`] or
//! [`NotFound`]. Building a client for what it finds is the job of
//! [`BackupsClient::discover`](crate::BackupsClient::discover) and
//! [`ClientBuilder::discover`](crate::ClientBuilder::discover), so that discovery needs no
//! client settings and its answer serves any transport.
//!
//! Pieces OS up to 10.1.15 listened on 1000 (Windows, macOS) or 5323 (Linux); current versions
//! take the first free port in 39300 to 39333 and write it to a port file. Like the official
//! wrappers, discovery tries, in order:
//! 1. the port in `com.pieces.os/production/Config/.port.txt`, under `~/Library` on macOS and
//!    `~/Documents` elsewhere (the home directory from `HOME`, else `USERPROFILE`);
//! 2. every port of 39300 to 39333 at once: a TCP connect (50 ms), then
//!    `GET /.well-known/health` (100 ms), which must answer 200 with a body starting with `ok`;
//! 3. the legacy ports 1000 and 5323, checked the same way.
//!
//! A port is only taken once its health check passed, so a stale port file does not win.
//!
//! The order, the configuration and the judgements are [`backups_proto::discovery`]'s, sans
//! IO, re-exported here; this module holds the IO, [`TokioProbe`]: `tokio::fs` for the port
//! file, one task per port for the scan, hyper's HTTP/1 connection for the health check.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http::header::{HOST, USER_AGENT};
use http_body::Body;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::{JoinHandle, JoinSet};

use backups_proto::DEFAULT_USER_AGENT;
use backups_proto::discovery::{Probe, authority, connect_host};

pub use backups_proto::discovery::{
    DEFAULT_HEALTH_TIMEOUT, DEFAULT_PROBE_CONNECT_TIMEOUT, DiscoveryError, Finding, Folded,
    HEALTH_PATH, HEALTH_READ_LIMIT, LEGACY_PORTS, Located, NotFound, PORT_FILE, PROBE_PORT_FIRST,
    PROBE_PORT_LAST, Place, Step, Verdict, fold,
};

/// Finds a running Pieces OS, configurably, on Tokio; [`BackupsClient::discover`] and
/// [`ClientBuilder::discover`] run the default one.
///
/// ```no_run
/// use std::time::Duration;
/// use backups_hyper::BackupsClient;
/// use backups_hyper::discovery::Discovery;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let located = Discovery::new()
///     .health_timeout(Duration::from_millis(250))
///     .locate()
///     .await?;
/// let client = BackupsClient::builder()
///     .base_url(located.base_url)
///     .application_id("my-app")
///     .build()?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
///
/// [`BackupsClient::discover`]: crate::BackupsClient::discover
/// [`ClientBuilder::discover`]: crate::ClientBuilder::discover
pub type Discovery = backups_proto::discovery::Discovery<TokioProbe>;

/// Discovery's IO on Tokio: `tokio::fs` for the port file, a task per probed port, a TCP
/// connect under `tokio::time::timeout` and the health check on hyper's HTTP/1 connection.
///
/// Its futures need a Tokio runtime with IO and time enabled.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct TokioProbe;

impl Probe for TokioProbe {
    fn read_port_file(&self, path: &Path) -> impl Future<Output = Verdict> + Send {
        let path = path.to_path_buf();
        async move { Verdict::of_port_file(tokio::fs::read(path).await) }
    }

    fn probe_all(
        &self,
        host: &str,
        ports: &[u16],
        connect: Duration,
        health: Duration,
    ) -> impl Future<Output = Vec<Verdict>> + Send {
        let host = host.to_owned();
        let ports = ports.to_vec();
        async move {
            let mut set = JoinSet::new();
            for (index, &port) in ports.iter().enumerate() {
                let host = host.clone();
                set.spawn(async move { (index, probe(&host, port, connect, health).await) });
            }
            let mut verdicts =
                vec![Verdict::ConnectFailed("probe did not run".into()); ports.len()];
            while let Some(joined) = set.join_next().await {
                // A probe task cannot panic on bad input; if one did, its port keeps the
                // "did not run" verdict rather than failing the whole discovery.
                if let Ok((index, verdict)) = joined {
                    verdicts[index] = verdict;
                }
            }
            verdicts
        }
    }
}

/// Connects to `port`, then checks its health.
async fn probe(host: &str, port: u16, connect: Duration, health: Duration) -> Verdict {
    let connecting = TcpStream::connect((connect_host(host), port));
    let stream = match tokio::time::timeout(connect, connecting).await {
        Err(_) => return Verdict::ConnectTimeout,
        Ok(Err(err)) => return Verdict::of_connect_error(&err),
        Ok(Ok(stream)) => stream,
    };
    let check = health_check(stream, authority(host, port));
    match tokio::time::timeout(health, check).await {
        Err(_) => Verdict::of_health_timeout(health),
        Ok(verdict) => verdict,
    }
}

/// Aborts the connection task when the health check ends or is dropped by its timeout.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `GET /.well-known/health` on an open connection, judged by [`Verdict::of_health`].
async fn health_check(stream: TcpStream, authority: String) -> Verdict {
    // Probing is latency-bound; no point in Nagle's delay. Failing to set it changes nothing.
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = match hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(
        TokioIo::new(stream),
    )
    .await
    {
        Ok(handshake) => handshake,
        Err(err) => return Verdict::of_health_error(err),
    };
    let _guard = AbortOnDrop(tokio::spawn(async move {
        let _ = connection.await;
    }));
    let request = match Request::get(HEALTH_PATH)
        .header(HOST, authority)
        .header(USER_AGENT, DEFAULT_USER_AGENT)
        .body(Empty::new())
    {
        Ok(request) => request,
        Err(err) => return Verdict::of_health_error(err),
    };
    let response = match sender.send_request(request).await {
        Ok(response) => response,
        Err(err) => return Verdict::of_health_error(err),
    };
    let status = response.status();
    let mut body = response.into_body();
    let mut start = Vec::new();
    while start.len() < HEALTH_READ_LIMIT {
        match std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    start.extend_from_slice(&data);
                }
            }
            Some(Err(err)) => return Verdict::of_health_error(err),
            None => break,
        }
    }
    Verdict::of_health(status, &start)
}
