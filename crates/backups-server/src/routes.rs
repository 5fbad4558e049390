//! The HTTP routes: which path and method does what, and the answers to bad requests.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use backups_models::{Backup, BackupStreamedProgress, Backups, SeededBackup};
use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, LengthLimitError, Limited};
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::Fault;
use crate::accept::{NDJSON, accepts_ndjson};
use crate::id::is_valid_id;
use crate::origin::Origin;
use crate::progress::{self, ChannelBody, Percent};
use crate::store::Store;

/// The body of every response.
pub(crate) type ResBody = BoxBody<Bytes, Infallible>;

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) store: Arc<Store>,
    pub(crate) data_dir: PathBuf,
    pub(crate) origin: Origin,
    pub(crate) fault: Option<Fault>,
    pub(crate) progress_delay: Duration,
    pub(crate) max_body_bytes: usize,
}

/// A path the server knows.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// Answered even under a simulated fault, so that discovery still finds the server.
    Health,
    Api(Call),
}

/// A path of the Backups API proper: what a simulated fault answers instead.
#[derive(Debug, PartialEq, Eq)]
enum Call {
    List,
    Create,
    CreateStreamed,
    /// The backup id, if the path segment decodes to a valid one.
    Delete(Option<String>),
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        match path {
            "/.well-known/health" => return Some(Route::Health),
            "/backups" => return Some(Route::Api(Call::List)),
            "/backups/create" => return Some(Route::Api(Call::Create)),
            "/backups/create/streamed" => return Some(Route::Api(Call::CreateStreamed)),
            _ => {}
        }
        let segment = path.strip_prefix("/backups/")?.strip_suffix("/delete")?;
        if segment.contains('/') {
            return None;
        }
        // One segment, percent-decoded once. Anything not on the id allow-list (empty, `..`,
        // `%2F`, `%00`, non-UTF-8) can name no backup and never reaches the file system.
        let id = percent_decode_str(segment)
            .decode_utf8()
            .ok()
            .filter(|id| is_valid_id(id))
            .map(|id| id.into_owned());
        Some(Route::Api(Call::Delete(id)))
    }

    fn allowed(&self) -> &'static [Method] {
        match self {
            Route::Health | Route::Api(Call::List) => &[Method::GET, Method::HEAD],
            Route::Api(Call::Create | Call::CreateStreamed | Call::Delete(_)) => &[Method::POST],
        }
    }
}

/// Answers one request. Never fails: every problem becomes a status and a text/plain reason.
pub(crate) async fn handle<B>(
    state: Arc<AppState>,
    request: Request<B>,
) -> Result<Response<ResBody>, Infallible>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let Some(route) = Route::parse(request.uri().path()) else {
        return Ok(text(StatusCode::NOT_FOUND, "not found"));
    };
    let allowed = route.allowed();
    if !allowed.contains(request.method()) {
        let allow = allowed
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("method {} not allowed; use {allow}", request.method()),
        );
        if let Ok(value) = HeaderValue::from_str(&allow) {
            response.headers_mut().insert(ALLOW, value);
        }
        return Ok(response);
    }
    let call = match route {
        Route::Health => return Ok(text(StatusCode::OK, "ok")),
        Route::Api(call) => call,
    };
    if let Some(fault) = state.fault {
        return Ok(text(fault.status(), fault.message()));
    }
    let response = match call {
        Call::List => json(StatusCode::OK, &Backups::new(state.store.list())),
        Call::Create => match read_json::<SeededBackup, B>(&state, request).await {
            Ok(_seed) => create(state).await,
            Err(response) => response,
        },
        Call::CreateStreamed => {
            let streamed = accepts_ndjson(request.headers());
            match read_json::<SeededBackup, B>(&state, request).await {
                Ok(_seed) if streamed => create_streamed(state),
                Ok(_seed) => create_final_event(state).await,
                Err(response) => response,
            }
        }
        Call::Delete(id) => match read_json::<Backup, B>(&state, request).await {
            Ok(_backup) => delete(state, id).await,
            Err(response) => response,
        },
    };
    Ok(response)
}

/// Runs a create on a blocking thread, holding the store shared, reporting progress.
async fn run_create(
    state: &Arc<AppState>,
    mut on_progress: impl FnMut(u64, u64) + Send + 'static,
) -> Result<Backup, String> {
    let shared = state.store.share().await;
    let state = Arc::clone(state);
    let delay = state.progress_delay;
    let joined = tokio::task::spawn_blocking(move || {
        let mut report = |done: u64, total: u64| {
            on_progress(done, total);
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
        };
        state
            .store
            .create(&shared, &state.data_dir, &state.origin, &mut report)
    })
    .await;
    match joined {
        Ok(Ok(backup)) => Ok(backup),
        Ok(Err(err)) => Err(err.to_string()),
        Err(err) => Err(format!("the backup task failed: {err}")),
    }
}

async fn create(state: Arc<AppState>) -> Response<ResBody> {
    match run_create(&state, |_, _| {}).await {
        Ok(backup) => json(StatusCode::OK, &backup),
        Err(reason) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("backup failed: {reason}"),
        ),
    }
}

/// The streamed create for a client that wants one JSON object: the final event.
async fn create_final_event(state: Arc<AppState>) -> Response<ResBody> {
    let event = match run_create(&state, |_, _| {}).await {
        Ok(backup) => progress::completed(backup),
        Err(_) => progress::failed(),
    };
    json(StatusCode::OK, &event)
}

/// The streamed create for a client that accepts NDJSON: one line per event, sent as made.
fn create_streamed(state: Arc<AppState>) -> Response<ResBody> {
    // Events are few (at most one per percent), so a small buffer never holds the copy back.
    let (tx, rx) = mpsc::channel::<Bytes>(128);
    tokio::spawn(async move {
        // A send fails only when the client left; the backup is finished all the same.
        let _ = tx
            .send(progress::ndjson_line(&progress::initialized()))
            .await;
        let progress_tx = tx.clone();
        let mut percent = Percent::default();
        let result = run_create(&state, move |done, total| {
            if let Some(event) = percent.step(done, total) {
                let _ = progress_tx.blocking_send(progress::ndjson_line(&event));
            }
        })
        .await;
        let last: BackupStreamedProgress = match result {
            Ok(backup) => progress::completed(backup),
            Err(_) => progress::failed(),
        };
        let _ = tx.send(progress::ndjson_line(&last)).await;
    });
    let mut response = Response::new(ChannelBody::new(rx).boxed());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn delete(state: Arc<AppState>, id: Option<String>) -> Response<ResBody> {
    let no_such = |id: &str| text(StatusCode::NOT_FOUND, &format!("no such backup: {id:?}"));
    let Some(id) = id else {
        return text(StatusCode::NOT_FOUND, "no such backup");
    };
    let exclusive = state.store.exclusive().await;
    let store = Arc::clone(&state.store);
    let target = id.clone();
    let joined = tokio::task::spawn_blocking(move || store.delete(&exclusive, &target)).await;
    match joined {
        Ok(Ok(true)) => empty(StatusCode::NO_CONTENT),
        Ok(Ok(false)) => no_such(&id),
        Ok(Err(err)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("delete failed: {err}"),
        ),
        Err(err) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the delete task failed: {err}"),
        ),
    }
}

/// Reads an optional JSON body of type `T`: empty (or blank) means none.
async fn read_json<T, B>(
    state: &AppState,
    request: Request<B>,
) -> Result<Option<T>, Response<ResBody>>
where
    T: DeserializeOwned,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let limit = state.max_body_bytes;
    let too_large = || {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body is larger than {limit} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let bytes = match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Err(err) => {
            return Err(text(
                StatusCode::BAD_REQUEST,
                &format!("could not read the request body: {err}"),
            ));
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|err| {
        text(
            StatusCode::BAD_REQUEST,
            &format!("malformed JSON body: {err}"),
        )
    })
}

fn text(status: StatusCode, message: &str) -> Response<ResBody> {
    let mut body = message.to_owned();
    body.push('\n');
    with_type(status, TEXT, Full::new(Bytes::from(body)).boxed())
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<ResBody> {
    match serde_json::to_vec(value) {
        Ok(bytes) => with_type(status, JSON, Full::new(Bytes::from(bytes)).boxed()),
        Err(err) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("could not encode the response: {err}"),
        ),
    }
}

fn empty(status: StatusCode) -> Response<ResBody> {
    let mut response = Response::new(Empty::new().boxed());
    *response.status_mut() = status;
    response
}

fn with_type(status: StatusCode, content_type: &'static str, body: ResBody) -> Response<ResBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(path: &str, expected: Option<Route>) {
        assert_eq!(Route::parse(path), expected, "{path}");
    }

    #[test]
    fn routes() {
        check("/.well-known/health", Some(Route::Health));
        check("/backups", Some(Route::Api(Call::List)));
        check("/backups/create", Some(Route::Api(Call::Create)));
        check(
            "/backups/create/streamed",
            Some(Route::Api(Call::CreateStreamed)),
        );
        check(
            "/backups/1700000000000-0000/delete",
            Some(Route::Api(Call::Delete(Some("1700000000000-0000".into())))),
        );
        check(
            "/backups/a%2Db/delete",
            Some(Route::Api(Call::Delete(Some("a-b".into())))),
        );
        check("/", None);
        check("/backups/", None);
        check("/backups/a/b/delete", None);
        check("/backups/create/streamed/x", None);
    }

    #[test]
    fn hostile_ids_name_nothing() {
        for path in [
            "/backups//delete",
            "/backups/../delete",
            "/backups/./delete",
            "/backups/%2e%2e/delete",
            "/backups/..%2F..%2Fetc/delete",
            "/backups/a%2Fb/delete",
            "/backups/a%5Cb/delete",
            "/backups/a%00/delete",
            "/backups/%ff/delete",
            "/backups/a.json/delete",
        ] {
            check(path, Some(Route::Api(Call::Delete(None))));
        }
    }
}
