//! [`Discovery`]: where to look, for how long, and in which order, over any [`Probe`].

use core::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{
    DEFAULT_HEALTH_TIMEOUT, DEFAULT_PROBE_CONNECT_TIMEOUT, Finding, LEGACY_PORTS, Located,
    NotFound, PROBE_PORT_FIRST, PROBE_PORT_LAST, Place, Probe, Step, Verdict, authority,
};
use crate::{BaseUrl, Locate, LocateFuture};

/// Finds a running Pieces OS, configurably, with the IO of the probe `P`.
///
/// The transports name their own: `backups_hyper::discovery::Discovery` (Tokio and hyper) and
/// `backups_blocking::discovery::Discovery` (`std::net` and `ureq`). Here with a probe that
/// reads the answers from a table, which shows the order discovery looks in:
///
/// ```
/// use std::future::{Future, ready};
/// use std::path::Path;
/// use std::time::Duration;
/// use backups_proto::discovery::{Discovery, Probe, Step, Verdict};
///
/// /// Pieces OS on 39302 only; no port file.
/// #[derive(Debug, Default)]
/// struct Table;
///
/// impl Probe for Table {
///     fn read_port_file(&self, _: &Path) -> impl Future<Output = Verdict> + Send {
///         ready(Verdict::Missing)
///     }
///     fn probe_all(&self, _: &str, ports: &[u16], _: Duration, _: Duration)
///         -> impl Future<Output = Vec<Verdict>> + Send {
///         let verdict = |port| match port {
///             39302 => Verdict::Healthy,
///             _ => Verdict::NotListening,
///         };
///         ready(ports.iter().copied().map(verdict).collect())
///     }
/// }
///
/// let discovery = Discovery::<Table>::new().port_file("/nowhere/.port.txt");
/// // The table's futures are ready at once, so one poll runs the whole discovery.
/// let mut locate = std::pin::pin!(discovery.locate());
/// let mut context = std::task::Context::from_waker(std::task::Waker::noop());
/// let std::task::Poll::Ready(Ok(located)) = locate.as_mut().poll(&mut context) else {
///     panic!("not found");
/// };
/// assert_eq!((located.port, located.step), (39302, Step::Probe));
/// assert_eq!(located.base_url.to_string(), "http://127.0.0.1:39302");
/// // The port file, then the 34 ports of the range, all probed at once.
/// assert_eq!(located.findings.len(), 1 + 34);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Discovery<P> {
    host: String,
    port_files: Option<Vec<PathBuf>>,
    probe_ports: Vec<u16>,
    legacy_ports: Vec<u16>,
    connect_timeout: Duration,
    health_timeout: Duration,
    probe: P,
}

impl<P: Default> Default for Discovery<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Default> Discovery<P> {
    /// Discovery as wire.md describes it, on `127.0.0.1`, with the default probe.
    ///
    /// The IPv4 loopback address is used rather than `localhost` so that 34 probes do not each
    /// resolve a name, and do not try `::1` first where Pieces OS does not listen.
    pub fn new() -> Self {
        Self::with_probe(P::default())
    }
}

impl<P> Discovery<P> {
    /// Discovery as [`new`](Self::new) sets it up, doing its IO with `probe`.
    pub fn with_probe(probe: P) -> Self {
        Self {
            host: "127.0.0.1".into(),
            port_files: None,
            probe_ports: (PROBE_PORT_FIRST..=PROBE_PORT_LAST).collect(),
            legacy_ports: LEGACY_PORTS.to_vec(),
            connect_timeout: DEFAULT_PROBE_CONNECT_TIMEOUT,
            health_timeout: DEFAULT_HEALTH_TIMEOUT,
            probe,
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
    pub fn port_files<Q: Into<PathBuf>>(mut self, paths: impl IntoIterator<Item = Q>) -> Self {
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

    /// The probe that does the IO.
    pub fn probe(&self) -> &P {
        &self.probe
    }

    /// The default port file: `~/Library/com.pieces.os/...` on macOS,
    /// `~/Documents/com.pieces.os/...` elsewhere; `None` when no home directory is known.
    pub fn default_port_file() -> Option<PathBuf> {
        super::default_port_file()
    }

    /// Where the port file is under the home directory `home`, on this platform.
    pub fn port_file_under(home: &Path) -> PathBuf {
        super::port_file_under(home)
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
        format!("http://{}", authority(&self.host, port))
            .parse()
            .ok()
    }

    /// One verdict per port of `ports`: a probe that answers fewer leaves the rest with a
    /// verdict saying so, rather than a panic or a port taken unchecked.
    async fn probe_all(&self, ports: &[u16]) -> Vec<(u16, Verdict)>
    where
        P: Probe,
    {
        let mut verdicts = self
            .probe
            .probe_all(&self.host, ports, self.connect_timeout, self.health_timeout)
            .await
            .into_iter();
        ports
            .iter()
            .map(|&port| {
                let verdict = verdicts
                    .next()
                    .unwrap_or_else(|| Verdict::ConnectFailed("probe did not run".into()));
                (port, verdict)
            })
            .collect()
    }
}

impl<P: Probe> Discovery<P> {
    /// Finds a healthy Pieces OS; says where it is and how it was found.
    pub async fn locate(&self) -> Result<Located, NotFound> {
        let mut findings = Vec::new();

        // 1. The port file(s).
        let port_files = match &self.port_files {
            Some(paths) => paths.clone(),
            None => match super::default_port_file() {
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
            let verdict = self.probe.read_port_file(&path).await;
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
                for (port, verdict) in self.probe_all(&[port]).await {
                    if let Some(base_url) =
                        self.record(&mut findings, Step::PortFile, port, verdict)
                    {
                        return Ok(Located {
                            base_url,
                            port,
                            step: Step::PortFile,
                            findings,
                        });
                    }
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
            let mut found = None;
            for (port, verdict) in self.probe_all(ports).await {
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
}

/// Finding Pieces OS again while an operation is followed, where this discovery looks (the port
/// file first, then the scan): a Pieces OS that restarted on another port is found again.
impl<P: Probe + fmt::Debug + Send + Sync> Locate for Discovery<P> {
    fn locate(&self) -> LocateFuture<'_> {
        Box::pin(async move {
            Discovery::locate(self)
                .await
                .ok()
                .map(|located| located.base_url)
        })
    }
}
