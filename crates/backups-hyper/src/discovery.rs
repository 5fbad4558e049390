//! [`Discovery`]: finding the port a running Pieces OS listens on.
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

use core::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HOST, USER_AGENT};
use http::{Request, StatusCode};
use http_body::Body;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::{JoinHandle, JoinSet};

use backups_proto::{BaseUrl, DEFAULT_USER_AGENT, Error, TransportKind, excerpt};

use crate::builder::ClientBuilder;
use crate::client::BackupsClient;

/// Where the port file lives under the platform's base directory.
pub const PORT_FILE: &str = "com.pieces.os/production/Config/.port.txt";

/// The first port current Pieces OS versions may listen on.
pub const PROBE_PORT_FIRST: u16 = 39300;

/// The last port current Pieces OS versions may listen on.
pub const PROBE_PORT_LAST: u16 = 39333;

/// The ports of Pieces OS up to 10.1.15: 1000 (Windows, macOS), then 5323 (Linux).
pub const LEGACY_PORTS: [u16; 2] = [1000, 5323];

/// The health check path; a Pieces OS answers 200 with a text body starting with `ok`.
pub const HEALTH_PATH: &str = "/.well-known/health";

/// The default time allowed for the TCP connect of a probe: 50 ms.
pub const DEFAULT_PROBE_CONNECT_TIMEOUT: Duration = Duration::from_millis(50);

/// The default time allowed for the health check of a probe: 100 ms.
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_millis(100);

/// How much of a health answer is read: enough to see `ok` and to quote a wrong answer.
const HEALTH_READ_LIMIT: usize = 64;

/// The step of discovery a finding belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// Reading the port file (and checking the port it holds).
    PortFile,
    /// Probing 39300 to 39333.
    Probe,
    /// Probing the legacy ports.
    Legacy,
}

/// A place discovery looked at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Place {
    /// The home directory, to find the default port file.
    Home,
    /// A port file.
    PortFile(PathBuf),
    /// A port on the discovery host.
    Port(u16),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Home => f.write_str("home directory"),
            Self::PortFile(path) => write!(f, "port file {}", path.display()),
            Self::Port(port) => write!(f, "port {port}"),
        }
    }
}

/// What discovery found at a place.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Neither `HOME` nor `USERPROFILE` is set, so the default port file is unknown.
    NoHome,
    /// The file does not exist.
    Missing,
    /// The file exists but could not be read.
    Unreadable(String),
    /// The file does not hold a port number; its start is kept.
    NotAPort(String),
    /// The file holds this port.
    HoldsPort(u16),
    /// The connection was refused: nothing listens there.
    NotListening,
    /// The TCP connect did not finish within the probe's connect timeout.
    ConnectTimeout,
    /// The TCP connect failed otherwise.
    ConnectFailed(String),
    /// Something answered, but not as a healthy Pieces OS; says what it did.
    Unhealthy(String),
    /// A healthy Pieces OS.
    Healthy,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoHome => f.write_str("unknown (neither HOME nor USERPROFILE is set)"),
            Self::Missing => f.write_str("no such file"),
            Self::Unreadable(why) => write!(f, "unreadable ({why})"),
            Self::NotAPort(text) => write!(f, "does not hold a port number ({text:?})"),
            Self::HoldsPort(port) => write!(f, "holds port {port}"),
            Self::NotListening => f.write_str("nothing listening"),
            Self::ConnectTimeout => f.write_str("no connection in time"),
            Self::ConnectFailed(why) => write!(f, "connection failed ({why})"),
            Self::Unhealthy(why) => write!(f, "answered, but not as a healthy Pieces OS ({why})"),
            Self::Healthy => f.write_str("Pieces OS is there"),
        }
    }
}

/// One place discovery looked at, and what it found there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Finding {
    /// The step.
    pub step: Step,
    /// Where.
    pub place: Place,
    /// What was there.
    pub outcome: Outcome,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.outcome)
    }
}

/// A Pieces OS that discovery found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Located {
    /// Its base URL, such as `http://127.0.0.1:39300`.
    pub base_url: BaseUrl,
    /// Its port.
    pub port: u16,
    /// The step that found it.
    pub step: Step,
    /// Everything discovery looked at, the successful place last.
    pub findings: Vec<Finding>,
}

/// Discovery failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// No healthy Pieces OS at any place; the findings say what each place held.
    NotFound {
        /// The host the ports were probed on.
        host: String,
        /// Every place looked at, in order.
        findings: Vec<Finding>,
    },
    /// A Pieces OS was found, but the client could not be built (an invalid setting of the
    /// [`ClientBuilder`]).
    Client(Error),
}

impl DiscoveryError {
    /// What each place held, when nothing was found.
    pub fn findings(&self) -> &[Finding] {
        match self {
            Self::NotFound { findings, .. } => findings,
            Self::Client(_) => &[],
        }
    }
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { host, findings } => {
                write!(
                    f,
                    "no running Pieces OS found on {host} (is it started?); looked at: "
                )?;
                write_findings(f, findings)
            }
            Self::Client(err) => write!(f, "Pieces OS was found, but {err}"),
        }
    }
}

impl std::error::Error for DiscoveryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotFound { .. } => None,
            Self::Client(err) => Some(err),
        }
    }
}

/// Lets `?` turn a failed discovery into the SDK's error: not finding Pieces OS is a failure to
/// connect, nothing having been sent.
impl From<DiscoveryError> for Error {
    fn from(err: DiscoveryError) -> Self {
        match err {
            DiscoveryError::Client(err) => err,
            not_found => Error::transport(TransportKind::Connect, not_found),
        }
    }
}

/// Writes findings separated by `; `, folding runs of consecutive ports of one step with the
/// same outcome into a range, so that 34 silent ports take one line, not 34.
fn write_findings(f: &mut fmt::Formatter<'_>, findings: &[Finding]) -> fmt::Result {
    let mut i = 0;
    let mut first = true;
    while i < findings.len() {
        let finding = &findings[i];
        let mut end = i;
        if let Place::Port(start) = finding.place {
            while let Some(next) = findings.get(end + 1) {
                let last = match findings[end].place {
                    Place::Port(port) => port,
                    _ => break,
                };
                let follows =
                    matches!(next.place, Place::Port(port) if Some(port) == last.checked_add(1));
                if follows && next.step == finding.step && next.outcome == finding.outcome {
                    end += 1;
                } else {
                    break;
                }
            }
            if !first {
                f.write_str("; ")?;
            }
            if end > i {
                let Place::Port(last) = findings[end].place else {
                    unreachable!("only ports are folded")
                };
                write!(f, "ports {start}-{last}: {}", finding.outcome)?;
            } else {
                write!(f, "{finding}")?;
            }
        } else {
            if !first {
                f.write_str("; ")?;
            }
            write!(f, "{finding}")?;
        }
        first = false;
        i = end + 1;
    }
    if first {
        f.write_str("nothing (no port file, no ports to probe)")?;
    }
    Ok(())
}

/// Finds a running Pieces OS, configurably; [`discover`](crate::discover) runs the default one.
///
/// ```no_run
/// use std::time::Duration;
/// use backups_hyper::{BackupsClient, Discovery};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Discovery::new()
///     .health_timeout(Duration::from_millis(250))
///     .client_builder(BackupsClient::builder().application_id("my-app"))
///     .client()
///     .await?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Discovery {
    host: String,
    port_files: Option<Vec<PathBuf>>,
    probe_ports: Vec<u16>,
    legacy_ports: Vec<u16>,
    connect_timeout: Duration,
    health_timeout: Duration,
    builder: ClientBuilder,
}

impl Default for Discovery {
    fn default() -> Self {
        Self::new()
    }
}

impl Discovery {
    /// Discovery as wire.md describes it, on `127.0.0.1`.
    ///
    /// The IPv4 loopback address is used rather than `localhost` so that 34 probes do not each
    /// resolve a name, and do not try `::1` first where Pieces OS does not listen.
    pub fn new() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port_files: None,
            probe_ports: (PROBE_PORT_FIRST..=PROBE_PORT_LAST).collect(),
            legacy_ports: LEGACY_PORTS.to_vec(),
            connect_timeout: DEFAULT_PROBE_CONNECT_TIMEOUT,
            health_timeout: DEFAULT_HEALTH_TIMEOUT,
            builder: ClientBuilder::new(),
        }
    }

    /// The host to probe and to build the base URL from (default `127.0.0.1`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Adds a port file to read; the first call replaces the default one.
    pub fn port_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.port_files
            .get_or_insert_with(Vec::new)
            .push(path.into());
        self
    }

    /// Replaces the port files to read (an empty list skips the step).
    pub fn port_files<P: Into<PathBuf>>(mut self, paths: impl IntoIterator<Item = P>) -> Self {
        self.port_files = Some(paths.into_iter().map(Into::into).collect());
        self
    }

    /// Replaces the ports probed in parallel (default 39300 to 39333); when several are
    /// healthy, the first in this list wins.
    pub fn probe_ports(mut self, ports: impl IntoIterator<Item = u16>) -> Self {
        self.probe_ports = ports.into_iter().collect();
        self
    }

    /// Replaces the legacy ports, probed after the others, in parallel too; the first healthy
    /// one in this list wins (default 1000, 5323).
    pub fn legacy_ports(mut self, ports: impl IntoIterator<Item = u16>) -> Self {
        self.legacy_ports = ports.into_iter().collect();
        self
    }

    /// The time allowed for each probe's TCP connect (default 50 ms).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The time allowed for each health check once connected (default 100 ms).
    pub fn health_timeout(mut self, timeout: Duration) -> Self {
        self.health_timeout = timeout;
        self
    }

    /// The settings of the client [`client`](Self::client) builds (its base URL is replaced).
    pub fn client_builder(mut self, builder: ClientBuilder) -> Self {
        self.builder = builder;
        self
    }

    /// The default port file: `~/Library/com.pieces.os/...` on macOS,
    /// `~/Documents/com.pieces.os/...` elsewhere; `None` when no home directory is known.
    pub fn default_port_file() -> Option<PathBuf> {
        let home = std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .or_else(|| std::env::var_os("USERPROFILE").filter(|home| !home.is_empty()))?;
        Some(Self::port_file_under(Path::new(&home)))
    }

    /// Where the port file is under the home directory `home`, on this platform.
    pub fn port_file_under(home: &Path) -> PathBuf {
        let base = if cfg!(target_os = "macos") {
            "Library"
        } else {
            "Documents"
        };
        home.join(base).join(PORT_FILE)
    }

    /// Finds a healthy Pieces OS and builds a client for it.
    pub async fn client(&self) -> Result<BackupsClient, DiscoveryError> {
        let located = self.locate().await?;
        self.builder
            .clone()
            .base_url(located.base_url)
            .build()
            .map_err(DiscoveryError::Client)
    }

    /// Finds a healthy Pieces OS; says where it is and how it was found.
    pub async fn locate(&self) -> Result<Located, DiscoveryError> {
        let mut findings = Vec::new();

        // 1. The port file(s).
        let port_files = match &self.port_files {
            Some(paths) => paths.clone(),
            None => match Self::default_port_file() {
                Some(path) => vec![path],
                None => {
                    findings.push(Finding {
                        step: Step::PortFile,
                        place: Place::Home,
                        outcome: Outcome::NoHome,
                    });
                    Vec::new()
                }
            },
        };
        for path in port_files {
            let outcome = read_port_file(&path).await;
            let port = match outcome {
                Outcome::HoldsPort(port) => Some(port),
                _ => None,
            };
            findings.push(Finding {
                step: Step::PortFile,
                place: Place::PortFile(path),
                outcome,
            });
            if let Some(port) = port {
                let outcome = self.probe(port).await;
                if let Some(base_url) = self.record(&mut findings, Step::PortFile, port, outcome) {
                    return Ok(Located {
                        base_url,
                        port,
                        step: Step::PortFile,
                        findings,
                    });
                }
            }
        }

        // 2. The current range, all at once; the first healthy port of the list wins: with the
        //    default ascending range that is the lowest, the one Pieces OS takes first.
        // 3. The legacy ports, the same way.
        for step in [Step::Probe, Step::Legacy] {
            let ports = match step {
                Step::Probe => &self.probe_ports,
                _ => &self.legacy_ports,
            };
            let outcomes = self.probe_all(ports).await;
            let mut found = None;
            for (port, outcome) in outcomes {
                if let Some(base_url) = self.record(&mut findings, step, port, outcome) {
                    found.get_or_insert((base_url, port));
                }
            }
            if let Some((base_url, port)) = found {
                return Ok(Located {
                    base_url,
                    port,
                    step,
                    findings,
                });
            }
        }

        Err(DiscoveryError::NotFound {
            host: self.host.clone(),
            findings,
        })
    }

    /// Records a probe's outcome; for a healthy port, returns its base URL.
    fn record(
        &self,
        findings: &mut Vec<Finding>,
        step: Step,
        port: u16,
        outcome: Outcome,
    ) -> Option<BaseUrl> {
        let healthy = outcome == Outcome::Healthy;
        findings.push(Finding {
            step,
            place: Place::Port(port),
            outcome,
        });
        if !healthy {
            return None;
        }
        self.base_url(port)
    }

    fn base_url(&self, port: u16) -> Option<BaseUrl> {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("http://{host}:{port}").parse().ok()
    }

    /// Probes `ports` concurrently; the outcomes come back in the order of `ports`.
    async fn probe_all(&self, ports: &[u16]) -> Vec<(u16, Outcome)> {
        let mut set = JoinSet::new();
        for (index, &port) in ports.iter().enumerate() {
            let this = self.clone();
            set.spawn(async move { (index, this.probe(port).await) });
        }
        let mut outcomes: Vec<(u16, Outcome)> = ports
            .iter()
            .map(|&port| (port, Outcome::ConnectFailed("probe did not run".into())))
            .collect();
        while let Some(joined) = set.join_next().await {
            // A probe task cannot panic on bad input; if one did, its port keeps the
            // "did not run" outcome rather than failing the whole discovery.
            if let Ok((index, outcome)) = joined {
                outcomes[index].1 = outcome;
            }
        }
        outcomes
    }

    /// Connects to `port`, then checks its health.
    async fn probe(&self, port: u16) -> Outcome {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let connect = TcpStream::connect((host, port));
        let stream = match tokio::time::timeout(self.connect_timeout, connect).await {
            Err(_) => return Outcome::ConnectTimeout,
            Ok(Err(err)) if err.kind() == io::ErrorKind::ConnectionRefused => {
                return Outcome::NotListening;
            }
            Ok(Err(err)) => return Outcome::ConnectFailed(err.to_string()),
            Ok(Ok(stream)) => stream,
        };
        let authority = match self.base_url(port) {
            Some(base) => base.authority().to_string(),
            None => format!("{host}:{port}"),
        };
        let check = health_check(stream, authority);
        match tokio::time::timeout(self.health_timeout, check).await {
            Err(_) => Outcome::Unhealthy(format!(
                "no answer to GET {HEALTH_PATH} within {} ms",
                self.health_timeout.as_millis()
            )),
            Ok(Err(why)) => Outcome::Unhealthy(why),
            Ok(Ok(())) => Outcome::Healthy,
        }
    }
}

/// Runs [`Discovery::new`]`.client()`: finds the running Pieces OS and returns a client for it.
///
/// ```no_run
/// # async fn run() -> Result<(), backups_hyper::DiscoveryError> {
/// let client = backups_hyper::discover().await?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
pub async fn discover() -> Result<BackupsClient, DiscoveryError> {
    Discovery::new().client().await
}

async fn read_port_file(path: &Path) -> Outcome {
    let text = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Outcome::Missing,
        Err(err) => return Outcome::Unreadable(err.to_string()),
    };
    let trimmed = String::from_utf8_lossy(&text);
    let trimmed = trimmed.trim();
    match trimmed.parse::<u16>() {
        Ok(port) if port != 0 => Outcome::HoldsPort(port),
        _ => Outcome::NotAPort(excerpt(trimmed.as_bytes())),
    }
}

/// Aborts the connection task when the health check ends or is dropped by its timeout.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `GET /.well-known/health` on an open connection: 200 with a body starting with `ok`.
async fn health_check(stream: TcpStream, authority: String) -> Result<(), String> {
    // Probing is latency-bound; no point in Nagle's delay. Failing to set it changes nothing.
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
            .await
            .map_err(|err| err.to_string())?;
    let _guard = AbortOnDrop(tokio::spawn(async move {
        let _ = connection.await;
    }));
    let request = Request::get(HEALTH_PATH)
        .header(HOST, authority)
        .header(USER_AGENT, DEFAULT_USER_AGENT)
        .body(Empty::new())
        .map_err(|err| err.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|err| format!("GET {HEALTH_PATH}: {err}"))?;
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
            Some(Err(err)) => return Err(format!("GET {HEALTH_PATH}: {err}")),
            None => break,
        }
    }
    if status != StatusCode::OK {
        return Err(format!(
            "GET {HEALTH_PATH} answered {status}: {:?}",
            excerpt(&start)
        ));
    }
    if !start.starts_with(b"ok") {
        return Err(format!(
            "GET {HEALTH_PATH} answered {:?}, not \"ok\"",
            excerpt(&start)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Report(Vec<Finding>);

    impl fmt::Display for Report {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_findings(f, &self.0)
        }
    }

    fn port(step: Step, port: u16, outcome: Outcome) -> Finding {
        Finding {
            step,
            place: Place::Port(port),
            outcome,
        }
    }

    #[test]
    fn runs_of_silent_ports_are_folded_into_ranges() {
        let mut findings = vec![Finding {
            step: Step::PortFile,
            place: Place::Home,
            outcome: Outcome::NoHome,
        }];
        findings.extend((39300..=39310).map(|p| port(Step::Probe, p, Outcome::NotListening)));
        findings.push(port(
            Step::Probe,
            39311,
            Outcome::Unhealthy("status 404".into()),
        ));
        findings.extend((39312..=39333).map(|p| port(Step::Probe, p, Outcome::NotListening)));
        findings.push(port(Step::Legacy, 1000, Outcome::ConnectTimeout));
        findings.push(port(Step::Legacy, 5323, Outcome::NotListening));
        assert_eq!(
            Report(findings).to_string(),
            "home directory: unknown (neither HOME nor USERPROFILE is set); \
             ports 39300-39310: nothing listening; \
             port 39311: answered, but not as a healthy Pieces OS (status 404); \
             ports 39312-39333: nothing listening; \
             port 1000: no connection in time; \
             port 5323: nothing listening"
        );
        assert_eq!(
            Report(Vec::new()).to_string(),
            "nothing (no port file, no ports to probe)"
        );
    }

    #[tokio::test]
    async fn port_files_are_read_strictly() {
        let dir = std::env::temp_dir().join(format!("backups-hyper-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let cases = [
            (" 39301\r\n", Outcome::HoldsPort(39301)),
            ("0", Outcome::NotAPort("0".into())),
            ("70000", Outcome::NotAPort("70000".into())),
            ("", Outcome::NotAPort(String::new())),
        ];
        for (index, (content, expected)) in cases.into_iter().enumerate() {
            let path = dir.join(format!("port-{index}"));
            std::fs::write(&path, content).expect("write");
            assert_eq!(read_port_file(&path).await, expected, "{content:?}");
        }
        assert_eq!(read_port_file(&dir.join("absent")).await, Outcome::Missing);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
