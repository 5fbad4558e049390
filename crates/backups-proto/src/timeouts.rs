//! [`Timeouts`]: the three bounds every transport of this SDK applies, and their defaults.

use std::time::Duration;

/// The default time allowed to open a TCP connection: 5 s. Pieces OS runs on the same machine,
/// so a connection that takes longer is not going to come.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The default time allowed for a whole plain call, headers and body: 120 s.
///
/// It never bounds a plain create or restore ([`Operation::runs_long`](crate::Operation::runs_long)), which answers only once
/// its work is done (the client watches a restore by its status instead), nor a progress stream
/// once its headers have arrived (the idle timeout bounds its silences).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The default longest silence between two chunks of a progress stream: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The timeouts of a transport: connecting, a whole plain call, and the silence allowed
/// inside a progress stream or socket. `backups-hyper` and `backups-blocking` take them.
///
/// ```
/// use std::time::Duration;
/// use backups_proto::Timeouts;
///
/// let timeouts = Timeouts::default().with_request(Duration::from_secs(10));
/// assert_eq!(timeouts.request(), Duration::from_secs(10));
/// assert_eq!(timeouts.connect(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    connect: Duration,
    request: Duration,
    idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: DEFAULT_CONNECT_TIMEOUT,
            request: DEFAULT_REQUEST_TIMEOUT,
            idle: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

impl Timeouts {
    /// Sets the time allowed to open one TCP connection ([`TimeoutKind::Connect`](crate::TimeoutKind::Connect)).
    pub fn with_connect(mut self, connect: Duration) -> Self {
        self.connect = connect;
        self
    }

    /// Sets the time allowed for a whole call: retries and headers, and for a plain call the
    /// body too ([`TimeoutKind::Request`](crate::TimeoutKind::Request)).
    pub fn with_request(mut self, request: Duration) -> Self {
        self.request = request;
        self
    }

    /// Sets the longest silence between two chunks of a progress stream
    /// ([`TimeoutKind::Idle`](crate::TimeoutKind::Idle)).
    pub fn with_idle(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// The connect timeout.
    pub fn connect(&self) -> Duration {
        self.connect
    }

    /// The request timeout.
    pub fn request(&self) -> Duration {
        self.request
    }

    /// The idle timeout of streams.
    pub fn idle(&self) -> Duration {
        self.idle
    }
}
