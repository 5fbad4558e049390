//! The `tracing` span of one call, and the event that closes it: what every transport of this
//! SDK records (feature `tracing`), so that a call looks the same in a trace whichever sends it.
//!
//! The span is `backups_call` at INFO, with `operation`, `method`, `path`, `attempt`, and once
//! known `status`, `duration_ms` and `error`; an event at its end says how it went.

use std::time::Instant;

use tracing::Span;
use tracing::field::Empty;

use crate::{Error, Operation};

/// One call's span: opened when the request leaves, closed when its body ends, fails or is
/// dropped, so that `duration_ms` covers the whole exchange, streamed bodies included.
#[derive(Debug)]
pub struct CallTrace {
    span: Span,
    start: Instant,
    done: bool,
}

impl CallTrace {
    /// The span of `attempt` (1 for a first one) of a call of `operation`; a later attempt
    /// also says `retrying` in it.
    pub fn new(
        operation: Option<Operation>,
        attempt: u32,
        method: &http::Method,
        path: &str,
    ) -> Self {
        let span = tracing::info_span!(
            "backups_call",
            operation = operation.map_or("unknown", Operation::name),
            method = %method,
            path,
            status = Empty,
            attempt,
            duration_ms = Empty,
            error = Empty,
        );
        if attempt > 1 {
            tracing::debug!(parent: &span, attempt, "retrying");
        }
        Self {
            span,
            start: Instant::now(),
            done: false,
        }
    }

    /// The span, to enter while the call runs.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Records the answer's status.
    pub fn record_head(&self, status: http::StatusCode) {
        self.span.record("status", status.as_u16());
    }

    /// Records the outcome once; later calls do nothing.
    pub fn finish(&mut self, outcome: Result<(), &Error>) {
        if self.done {
            return;
        }
        self.done = true;
        let duration_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.span.record("duration_ms", duration_ms);
        match outcome {
            Ok(()) => {
                tracing::info!(parent: &self.span, duration_ms, "backups call finished");
            }
            Err(error) => {
                self.span.record("error", tracing::field::display(error));
                tracing::info!(parent: &self.span, duration_ms, %error, "backups call failed");
            }
        }
    }
}

impl Drop for CallTrace {
    fn drop(&mut self) {
        if !self.done {
            // The caller stopped reading before the end (or never read the body): still close
            // the record with how long the call lasted.
            self.done = true;
            let duration_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.span.record("duration_ms", duration_ms);
            tracing::debug!(parent: &self.span, duration_ms, "backups call body dropped before its end");
        }
    }
}
