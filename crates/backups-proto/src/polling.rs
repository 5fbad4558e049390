//! [`Polling`]: how the client follows a create or restore by its status, and [`Locate`]:
//! finding a Pieces OS that restarted on another port.

use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::BaseUrl;

/// How the client follows a create or restore by its status: after its stream or its plain call
/// broke, and alongside a plain restore.
///
/// The defaults bound how long a dead Pieces OS is waited for, never how long a working one may
/// take: while the status endpoint answers that the operation runs, it is followed at any length
/// of silence.
///
/// ```
/// use std::time::Duration;
/// use backups_proto::Polling;
///
/// let polling = Polling::default().with_deadline(Some(Duration::from_secs(3600)));
/// assert_eq!(polling.unanswered, Duration::from_secs(60));
/// assert_eq!(polling.deadline, Some(Duration::from_secs(3600)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Polling {
    /// The wait between two polls while the status answers (default 500 ms); also how often a
    /// plain restore's status is asked alongside the call.
    pub interval: Duration,
    /// The longest wait between two polls while the status does not answer: the waits double
    /// from `interval` up to this (default 5 s).
    pub max_backoff: Duration,
    /// How long one poll may take (default 10 s); a poll that takes longer counts as unanswered.
    pub poll_timeout: Duration,
    /// How long the status may go unanswered, counted in waits between polls and polls that
    /// timed out, before following fails with [`TimeoutKind::Unanswered`](crate::TimeoutKind::Unanswered) (default 60 s).
    pub unanswered: Duration,
    /// A cap on a whole create or restore followed by this client, [`TimeoutKind::Deadline`](crate::TimeoutKind::Deadline)
    /// when it runs out; `None` (the default) for none: a restore may take as long as it takes.
    pub deadline: Option<Duration>,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
            poll_timeout: Duration::from_secs(10),
            unanswered: Duration::from_secs(60),
            deadline: None,
        }
    }
}

impl Polling {
    /// Sets the wait between two polls.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the longest wait between two unanswered polls.
    pub fn with_max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// Sets how long one poll may take.
    pub fn with_poll_timeout(mut self, poll_timeout: Duration) -> Self {
        self.poll_timeout = poll_timeout;
        self
    }

    /// Sets how long the status may go unanswered.
    pub fn with_unanswered(mut self, unanswered: Duration) -> Self {
        self.unanswered = unanswered;
        self
    }

    /// Sets (or with `None` removes) the cap on a whole create or restore.
    pub fn with_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// The longest a dead Pieces OS is waited for once the connection is lost: every poll
    /// unanswered, each timing out (the worst case), until [`unanswered`](Self::unanswered)
    /// is reached. A bound for documentation and for callers' own timers.
    pub fn give_up_bound(&self) -> Duration {
        self.unanswered + self.poll_timeout + self.max_backoff
    }

    /// The wait after `previous` when the status did not answer.
    pub(crate) fn backoff(&self, previous: Duration) -> Duration {
        if previous < self.interval {
            self.interval
        } else {
            (previous * 2).min(self.max_backoff.max(self.interval))
        }
    }
}

/// The future a [`Locate`] answers with.
pub type LocateFuture<'a> = Pin<Box<dyn Future<Output = Option<BaseUrl>> + Send + 'a>>;

/// Finds Pieces OS again after the connection to it failed while an operation was followed: a
/// Pieces OS that restarted may listen on another port of its range.
///
/// `backups-hyper` gives a client made by discovery one that looks where discovery looks (the
/// port file first, then the scan). The client bounds each call by [`Polling::poll_timeout`]
/// and calls it only after a poll could not connect.
pub trait Locate: Send + Sync + fmt::Debug {
    /// Where a healthy Pieces OS answers now, or `None` when none is found.
    fn locate(&self) -> LocateFuture<'_>;
}
