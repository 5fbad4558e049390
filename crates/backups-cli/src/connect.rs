//! Turning `--host`, `PIECES_OS_URL` and `--timeout` into a client.

use std::time::Duration;

use backups_hyper::BackupsClient;

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
            let client = BackupsClient::discover().await.map_err(|err| Failure {
                exit: Exit::CannotConnect,
                message: err.to_string(),
            })?;
            let url = client.endpoint().base_url().to_string();
            // Discovery gives defaults; rebuild with the timeout asked for.
            let client = match global.timeout {
                Some(_) => client_for(&url, global.timeout).map_err(|err| Failure {
                    exit: Exit::Usage,
                    message: err.to_string(),
                })?,
                None => client,
            };
            Ok((client, url))
        }
    }
}

/// A client for one base URL; `timeout` bounds whole calls and the silence within a stream.
pub(crate) fn client_for(
    url: &str,
    timeout: Option<Duration>,
) -> Result<BackupsClient, backups_proto::Error> {
    let mut builder = BackupsClient::builder().base_url(url);
    if let Some(timeout) = timeout {
        builder = builder.request_timeout(timeout).idle_timeout(timeout);
    }
    builder.build()
}
