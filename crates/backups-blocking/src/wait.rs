//! Waiting on a future with a parked thread, and refusing to where that would stall an async
//! runtime.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use backups_proto::Error;

/// Wakes the waiting thread by unparking it.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Whether the calling thread is inside an async (Tokio) runtime: a worker, a `block_on`, a
/// `spawn_blocking` thread or an entered handle.
pub(crate) fn in_async_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// The error of a blocking call made inside an async runtime.
pub(crate) fn refused(what: &str) -> Error {
    Error::InvalidRequest {
        reason: format!(
            "backups_blocking::{what} was called inside an async (Tokio) runtime, where blocking \
             would stall the runtime (and can deadlock it); use backups_hyper::BackupsClient and \
             `.await` there, or call the blocking client from a thread without a runtime"
        ),
    }
}

/// Refuses inside an async runtime, with [`refused`].
pub(crate) fn check(what: &str) -> Result<(), Error> {
    if in_async_runtime() {
        Err(refused(what))
    } else {
        Ok(())
    }
}

/// Polls `future` on this thread, parking it between wake-ups, until it is ready. The futures of
/// this crate wait only on the runtime thread's channels, which any waker can wait on.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// [`check`], then [`block_on`] of a fallible future.
pub(crate) fn wait<T>(
    what: &str,
    future: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    check(what)?;
    block_on(future)
}
