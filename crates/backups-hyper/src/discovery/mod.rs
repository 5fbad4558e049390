//! Finding the port a running Pieces OS listens on, and reporting where discovery looked.
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

use backups_proto::{BaseUrl, DEFAULT_USER_AGENT, excerpt};

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

mod findings;

pub use findings::{Finding, Folded, Located, NotFound, Place, Step, Verdict, fold};

/// Finds a running Pieces OS, configurably; [`BackupsClient::discover`] and
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
#[derive(Debug, Clone)]
#[must_use]
pub struct Discovery {
    host: String,
    port_files: Option<Vec<PathBuf>>,
    probe_ports: Vec<u16>,
    legacy_ports: Vec<u16>,
    connect_timeout: Duration,
    health_timeout: Duration,
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

    /// Finds a healthy Pieces OS; says where it is and how it was found.
    pub async fn locate(&self) -> Result<Located, NotFound> {
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
                        verdict: Verdict::NoHome,
                    });
                    Vec::new()
                }
            },
        };
        for path in port_files {
            let verdict = read_port_file(&path).await;
            let port = match verdict {
                Verdict::HoldsPort(port) => Some(port),
                _ => None,
            };
            findings.push(Finding {
                step: Step::PortFile,
                place: Place::PortFile(path),
                verdict,
            });
            if let Some(port) = port {
                let verdict = self.probe(port).await;
                if let Some(base_url) = self.record(&mut findings, Step::PortFile, port, verdict) {
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
            let verdicts = self.probe_all(ports).await;
            let mut found = None;
            for (port, verdict) in verdicts {
                if let Some(base_url) = self.record(&mut findings, step, port, verdict) {
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

        Err(NotFound {
            host: self.host.clone(),
            findings,
        })
    }

    /// Records a probe's verdict; for a healthy port, returns its base URL.
    fn record(
        &self,
        findings: &mut Vec<Finding>,
        step: Step,
        port: u16,
        verdict: Verdict,
    ) -> Option<BaseUrl> {
        let healthy = verdict == Verdict::Healthy;
        findings.push(Finding {
            step,
            place: Place::Port(port),
            verdict,
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

    /// Probes `ports` concurrently; the verdicts come back in the order of `ports`.
    async fn probe_all(&self, ports: &[u16]) -> Vec<(u16, Verdict)> {
        let mut set = JoinSet::new();
        for (index, &port) in ports.iter().enumerate() {
            let this = self.clone();
            set.spawn(async move { (index, this.probe(port).await) });
        }
        let mut verdicts: Vec<(u16, Verdict)> = ports
            .iter()
            .map(|&port| (port, Verdict::ConnectFailed("probe did not run".into())))
            .collect();
        while let Some(joined) = set.join_next().await {
            // A probe task cannot panic on bad input; if one did, its port keeps the
            // "did not run" verdict rather than failing the whole discovery.
            if let Ok((index, verdict)) = joined {
                verdicts[index].1 = verdict;
            }
        }
        verdicts
    }

    /// Connects to `port`, then checks its health.
    async fn probe(&self, port: u16) -> Verdict {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let connect = TcpStream::connect((host, port));
        let stream = match tokio::time::timeout(self.connect_timeout, connect).await {
            Err(_) => return Verdict::ConnectTimeout,
            Ok(Err(err)) if err.kind() == io::ErrorKind::ConnectionRefused => {
                return Verdict::NotListening;
            }
            Ok(Err(err)) => return Verdict::ConnectFailed(err.to_string()),
            Ok(Ok(stream)) => stream,
        };
        let authority = match self.base_url(port) {
            Some(base) => base.authority().to_string(),
            None => format!("{host}:{port}"),
        };
        let check = health_check(stream, authority);
        match tokio::time::timeout(self.health_timeout, check).await {
            Err(_) => Verdict::Unhealthy(format!(
                "no answer to GET {HEALTH_PATH} within {} ms",
                self.health_timeout.as_millis()
            )),
            Ok(Err(why)) => Verdict::Unhealthy(why),
            Ok(Ok(())) => Verdict::Healthy,
        }
    }
}

async fn read_port_file(path: &Path) -> Verdict {
    let text = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Verdict::Missing,
        Err(err) => return Verdict::Unreadable(err.to_string()),
    };
    let trimmed = String::from_utf8_lossy(&text);
    let trimmed = trimmed.trim();
    match trimmed.parse::<u16>() {
        Ok(port) if port != 0 => Verdict::HoldsPort(port),
        _ => Verdict::NotAPort(excerpt(trimmed.as_bytes())),
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

/// Finding Pieces OS again while an operation is followed, where this discovery looks (the port
/// file first, then the scan): a Pieces OS that restarted on another port is found again.
impl backups_proto::Locate for Discovery {
    fn locate(&self) -> backups_proto::LocateFuture<'_> {
        Box::pin(async move {
            Discovery::locate(self)
                .await
                .ok()
                .map(|located| located.base_url)
        })
    }
}

#[cfg(test)]
mod tests {
    use core::fmt;

    use super::findings::write_findings;
    use super::*;

    struct Report(Vec<Finding>);

    impl fmt::Display for Report {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_findings(f, &self.0)
        }
    }

    fn port(step: Step, port: u16, verdict: Verdict) -> Finding {
        Finding {
            step,
            place: Place::Port(port),
            verdict,
        }
    }

    #[test]
    fn runs_of_silent_ports_are_folded_into_ranges() {
        let mut findings = vec![Finding {
            step: Step::PortFile,
            place: Place::Home,
            verdict: Verdict::NoHome,
        }];
        findings.extend((39300..=39310).map(|p| port(Step::Probe, p, Verdict::NotListening)));
        findings.push(port(
            Step::Probe,
            39311,
            Verdict::Unhealthy("status 404".into()),
        ));
        findings.extend((39312..=39333).map(|p| port(Step::Probe, p, Verdict::NotListening)));
        findings.push(port(Step::Legacy, 1000, Verdict::ConnectTimeout));
        findings.push(port(Step::Legacy, 5323, Verdict::NotListening));
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

    #[test]
    fn fold_keeps_steps_apart_and_names_each_run_s_last_port() {
        let mut findings: Vec<Finding> = (39332..=39333)
            .map(|p| port(Step::Probe, p, Verdict::NotListening))
            .collect();
        // Consecutive with 39333 and as silent, but of another step: not folded in.
        findings.push(port(Step::Legacy, 39334, Verdict::NotListening));
        let folded = fold(&findings);
        assert_eq!(folded.len(), 2);
        assert_eq!(
            (folded[0].step, folded[0].place, folded[0].last_port),
            (Step::Probe, &Place::Port(39332), Some(39333))
        );
        assert_eq!(folded[1].last_port, None);
        assert_eq!(folded[1].to_string(), "port 39334: nothing listening");
        assert_eq!(Step::Legacy.to_string(), "legacy ports");
    }

    #[tokio::test]
    async fn port_files_are_read_strictly() {
        let dir = std::env::temp_dir().join(format!("backups-hyper-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let cases = [
            (" 39301\r\n", Verdict::HoldsPort(39301)),
            ("0", Verdict::NotAPort("0".into())),
            ("70000", Verdict::NotAPort("70000".into())),
            ("", Verdict::NotAPort(String::new())),
        ];
        for (index, (content, expected)) in cases.into_iter().enumerate() {
            let path = dir.join(format!("port-{index}"));
            std::fs::write(&path, content).expect("write");
            assert_eq!(read_port_file(&path).await, expected, "{content:?}");
        }
        assert_eq!(read_port_file(&dir.join("absent")).await, Verdict::Missing);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
