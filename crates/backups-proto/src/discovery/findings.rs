//! What discovery found at each place it looked, and how it says so: the steps, the places,
//! the verdicts, and the error when nothing answered.

use core::fmt;
use std::path::PathBuf;

use crate::{BaseUrl, Error, TransportKind};

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

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PortFile => "port file",
            Self::Probe => "port scan",
            Self::Legacy => "legacy ports",
        })
    }
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

/// What discovery found at a place: its verdict on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verdict {
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

impl fmt::Display for Verdict {
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
    pub verdict: Verdict,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.verdict)
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

/// No healthy Pieces OS at any place discovery looked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotFound {
    /// The host the ports were probed on.
    pub host: String,
    /// Every place looked at, in order, and what each held.
    pub findings: Vec<Finding>,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no running Pieces OS found on {} (is it started?); looked at: ",
            self.host
        )?;
        write_findings(f, &self.findings)
    }
}

impl std::error::Error for NotFound {}

/// Lets `?` turn a failed discovery into the SDK's error: not finding Pieces OS is a failure to
/// connect, nothing having been sent.
impl From<NotFound> for Error {
    fn from(err: NotFound) -> Self {
        Error::transport(TransportKind::Connect, err)
    }
}

/// Consecutive findings of one step with one verdict, as a report shows them: the 34 silent
/// ports of a scan are one line, not 34. [`fold`] makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Folded<'a> {
    /// The step of every finding folded in.
    pub step: Step,
    /// The first place.
    pub place: &'a Place,
    /// When ports were folded, the last one (`place` is the first).
    pub last_port: Option<u16>,
    /// What every place held.
    pub verdict: &'a Verdict,
}

impl fmt::Display for Folded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.place, self.last_port) {
            (Place::Port(first), Some(last)) => write!(f, "ports {first}-{last}: {}", self.verdict),
            (place, _) => write!(f, "{place}: {}", self.verdict),
        }
    }
}

/// `findings` in order, each run of consecutive ports of one step with the same verdict folded
/// into a range.
pub fn fold(findings: &[Finding]) -> Vec<Folded<'_>> {
    let mut folded: Vec<Folded<'_>> = Vec::new();
    for finding in findings {
        if let (Some(last), Place::Port(port)) = (folded.last_mut(), &finding.place) {
            let end = match (last.place, last.last_port) {
                (Place::Port(first), None) => Some(*first),
                (Place::Port(_), Some(end)) => Some(end),
                _ => None,
            };
            let follows = end.is_some_and(|end| Some(*port) == end.checked_add(1));
            if follows && last.step == finding.step && *last.verdict == finding.verdict {
                last.last_port = Some(*port);
                continue;
            }
        }
        folded.push(Folded {
            step: finding.step,
            place: &finding.place,
            last_port: None,
            verdict: &finding.verdict,
        });
    }
    folded
}

/// Writes findings separated by `; `, folded as [`fold`] does.
fn write_findings(f: &mut fmt::Formatter<'_>, findings: &[Finding]) -> fmt::Result {
    let folded = fold(findings);
    if folded.is_empty() {
        return f.write_str("nothing (no port file, no ports to probe)");
    }
    for (index, run) in folded.iter().enumerate() {
        if index > 0 {
            f.write_str("; ")?;
        }
        write!(f, "{run}")?;
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
}
