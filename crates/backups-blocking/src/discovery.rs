//! Finding the port a running Pieces OS listens on, and reporting where discovery looked, with
//! plain threads: no async runtime, so [`locate`] works from any thread (`fn main`,
//! `spawn_blocking`, a thread inside another runtime).
//!
//! Discovery looks, in order, at the port file, then at 39300 to 39333 all at once, then at the
//! legacy ports 1000 and 5323, and takes a port only once its health check passed. The order,
//! the configuration and the judgements are [`backups_proto::discovery`]'s, sans IO, re-exported
//! here; this module holds the IO, [`StdProbe`]: `std::fs` for the port file, a scoped thread
//! per probed port, `TcpStream::connect_timeout`, and the health check over `ureq`.
//!
//! ```no_run
//! use backups_blocking::discovery::{self, Discovery};
//!
//! let located = discovery::locate(&Discovery::new())?;
//! println!("Pieces OS at {}, found by its {}", located.base_url, located.step);
//! # Ok::<(), backups_blocking::discovery::NotFound>(())
//! ```

use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use backups_proto::DEFAULT_USER_AGENT;
use backups_proto::discovery::{Probe, connect_host};

pub use backups_proto::discovery::{
    DEFAULT_HEALTH_TIMEOUT, DEFAULT_PROBE_CONNECT_TIMEOUT, DiscoveryError, Finding, Folded,
    HEALTH_PATH, HEALTH_READ_LIMIT, LEGACY_PORTS, Located, NotFound, PORT_FILE, PROBE_PORT_FIRST,
    PROBE_PORT_LAST, Place, Step, Verdict, fold,
};

use crate::connect::connect_within;

/// Finds a running Pieces OS, configurably, with blocking IO; run it with [`locate`].
///
/// Its `locate` future does all its work when first polled (see [`StdProbe`]), and it is
/// the [`Locate`](backups_proto::Locate) a blocking client follows with.
pub type Discovery = backups_proto::discovery::Discovery<StdProbe>;

/// Finds a healthy Pieces OS with `discovery`, blocking the calling thread for at most about
/// the time of its timeouts: each step probes its ports at once, on threads of its own.
///
/// Needs no runtime and refuses none: it may be called from any thread.
pub fn locate(discovery: &Discovery) -> Result<Located, NotFound> {
    pollster::block_on(discovery.locate())
}

/// Discovery's IO on the standard library: `std::fs` for the port file, one scoped thread per
/// probed port, `TcpStream::connect_timeout`, and `GET /.well-known/health` with `ureq`.
///
/// Its futures block: they do their IO when first polled and are then ready, so they suit the
/// blocking client's parking executor and [`locate`], not an async runtime's worker threads.
///
/// The health check is a second connection, made by `ureq` to the address the probe's own
/// connect reached: `ureq` takes an open stream only through its `unversioned` API, which may
/// change in any minor version, and a check on loopback costs a connect more only on the ports
/// that accepted one.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct StdProbe;

impl Probe for StdProbe {
    fn read_port_file(&self, path: &Path) -> impl Future<Output = Verdict> + Send {
        let path = path.to_path_buf();
        async move { Verdict::of_port_file(std::fs::read(path)) }
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
        async move { probe_all(&host, &ports, connect, health) }
    }
}

/// Probes `ports` on threads of their own; the verdicts come back in the order of `ports`.
fn probe_all(host: &str, ports: &[u16], connect: Duration, health: Duration) -> Vec<Verdict> {
    if ports.is_empty() {
        return Vec::new();
    }
    let addresses = match resolve(connect_host(host), connect) {
        Ok(addresses) => addresses,
        Err(verdict) => return vec![verdict; ports.len()],
    };
    let agent = agent(health);
    std::thread::scope(|scope| {
        let probes: Vec<_> = ports
            .iter()
            .map(|&port| {
                let (addresses, agent) = (&addresses, &agent);
                std::thread::Builder::new()
                    .name(format!("discovery-{port}"))
                    .spawn_scoped(scope, move || {
                        probe(addresses, port, connect, health, agent)
                    })
            })
            .collect();
        probes
            .into_iter()
            .map(|probe| match probe {
                // A probe cannot panic on bad input; if one did, or its thread could not be
                // started, its port gets a verdict saying so rather than failing discovery.
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|_| Verdict::ConnectFailed("probe did not run".into())),
                Err(err) => Verdict::ConnectFailed(format!("probe did not run: {err}")),
            })
            .collect()
    })
}

/// The addresses of `host`: an IP address as it is; a name looked up on a thread of its own,
/// bounded by the connect timeout as the async probe's lookup is (the system's lookup has no
/// timeout of its own; one that hangs is left to finish alone).
fn resolve(host: &str, connect: Duration) -> Result<Vec<IpAddr>, Verdict> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let (send, receive) = mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("discovery-lookup".into())
        .spawn(move || {
            let found = (name.as_str(), 0)
                .to_socket_addrs()
                .map(|addresses| addresses.map(|address| address.ip()).collect::<Vec<_>>());
            let _ = send.send(found);
        })
        .map_err(|err| Verdict::ConnectFailed(format!("host lookup did not run: {err}")))?;
    match receive.recv_timeout(connect) {
        Ok(Ok(addresses)) if !addresses.is_empty() => Ok(addresses),
        Ok(Ok(_)) => Err(Verdict::ConnectFailed(format!(
            "no address found for {host}"
        ))),
        Ok(Err(err)) => Err(Verdict::of_connect_error(&err)),
        Err(_) => Err(Verdict::ConnectTimeout),
    }
}

/// The agent of one scan's health checks: no proxy (the environment's would take loopback
/// calls elsewhere), no redirects, no pooling, a non-200 status as an answer to judge, and the
/// health timeout over the whole call.
fn agent(health: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .max_redirects(0)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .http_status_as_error(false)
        .user_agent(DEFAULT_USER_AGENT)
        .timeout_global(Some(health))
        .build()
        .into()
}

/// Connects to `port` at the first address that accepts within `connect` in all, then checks
/// its health.
fn probe(
    addresses: &[IpAddr],
    port: u16,
    connect: Duration,
    health: Duration,
    agent: &ureq::Agent,
) -> Verdict {
    let addresses: Vec<SocketAddr> = addresses
        .iter()
        .map(|&ip| SocketAddr::new(ip, port))
        .collect();
    match connect_within(&addresses, connect) {
        // The stream only told that something listens; ureq makes its own (see StdProbe).
        Ok((_stream, address)) => health_check(agent, address, health),
        Err(err) => Verdict::of_connect_error(&err),
    }
}

/// `GET /.well-known/health` at `address`, judged by [`Verdict::of_health`].
fn health_check(agent: &ureq::Agent, address: SocketAddr, health: Duration) -> Verdict {
    let response = match agent.get(format!("http://{address}{HEALTH_PATH}")).call() {
        Ok(response) => response,
        Err(ureq::Error::Timeout(_)) => return Verdict::of_health_timeout(health),
        Err(err) => return Verdict::of_health_error(err),
    };
    let status = response.status();
    let mut start = Vec::new();
    let read = response
        .into_body()
        .into_reader()
        .take(HEALTH_READ_LIMIT as u64)
        .read_to_end(&mut start);
    match read {
        Ok(_) => Verdict::of_health(status, &start),
        Err(err) if err.kind() == io::ErrorKind::TimedOut => Verdict::of_health_timeout(health),
        Err(err) => Verdict::of_health_error(err),
    }
}
