//! [`ReqwestBody`]: reqwest's response body with the SDK's timeouts and error mapping.

use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use backups_proto::{Error, Operation, TimeoutKind};

use crate::errors::from_body_error;

/// The body of a response received by [`ReqwestTransport`](crate::ReqwestTransport).
///
/// It reads reqwest's body and bounds it as the SDK's transport contract asks:
/// - a plain call's body must be complete before the request deadline, or it ends with
///   [`Error::Timeout`] of kind [`TimeoutKind::Request`];
/// - a progress stream ([`Operation::is_streamed`]) has no deadline, but ends with
///   [`TimeoutKind::Idle`] when no chunk comes for longer than the idle timeout;
/// - a connection closed before the body was complete is [`Error::Truncated`]; other failures
///   are [`Error::Transport`] of kind [`Io`](backups_proto::TransportKind::Io).
///
/// After an error, the body ends.
pub struct ReqwestBody {
    inner: reqwest::Body,
    operation: Option<Operation>,
    /// `Some` for an idle timeout, which moves after each chunk; `None` for a fixed deadline.
    idle: Option<Duration>,
    deadline: Instant,
    /// Armed the first time the body has to wait: a small body that is already there costs no
    /// timer.
    sleep: Option<Pin<Box<Sleep>>>,
    finished: bool,
}

impl ReqwestBody {
    /// A body whose reading ends at `deadline`.
    pub(crate) fn with_deadline(
        inner: reqwest::Body,
        operation: Option<Operation>,
        deadline: Instant,
    ) -> Self {
        Self {
            inner,
            operation,
            idle: None,
            deadline,
            sleep: None,
            finished: false,
        }
    }

    /// A body that may be silent for at most `idle` between two chunks.
    pub(crate) fn with_idle_timeout(
        inner: reqwest::Body,
        operation: Option<Operation>,
        idle: Duration,
    ) -> Self {
        Self {
            inner,
            operation,
            idle: Some(idle),
            deadline: after(idle),
            sleep: None,
            finished: false,
        }
    }

    fn end(
        &mut self,
        item: Option<Result<Frame<Bytes>, Error>>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        self.finished = true;
        self.sleep = None;
        Poll::Ready(item)
    }
}

impl Body for ReqwestBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        // The body before the timer, so that data already there always wins.
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(idle) = this.idle {
                    this.deadline = after(idle);
                    if let Some(sleep) = this.sleep.as_mut() {
                        sleep.as_mut().reset(this.deadline);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                let error = from_body_error(error, this.operation, this.idle.is_some());
                this.end(Some(Err(error)))
            }
            Poll::Ready(None) => this.end(None),
            Poll::Pending => {
                let deadline = this.deadline;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let kind = if this.idle.is_some() {
                    TimeoutKind::Idle
                } else {
                    TimeoutKind::Request
                };
                let error = Error::timeout(kind).with_operation(this.operation);
                this.end(Some(Err(error)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.finished {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        }
    }
}

impl fmt::Debug for ReqwestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestBody")
            .field("operation", &self.operation)
            .field("idle_timeout", &self.idle)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// The instant `duration` from now; a duration too large to add (`Duration::MAX`, for "no
/// timeout") gives a point decades away instead of panicking on overflow.
pub(crate) fn after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .or_else(|| now.checked_add(FAR_AWAY))
        .unwrap_or(now)
}

/// "Never", as a duration every clock can add: about 30 years.
pub(crate) const FAR_AWAY: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);
