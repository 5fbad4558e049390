//! Running a blocking call on a thread of its own, as a future: for the calls the client races
//! against others (a plain create or restore, watched by its status while it runs).

use std::future::Future;

use futures_channel::oneshot;

use backups_proto::{Error, TransportKind};

/// Runs `work` on a new thread; the future resolves to its result. Dropping the future leaves
/// the thread to finish its call and drop the answer (a blocking read cannot be interrupted).
pub(crate) fn run<T, F>(work: F) -> impl Future<Output = Result<T, Error>> + Send
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, Error> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("backups-blocking-call".into())
        .spawn(move || {
            let _ = tx.send(work());
        });
    async move {
        if let Err(err) = spawned {
            return Err(Error::transport(
                TransportKind::Io,
                format!("cannot start a thread for the call: {err}"),
            ));
        }
        rx.await.unwrap_or_else(|_| {
            Err(Error::transport(
                TransportKind::Io,
                "the thread of the call ended without an answer",
            ))
        })
    }
}
