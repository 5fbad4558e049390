//! Turning `--host`, `PIECES_OS_URL` and `--timeout` into a client.

use std::time::Duration;

use backups_hyper::{BackupsClient, ClientBuilder};
use backups_proto::Polling;

use crate::args::Global;
use crate::exit::Exit;

/// A failure to get a client, with the exit status it deserves.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit: Exit,
    pub(crate) message: String,
}

/// A client for `--host` (or `PIECES_OS_URL`), else for the Pieces OS that discovery finds.
pub(crate) async fn client(global: &Global) -> Result<(BackupsClient, String), Failure> {
    match &global.host {
        Some(url) => {
            let client = client_for(url, global.timeout).map_err(|err| Failure {
                exit: Exit::Usage,
                message: format!("--host {url:?}: {err}"),
            })?;
            Ok((client, url.clone()))
        }
        None => {
            // Built by discovery, the client keeps it to find Pieces OS again if it restarts on
            // another port while a restore is followed.
            let client = builder(global.timeout)
                .discover()
                .await
                .map_err(|err| Failure {
                    exit: Exit::CannotConnect,
                    message: err.to_string(),
                })?;
            let url = client.endpoint().base_url().to_string();
            Ok((client, url))
        }
    }
}

/// A client for one base URL; `timeout` bounds whole calls and the silence within a stream.
pub(crate) fn client_for(
    url: &str,
    timeout: Option<Duration>,
) -> Result<BackupsClient, backups_proto::Error> {
    builder(timeout).base_url(url).build()
}

/// The client's settings; `timeout` bounds calls, the silence within a stream before the
/// status is asked, and how long Pieces OS may go unanswered while an operation is followed.
fn builder(timeout: Option<Duration>) -> ClientBuilder {
    let builder = BackupsClient::builder();
    match timeout {
        Some(timeout) => {
            let polling = Polling::default()
                .with_unanswered(timeout)
                .with_poll_timeout(timeout.min(Polling::default().poll_timeout));
            builder
                .request_timeout(timeout)
                .idle_timeout(timeout)
                .polling(polling)
        }
        None => builder,
    }
}
