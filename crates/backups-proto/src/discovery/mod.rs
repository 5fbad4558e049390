//! Finding the port a running Pieces OS listens on, and reporting where discovery looked: the
//! places, their order and the judgements, sans IO.
//!
//! Pieces OS up to 10.1.15 listened on 1000 (Windows, macOS) or 5323 (Linux); current versions
//! take the first free port in 39300 to 39333 and write it to a port file. Like the official
//! wrappers, [`Discovery::locate`] tries, in order:
//! 1. the port in `com.pieces.os/production/Config/.port.txt`, under `~/Library` on macOS and
//!    `~/Documents` elsewhere (the home directory from `HOME`, else `USERPROFILE`);
//! 2. every port of 39300 to 39333 at once: a TCP connect (50 ms), then
//!    `GET /.well-known/health` (100 ms), which must answer 200 with a body starting with `ok`;
//! 3. the legacy ports 1000 and 5323, checked the same way.
//!
//! A port is only taken once its health check passed, so a stale port file does not win.
//!
//! This module holds all of that but the IO: reading a file, connecting and asking for the
//! health check are a [`Probe`]'s, which [`Discovery`] is generic over. The judgements of what
//! a probe read are [`Verdict`]'s constructors ([`Verdict::of_port_file`],
//! [`Verdict::of_connect_error`], [`Verdict::of_health`]), so that every probe reads the same
//! answer the same way. The probes live with the transports: `backups_hyper::discovery` on
//! Tokio and hyper, `backups_blocking::discovery` on `std::net` and `ureq`; each names its
//! `Discovery` type.

use core::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod error;
mod findings;
mod judge;
mod locate;

pub use error::DiscoveryError;
pub use findings::{Finding, Folded, Located, NotFound, Place, Step, Verdict, fold};
pub use judge::{authority, connect_host};
pub use locate::Discovery;

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

/// How much of a health answer a probe needs to read: enough to see `ok` and to quote a wrong
/// answer.
pub const HEALTH_READ_LIMIT: usize = 64;

/// The IO of discovery: what [`Discovery`] asks of the system, and nothing it decides.
///
/// An implementation reads files and sockets with its own runtime (or none) and turns what it
/// read into a [`Verdict`] with [`Verdict`]'s constructors, so that every probe judges alike.
pub trait Probe {
    /// Reads the port file at `path`: [`Verdict::of_port_file`] of the read.
    fn read_port_file(&self, path: &Path) -> impl Future<Output = Verdict> + Send;

    /// Probes every port of `ports` on `host` at once: a TCP connect bounded by `connect`, then
    /// `GET` [`HEALTH_PATH`] bounded by `health` ([`Verdict::Healthy`] or why not). The verdicts
    /// come back in the order of `ports`, one each.
    ///
    /// `host` is as configured (an IPv6 address may be in brackets): connect to it without
    /// them, and send [`authority`]`(host, port)` as the `Host` header.
    fn probe_all(
        &self,
        host: &str,
        ports: &[u16],
        connect: Duration,
        health: Duration,
    ) -> impl Future<Output = Vec<Verdict>> + Send;
}

/// The default port file: `~/Library/com.pieces.os/...` on macOS,
/// `~/Documents/com.pieces.os/...` elsewhere; `None` when no home directory is known (neither
/// `HOME` nor `USERPROFILE` is set).
pub fn default_port_file() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .or_else(|| std::env::var_os("USERPROFILE").filter(|home| !home.is_empty()))?;
    Some(port_file_under(Path::new(&home)))
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
