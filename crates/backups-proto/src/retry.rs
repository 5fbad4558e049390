//! [`RetryPolicy`]: when and how often [`Client`](crate::Client) sends a failed call again, and
//! [`Attempt`], which attempt a request is.

use std::time::Duration;

use crate::{Error, Operation};

/// When a failed call is sent again by [`Client`](crate::Client), and how long to wait in
/// between. The client retries over any [`Transport`](crate::Transport) that has a timer
/// ([`Transport::sleep`](crate::Transport::sleep)); without one, a failure is final.
///
/// Only an idempotent operation ([`Operation::is_idempotent`]: list, get, the status reads) is
/// retried, and only when no connection could be opened ([`Error::is_connect`]): then nothing of
/// the request reached the server. A POST is never resent by this policy, because a create sent
/// twice makes two backups.
///
/// (Independently of this policy, a transport may resend a request that was never written, as
/// hyper-util does when the pooled connection it was queued on turned out to be closed; that is
/// safe for every operation, since not one byte left the machine.)
///
/// The wait before attempt `n + 1` is `base_delay * 2^(n - 1)`, capped at `max_delay`. Each
/// attempt is bounded by the transport's own timeouts (the connect timeout, for an attempt that
/// cannot connect).
///
/// ```
/// use std::time::Duration;
/// use backups_proto::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_attempts(), 3);
/// assert_eq!(policy.delay_after(1), Some(Duration::from_millis(50)));
/// assert_eq!(policy.delay_after(2), Some(Duration::from_millis(100)));
/// assert_eq!(policy.delay_after(3), None);
/// assert_eq!(RetryPolicy::none().delay_after(1), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts in all, waiting 50 ms then 100 ms (capped at 1 s).
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The default delays with `max_attempts` attempts in all (the first one included; 0 is
    /// read as 1).
    pub fn new(max_attempts: u32) -> Self {
        Self::default().with_max_attempts(max_attempts)
    }

    /// Sets how many attempts are made in all, the first included (0 is read as 1).
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Sets the wait before the first retry; later waits double.
    pub fn with_base_delay(mut self, base_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self
    }

    /// Sets the longest wait between two attempts.
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// How many attempts are made in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before the first retry.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The longest wait between two attempts.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The wait after attempt number `attempt` (counting from 1) failed, or `None` when that was
    /// the last one allowed.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        if attempt == 0 || attempt >= self.max_attempts {
            return None;
        }
        // Doubling saturates instead of overflowing, so a large attempt count is harmless.
        let factor = 1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX);
        Some(
            self.base_delay
                .checked_mul(factor)
                .unwrap_or(self.max_delay)
                .min(self.max_delay),
        )
    }

    /// Whether a call of `operation` that failed with `error` may be sent again.
    pub fn allows(&self, operation: Option<Operation>, error: &Error) -> bool {
        operation.is_some_and(Operation::is_idempotent) && error.is_connect()
    }
}

/// Which attempt a request is, in the request's extensions: [`Client`](crate::Client) puts
/// `Attempt(2)` on the first retry, `Attempt(3)` on the next, and nothing on a first attempt, so
/// that a transport can report retries (`backups-hyper` records it in its call span).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Attempt(pub u32);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TimeoutKind, TransportKind};

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy::new(40)
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_millis(350));
        let delays: Vec<_> = (1..=5).map(|n| policy.delay_after(n)).collect();
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(delays, [ms(100), ms(200), ms(350), ms(350), ms(350)]);
        assert_eq!(policy.delay_after(39), ms(350));
        assert_eq!(policy.delay_after(40), None);
        assert_eq!(RetryPolicy::new(0).max_attempts(), 1);
    }

    #[test]
    fn only_idempotent_connect_failures_are_retried() {
        let policy = RetryPolicy::default();
        let refused = Error::transport(TransportKind::Connect, "refused");
        let cut = Error::transport(TransportKind::Io, "reset");
        let connect_timeout = Error::timeout(TimeoutKind::Connect);
        let request_timeout = Error::timeout(TimeoutKind::Request);
        assert!(policy.allows(Some(Operation::List), &refused));
        assert!(policy.allows(Some(Operation::List), &connect_timeout));
        assert!(!policy.allows(Some(Operation::List), &cut));
        assert!(!policy.allows(Some(Operation::List), &request_timeout));
        for op in [
            Operation::Create,
            Operation::CreateStreamed,
            Operation::Delete,
        ] {
            assert!(!policy.allows(Some(op), &refused), "{op}");
        }
        assert!(!policy.allows(None, &refused));
    }
}
