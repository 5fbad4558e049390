//! Running one piece of work on a few scoped threads: how a create stores files and a restore
//! copies them.

use std::io;

use crate::StoreError;

/// Runs `worker` on `workers` scoped threads and returns each one's result; a thread that
/// panicked counts as an error of `operation`, so the caller cleans up as for any other failure.
pub(crate) fn on_threads<T: Send>(
    workers: usize,
    operation: &str,
    worker: &(dyn Fn() -> Result<T, StoreError> + Sync),
) -> Vec<Result<T, StoreError>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    Err(StoreError::Io {
                        context: operation.into(),
                        source: io::Error::other(format!("a thread of the {operation} panicked")),
                    })
                })
            })
            .collect()
    })
}
