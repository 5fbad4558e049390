//! The HTTP routes: which path and method does what, and the answers to bad requests.

use std::convert::Infallible;
use std::sync::Arc;

use backups_models::{Asset, Assets, Backup, SeededBackup};
use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

use crate::accept::{NDJSON, accepts_ndjson};
use crate::channels;
use crate::id::is_valid_id;
use crate::jobs::Kind;
use crate::progress::{self, ChannelBody};
use crate::reply::{JSON, ResBody, empty, json, text, whole, with_type};
use crate::state::AppState;
use crate::tasks::{self, Outcome, Started};

/// A path the server knows.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// Answered even under a simulated fault, so that discovery still finds the server.
    Health,
    /// `/.well-known/version`: this crate's version, as text. Answered under a simulated fault
    /// too, as Pieces OS tells its version whether or not backups work.
    Version,
    Api(Call),
}

/// A path of the Backups API proper: what a simulated fault answers instead.
#[derive(Debug, PartialEq, Eq)]
enum Call {
    List,
    Create,
    CreateStreamed,
    /// WebSocket `/backups/streamed/progress`.
    WatchProgress,
    /// WebSocket `/backups/create/streamed/websocket`.
    CreateOverWebSocket,
    /// The backup id, if the path segment decodes to a valid one.
    Delete(Option<String>),
    /// `POST /backup`: back up assets (an optional `Assets` body).
    BackupAssets,
    /// `POST /backup/asset`: back up one asset (an optional `Asset` body).
    BackupAsset,
    /// `/backup/{backup}…`: the operations on one backup.
    One(Option<String>, One),
}

/// An operation on one backup (the official SDKs' `BackupApi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum One {
    Get,
    Restore,
    RestoreStreamed,
    /// WebSocket `/backup/{backup}/restore/streamed/websocket`.
    RestoreOverWebSocket,
    CreationStatus,
    CancelCreation,
    RestorationStatus,
    CancelRestoration,
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        match path {
            "/.well-known/health" => return Some(Route::Health),
            "/.well-known/version" => return Some(Route::Version),
            "/backups" => return Some(Route::Api(Call::List)),
            "/backups/create" => return Some(Route::Api(Call::Create)),
            "/backups/create/streamed" => return Some(Route::Api(Call::CreateStreamed)),
            "/backups/streamed/progress" => return Some(Route::Api(Call::WatchProgress)),
            "/backups/create/streamed/websocket" => {
                return Some(Route::Api(Call::CreateOverWebSocket));
            }
            "/backup" => return Some(Route::Api(Call::BackupAssets)),
            // Before `/backup/{backup}`: the API's own paths overlap there, and no backup id
            // this server makes is a word.
            "/backup/asset" => return Some(Route::Api(Call::BackupAsset)),
            _ => {}
        }
        if let Some(rest) = path.strip_prefix("/backup/") {
            let (segment, tail) = rest.split_once('/').unwrap_or((rest, ""));
            let one = match tail {
                "" => One::Get,
                "restore" => One::Restore,
                "restore/streamed" => One::RestoreStreamed,
                "restore/streamed/websocket" => One::RestoreOverWebSocket,
                "creation/status" => One::CreationStatus,
                "creation/cancel" => One::CancelCreation,
                "restoration/status" => One::RestorationStatus,
                "restoration/cancel" => One::CancelRestoration,
                _ => return None,
            };
            return Some(Route::Api(Call::One(decode_id(segment), one)));
        }
        let segment = path.strip_prefix("/backups/")?.strip_suffix("/delete")?;
        if segment.contains('/') {
            return None;
        }
        Some(Route::Api(Call::Delete(decode_id(segment))))
    }

    fn allowed(&self) -> &'static [Method] {
        match self {
            Route::Health | Route::Version | Route::Api(Call::List) => &[Method::GET, Method::HEAD],
            Route::Api(Call::One(_, One::Get | One::CreationStatus | One::RestorationStatus)) => {
                &[Method::GET, Method::HEAD]
            }
            // A handshake is a GET; HEAD cannot upgrade.
            Route::Api(
                Call::WatchProgress
                | Call::CreateOverWebSocket
                | Call::One(_, One::RestoreOverWebSocket),
            ) => &[Method::GET],
            Route::Api(
                Call::Create
                | Call::CreateStreamed
                | Call::Delete(_)
                | Call::BackupAssets
                | Call::BackupAsset
                | Call::One(..),
            ) => &[Method::POST],
        }
    }
}

/// The id a path segment names: percent-decoded once, then on the id allow-list. Anything else
/// (empty, `..`, `%2F`, `%00`, non-UTF-8) can name no backup and never reaches the file system.
fn decode_id(segment: &str) -> Option<String> {
    percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .filter(|id| is_valid_id(id))
        .map(|id| id.into_owned())
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
        Route::Version => return Ok(text(StatusCode::OK, env!("CARGO_PKG_VERSION"))),
        Route::Api(call) => call,
    };
    if let Some(fault) = state.fault {
        return Ok(text(fault.status(), fault.message()));
    }
    let response = match call {
        Call::List => match state.listing.bytes(&state.store) {
            Ok(bytes) => with_type(StatusCode::OK, JSON, whole(Full::new(bytes))),
            Err(err) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("could not encode the response: {err}"),
            ),
        },
        Call::Create => match read_json::<SeededBackup, B>(&state, request).await {
            Ok(_seed) => match tasks::start_create(&state, false) {
                Ok(started) => create_answer(started.outcome().await),
                Err(reason) => text(StatusCode::INTERNAL_SERVER_ERROR, &reason),
            },
            Err(response) => response,
        },
        Call::CreateStreamed => {
            let streamed = accepts_ndjson(request.headers());
            match read_json::<SeededBackup, B>(&state, request).await {
                Ok(_seed) => match tasks::start_create(&state, streamed) {
                    Ok(started) => progress_answer(started, state.drop_streams_after).await,
                    Err(reason) => text(StatusCode::INTERNAL_SERVER_ERROR, &reason),
                },
                Err(response) => response,
            }
        }
        Call::WatchProgress => channels::progress(&state, request),
        Call::CreateOverWebSocket => channels::create(&state, request),
        Call::One(id, One::RestoreOverWebSocket) => channels::restore(&state, id, request),
        Call::Delete(id) => match read_json::<Backup, B>(&state, request).await {
            Ok(_backup) => delete(state, id).await,
            Err(response) => response,
        },
        // The assets are checked, not kept: see "Backing up assets" in docs/wire-protocol.md.
        Call::BackupAssets => match read_json::<Assets, B>(&state, request).await {
            Ok(_assets) => empty(StatusCode::NO_CONTENT),
            Err(response) => response,
        },
        Call::BackupAsset => match read_json::<Asset, B>(&state, request).await {
            Ok(_asset) => empty(StatusCode::NO_CONTENT),
            Err(response) => response,
        },
        Call::One(id, one) => one_backup(state, id, one, request).await,
    };
    Ok(response)
}

/// The operations on one backup.
async fn one_backup<B>(
    state: Arc<AppState>,
    id: Option<String>,
    one: One,
    request: Request<B>,
) -> Response<ResBody>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let streamed = accepts_ndjson(request.headers());
    // Bodies are read (and refused when malformed) before the id is looked at, as for delete.
    if matches!(
        one,
        One::Restore | One::RestoreStreamed | One::CancelRestoration
    ) {
        if let Err(response) = read_json::<Backup, B>(&state, request).await {
            return response;
        }
    }
    let no_such = |id: Option<&str>| match id {
        Some(id) => text(StatusCode::NOT_FOUND, &format!("no such backup: {id:?}")),
        None => text(StatusCode::NOT_FOUND, "no such backup"),
    };
    let cancel = |kind: Kind, id: Option<&str>| {
        let refused = match id {
            Some(id) => state.jobs.cancel(kind, id),
            None => state.jobs.cancel(kind, ""),
        };
        match refused {
            Ok(()) => empty(StatusCode::NO_CONTENT),
            Err(reason) => text(StatusCode::INTERNAL_SERVER_ERROR, &reason),
        }
    };
    let status = |kind: Kind, id: Option<&str>| {
        let what = match kind {
            Kind::Create => "creation",
            Kind::Restore => "restoration",
        };
        match id.and_then(|id| state.jobs.status(kind, id)) {
            Some(status) => json(StatusCode::OK, &status),
            None => text(
                StatusCode::NOT_FOUND,
                &format!("no {what} of that backup is known to this server"),
            ),
        }
    };
    match one {
        One::Get => match id.as_deref().and_then(|id| state.store.get(id)) {
            Some(backup) => json(StatusCode::OK, &backup),
            None => no_such(id.as_deref()),
        },
        One::Restore | One::RestoreStreamed => {
            let Some(backup) = id.as_deref().and_then(|id| state.store.get(id)) else {
                return no_such(id.as_deref());
            };
            let streamed = streamed && one == One::RestoreStreamed;
            match tasks::start_restore(&state, backup, streamed) {
                Ok(started) if one == One::Restore => restore_answer(started.outcome().await),
                Ok(started) => progress_answer(started, state.drop_streams_after).await,
                Err(reason) => text(StatusCode::INTERNAL_SERVER_ERROR, &reason),
            }
        }
        // Routed to `channels` before this point.
        One::RestoreOverWebSocket => text(StatusCode::INTERNAL_SERVER_ERROR, "misrouted handshake"),
        One::CreationStatus => status(Kind::Create, id.as_deref()),
        One::RestorationStatus => status(Kind::Restore, id.as_deref()),
        One::CancelCreation => cancel(Kind::Create, id.as_deref()),
        One::CancelRestoration => cancel(Kind::Restore, id.as_deref()),
    }
}

/// The answer of a plain create.
fn create_answer(outcome: Outcome) -> Response<ResBody> {
    match outcome {
        Outcome::Done(backup) => json(StatusCode::OK, &*backup),
        Outcome::Failed(reason) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("backup failed: {reason}"),
        ),
        Outcome::Canceled(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the backup was canceled; nothing of it was kept",
        ),
    }
}

/// The answer of a plain restore.
fn restore_answer(outcome: Outcome) -> Response<ResBody> {
    match outcome {
        Outcome::Done(backup) => json(StatusCode::OK, &*backup),
        Outcome::Failed(reason) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("restore failed: {reason}; the data directory is unchanged"),
        ),
        Outcome::Canceled(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the restore was canceled; the data directory is unchanged",
        ),
    }
}

/// The answer of a streamed create or restore: NDJSON lines as they are made for a client that
/// asked for them (cut after `cut_after` of them, if set), otherwise the final event alone once
/// the work is done.
async fn progress_answer(started: Started, cut_after: Option<u32>) -> Response<ResBody> {
    if let Some(rx) = started.events {
        let mut response = Response::new(ChannelBody::new(rx, cut_after).boxed());
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(NDJSON));
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return response;
    }
    let last = match started.done.await {
        Ok(Outcome::Done(backup)) => progress::completed(*backup),
        Ok(Outcome::Canceled(percent)) => progress::canceled(percent),
        Ok(Outcome::Failed(_)) | Err(_) => progress::failed(),
    };
    json(StatusCode::OK, &last)
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
        check("/.well-known/version", Some(Route::Version));
        check("/.well-known/version/x", None);
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
        check("/backup", Some(Route::Api(Call::BackupAssets)));
        check("/backup/asset", Some(Route::Api(Call::BackupAsset)));
        check("/backup/asset/x", None);
        check("/", None);
        check("/backups/", None);
        check("/backups/a/b/delete", None);
        check("/backups/create/streamed/x", None);
        check(
            "/backups/streamed/progress",
            Some(Route::Api(Call::WatchProgress)),
        );
        check(
            "/backups/create/streamed/websocket",
            Some(Route::Api(Call::CreateOverWebSocket)),
        );
        check(
            "/backup/a-b/restore/streamed/websocket",
            Some(Route::Api(Call::One(
                Some("a-b".into()),
                One::RestoreOverWebSocket,
            ))),
        );
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
