//! `doctor`: the first questions of every support thread answered in one report: where Pieces
//! OS was looked for and what answered there, its version and health, whether backups are
//! usable, what runs now, and this tool's version. Each problem comes with the one thing to do
//! about it; the exit status is 0 only when backups are usable.

use std::io::Write;
use std::pin::Pin;
use std::time::Duration;

use backups_hyper::BackupsClient;
use backups_hyper::discovery::{self, Discovery, Finding, Place, Verdict};
use backups_models::BackupsStreamedProgress;
use backups_proto::http::{self, StatusCode, header};
use backups_proto::{Error, ErrorKind, TimeoutKind, Transport, TransportKind, excerpt};
use http_body::Body as _;

use crate::args::Global;
use crate::connect;
use crate::exit::Exit;
use crate::output;
use crate::stop::Stop;

use self::report::{Address, Backups, Check, Failure, Looked, Problem, Report};

mod report;

/// How long each call may take unless `--timeout` says otherwise: a report that hangs answers
/// none of its questions.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for the progress channel's first snapshot (less with a shorter
/// `--timeout`): Pieces OS sends it at once, so a longer wait would only delay the report.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(3);

/// The health check every Pieces OS answers, `ok` when well.
const HEALTH_PATH: &str = discovery::HEALTH_PATH;

/// Where Pieces OS says its version, as text.
const VERSION_PATH: &str = "/.well-known/version";

/// How much of a text answer is read: a version or `ok` is a few bytes.
const TEXT_LIMIT: usize = 256;

/// What to run again once a problem is fixed.
const AGAIN: &str = "then run `pieces-backups doctor` again";

/// `doctor`: examines, prints the report (text, or one JSON object with `--json`), and ends
/// with the status of the problem that keeps backups from working, if any.
pub(crate) async fn doctor(global: &Global, out: &mut impl Write) -> Result<(), Stop> {
    let report = examine(global).await;
    if global.json {
        writeln!(out, "{}", output::json_line(&report)).ok();
    } else {
        write!(out, "{}", report.text()).ok();
    }
    match report
        .problems
        .iter()
        .find(|problem| problem.exit.is_some())
    {
        Some(Problem {
            what,
            fix,
            exit: Some(exit),
            ..
        }) => Err(Stop::Failed {
            exit: *exit,
            message: format!("backups are not usable: {what}; {fix}"),
        }),
        _ => Ok(()),
    }
}

/// Asks every question in turn, stopping where there is no one left to ask.
async fn examine(global: &Global) -> Report {
    let (url, mut report) = match &global.host {
        Some(url) => {
            let address = Address {
                from: host_source(url),
                url: Some(url.clone()),
                found_by: None,
                findings: Vec::new(),
            };
            (url.clone(), Report::new(address))
        }
        None => match Discovery::new().locate().await {
            Ok(located) => {
                let url = located.base_url.to_string();
                let address = Address {
                    from: "discovery",
                    url: Some(url.clone()),
                    found_by: Some(located.step.to_string()),
                    findings: looked(&located.findings),
                };
                (url, Report::new(address))
            }
            Err(not_found) => {
                let address = Address {
                    from: "discovery",
                    url: None,
                    found_by: None,
                    findings: looked(&not_found.findings),
                };
                let mut report = Report::new(address);
                report.blocking(
                    Exit::CannotConnect,
                    format!(
                        "no running Pieces OS found on {} (discovery looked at the places above)",
                        not_found.host
                    ),
                    format!(
                        "start Pieces OS (or, if it runs elsewhere, give its address with --host \
                         URL or PIECES_OS_URL), {AGAIN}"
                    ),
                );
                return report;
            }
        },
    };
    let timeout = global.timeout.unwrap_or(CALL_TIMEOUT);
    let client = match connect::client_for(&url, Some(timeout)) {
        Ok(client) => client,
        Err(err) => {
            report.blocking(
                Exit::Usage,
                format!("{url:?} is not an address Pieces OS can be reached at ({err})"),
                format!(
                    "give its base URL, such as http://localhost:39300, with --host or \
                     PIECES_OS_URL, {AGAIN}"
                ),
            );
            return report;
        }
    };

    match get_text(&client, HEALTH_PATH).await {
        Ok((StatusCode::OK, text)) if text.starts_with("ok") => {
            report.health = Some(Check::answered(text));
        }
        Ok((status, text)) => {
            report.warning(
                format!("Pieces OS at {url} answered its health check with {status}: {text:?}"),
                format!("restart Pieces OS, {AGAIN}"),
            );
            report.health = Some(Check::failed(Failure {
                kind: "Unhealthy".into(),
                status: Some(status.as_u16()),
                message: text,
            }));
        }
        Err(err) => {
            report.health = Some(Check::failed(Failure::from(&err)));
            report.blocking(
                Exit::for_error(&err),
                format!("nothing answers at {url}"),
                format!(
                    "start Pieces OS; if it runs, check its address (--host or PIECES_OS_URL), \
                     {AGAIN}"
                ),
            );
            return report;
        }
    }

    let wait = SNAPSHOT_TIMEOUT.min(timeout);
    let (version, listed, running) = tokio::join!(
        get_text(&client, VERSION_PATH),
        client.list(),
        first_snapshot(&client, wait),
    );
    report.version = Some(match version {
        Ok((StatusCode::OK, text)) if !text.is_empty() => Check::answered(text),
        Ok((status, text)) => Check::failed(Failure {
            kind: ErrorKind::UnexpectedStatus.name().to_owned(),
            status: Some(status.as_u16()),
            message: format!("answered {status}: {text:?}"),
        }),
        Err(err) => Check::failed(Failure::from(&err)),
    });
    match listed {
        Ok(backups) => {
            report.usable = true;
            report.exit = 0;
            report.backups = Some(Check::answered(Backups {
                count: backups.len(),
            }));
        }
        Err(err) => {
            report.backups = Some(Check::failed(Failure::from(&err)));
            let (what, fix) = unusable(&err, &url);
            report.blocking(Exit::for_error(&err), what, fix);
        }
    }
    match running {
        Ok(snapshot) => report.running = Some(Check::answered(snapshot)),
        Err(failure) => {
            // When backups do not work, the problem above says why; the channel fails the same
            // way.
            if report.usable {
                report.warning(
                    format!("what runs now cannot be seen: {}", failure.message),
                    "run `pieces-backups watch` to look again; if the progress channel still \
                     fails, restart Pieces OS"
                        .into(),
                );
            }
            report.running = Some(Check::failed(failure));
        }
    }
    report
}

/// What keeps backups from working, said by the list's error, and the one thing to do.
fn unusable(err: &Error, url: &str) -> (String, String) {
    let answer = |status: u16| match err {
        Error::Unauthenticated { message, .. }
        | Error::OsOutdated { message, .. }
        | Error::Internal { message, .. } => format!("HTTP {status}: {message}"),
        _ => format!("HTTP {status}"),
    };
    match err.kind() {
        ErrorKind::Unauthenticated => (
            format!("Pieces OS needs you to sign in ({})", answer(511)),
            format!(
                "sign in to Pieces OS and connect it to the cloud (from the Pieces Desktop app), \
                 {AGAIN}"
            ),
        ),
        ErrorKind::OsOutdated => (
            format!("this Pieces OS is too old for backups ({})", answer(505)),
            format!("update Pieces OS to its latest version, {AGAIN}"),
        ),
        ErrorKind::Internal => (
            format!("Pieces OS's backup service failed ({})", answer(500)),
            "restart Pieces OS; if it still fails, send this report \
             (`pieces-backups doctor --json`) to Pieces support"
                .into(),
        ),
        ErrorKind::Timeout(_) => (
            format!("Pieces OS at {url} did not answer the list of backups in time ({err})"),
            format!(
                "Pieces OS may be busy: wait a minute (or give a longer --timeout), {AGAIN}; \
                 if it is still slow, restart Pieces OS"
            ),
        ),
        ErrorKind::Transport(TransportKind::Connect | TransportKind::Io) => (
            format!("the connection to Pieces OS at {url} failed ({err})"),
            format!("check that Pieces OS is still running (start it if not), {AGAIN}"),
        ),
        _ => (
            format!(
                "Pieces OS at {url} answered the list of backups in a way this tool cannot read ({err})"
            ),
            format!(
                "check that {url} is Pieces OS and not another program, and update Pieces OS \
                 and pieces-backups, {AGAIN}"
            ),
        ),
    }
}

/// `PIECES_OS_URL` when the address is that variable's, else `--host` (which wins over it).
fn host_source(url: &str) -> &'static str {
    match std::env::var("PIECES_OS_URL") {
        Ok(from_env) if from_env == url => "PIECES_OS_URL",
        _ => "--host",
    }
}

/// Discovery's findings as the report lists them.
fn looked(findings: &[Finding]) -> Vec<Looked> {
    discovery::fold(findings)
        .into_iter()
        .map(|run| Looked {
            step: run.step.to_string(),
            place: match (run.place, run.last_port) {
                (Place::Port(first), Some(last)) => format!("ports {first}-{last}"),
                (place, _) => place.to_string(),
            },
            found: run.verdict.to_string(),
            healthy: *run.verdict == Verdict::Healthy,
        })
        .collect()
}

/// `GET path` as text: the status and the start of the body, trimmed. Not one of the API's
/// operations, so sent through the client's transport (its timeouts, no retries).
async fn get_text(client: &BackupsClient, path: &str) -> Result<(StatusCode, String), Error> {
    let endpoint = client.endpoint();
    let mut request = http::Request::new(Default::default());
    *request.uri_mut() = endpoint.base_url().join(path)?;
    for (name, value) in endpoint.headers() {
        request.headers_mut().insert(name, value.clone());
    }
    request
        .headers_mut()
        .insert(header::ACCEPT, http::HeaderValue::from_static("text/plain"));
    let response = client.transport().send(request).await?;
    let status = response.status();
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while bytes.len() < TEXT_LIMIT {
        match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            Some(frame) => {
                if let Ok(data) = frame?.into_data() {
                    bytes.extend_from_slice(&data);
                }
            }
            None => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    Ok((status, excerpt(text.trim().as_bytes())))
}

/// The progress channel's first snapshot, within `wait`.
async fn first_snapshot(
    client: &BackupsClient,
    wait: Duration,
) -> Result<BackupsStreamedProgress, Failure> {
    let first = async {
        let mut snapshots = client.watch_progress().await?;
        snapshots.next_snapshot().await.transpose()
    };
    match tokio::time::timeout(wait, first).await {
        Ok(Ok(Some(snapshot))) => Ok(snapshot),
        Ok(Ok(None)) => Err(Failure {
            kind: ErrorKind::Ended.name().to_owned(),
            status: None,
            message: "Pieces OS closed the progress channel before its first snapshot".into(),
        }),
        Ok(Err(err)) => Err(Failure::from(&err)),
        Err(_) => Err(Failure {
            kind: ErrorKind::Timeout(TimeoutKind::Request).name().to_owned(),
            status: None,
            message: format!(
                "no snapshot on the progress channel within {} ms",
                wait.as_millis()
            ),
        }),
    }
}
