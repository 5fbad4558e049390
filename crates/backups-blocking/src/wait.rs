//! Waiting on the async client's futures on the calling thread.

use std::future::Future;

/// Polls `future` on this thread, parking it between wake-ups, until it is ready.
///
/// The transport's futures do their IO when polled (a plain create or restore on a thread of its
/// own, timers on `futures-timer`'s thread), so nothing here needs a runtime: it works from any
/// thread, a `spawn_blocking` one or a thread inside another runtime included.
pub(crate) fn wait<F: Future>(future: F) -> F::Output {
    pollster::block_on(future)
}
