//! [`HyperBody`]: hyper's response body with the SDK's timeouts and error mapping.

use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use backups_proto::{Error, Operation, TimeoutKind};

use crate::errors::from_body_error;
use backups_proto::trace::CallTrace;

/// The body of a response received by [`HyperTransport`](crate::HyperTransport).
///
/// It reads hyper's body and adds what hyper does not do:
/// - a plain call's body must be complete before the request deadline, or it ends with
///   [`Error::Timeout`] of kind [`TimeoutKind::Request`];
/// - a progress stream (see [`Operation::is_streamed`]) has no deadline, but fails with
///   [`TimeoutKind::Idle`] when no chunk comes for longer than the idle timeout;
/// - a connection closed before the body was complete is [`Error::Truncated`], other failures
///   are [`Error::Transport`] of kind [`Io`](backups_proto::TransportKind::Io).
///
/// After an error, the body ends.
pub struct HyperBody {
    inner: Incoming,
    operation: Option<Operation>,
    timer: Option<Timer>,
    finished: bool,
    trace: CallTrace,
}

struct Timer {
    /// Armed the first time the body has to wait: a body that is already there (the common
    /// case for a small response) costs no timer.
    sleep: Option<Pin<Box<Sleep>>>,
    /// When the timer fires if nothing comes first.
    deadline: Instant,
    /// `Some` for an idle timeout, rearmed after each frame; `None` for a fixed deadline.
    idle: Option<Duration>,
}

impl HyperBody {
    /// A body whose reading ends at `deadline`.
    pub(crate) fn with_deadline(
        inner: Incoming,
        operation: Option<Operation>,
        deadline: Instant,
        trace: CallTrace,
    ) -> Self {
        Self::new(
            inner,
            operation,
            Timer {
                sleep: None,
                deadline,
                idle: None,
            },
            trace,
        )
    }

    /// A body that may be silent for at most `idle` between two chunks.
    pub(crate) fn with_idle_timeout(
        inner: Incoming,
        operation: Option<Operation>,
        idle: Duration,
        trace: CallTrace,
    ) -> Self {
        Self::new(
            inner,
            operation,
            Timer {
                sleep: None,
                deadline: after(idle),
                idle: Some(idle),
            },
            trace,
        )
    }

    fn new(inner: Incoming, operation: Option<Operation>, timer: Timer, trace: CallTrace) -> Self {
        Self {
            inner,
            operation,
            timer: Some(timer),
            finished: false,
            trace,
        }
    }

    /// The call's trace, for a socket that outlives the handshake's (empty) body.
    #[cfg(feature = "websocket")]
    pub(crate) fn into_trace(self) -> CallTrace {
        self.trace
    }

    fn fail(&mut self, error: Error) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        self.finished = true;
        self.timer = None;
        self.trace.finish(Err(&error));
        Poll::Ready(Some(Err(error)))
    }
}

impl Body for HyperBody {
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
        // The body is polled before the timer, so data that is already there always wins.
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(Timer {
                    sleep,
                    deadline,
                    idle: Some(idle),
                }) = this.timer.as_mut()
                {
                    *deadline = after(*idle);
                    if let Some(sleep) = sleep {
                        sleep.as_mut().reset(*deadline);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                let error = from_body_error(error, this.operation);
                this.fail(error)
            }
            Poll::Ready(None) => {
                this.finished = true;
                this.timer = None;
                this.trace.finish(Ok(()));
                Poll::Ready(None)
            }
            Poll::Pending => {
                let Some(timer) = this.timer.as_mut() else {
                    return Poll::Pending;
                };
                let deadline = timer.deadline;
                let sleep = timer
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let kind = if timer.idle.is_some() {
                    TimeoutKind::Idle
                } else {
                    TimeoutKind::Request
                };
                let mut error = Error::timeout(kind);
                if let Some(op) = this.operation {
                    error = error.with_operation(op);
                }
                this.fail(error)
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

/// The instant `duration` from now; a duration too large to add (such as `Duration::MAX`, for
/// "no timeout") gives a point decades away instead of panicking on overflow.
pub(crate) fn after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .or_else(|| now.checked_add(Duration::from_secs(60 * 60 * 24 * 365 * 30)))
        .unwrap_or(now)
}

impl fmt::Debug for HyperBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperBody")
            .field("operation", &self.operation)
            .field("idle_timeout", &self.timer.as_ref().and_then(|t| t.idle))
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
