//! The three WebSocket channels: checking a handshake, starting what the channel serves, and
//! answering `101 Switching Protocols`. Every refusal (a plain GET, an unknown backup, a restore
//! already running) is an ordinary HTTP answer, given before anything is upgraded.

use std::sync::Arc;

use backups_models::Backup;
use http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Version};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::reply::{ResBody, empty, text};
use crate::socket::{self, Channel, Feed};
use crate::state::{AppState, stopped};
use crate::tasks::{self, Started};

/// What a plain GET on a channel path is told.
const NOT_A_HANDSHAKE: &str = "this path is a WebSocket channel: send a WebSocket handshake \
    (GET with Connection: Upgrade, Upgrade: websocket, Sec-WebSocket-Version: 13 and a \
    Sec-WebSocket-Key)";

/// The value of `Sec-WebSocket-Accept` for a valid handshake, or the answer refusing it.
// The refusal is boxed: an answer is large, and a valid handshake the common case.
fn check_handshake<B>(request: &Request<B>) -> Result<HeaderValue, Box<Response<ResBody>>> {
    let headers = request.headers();
    let refuse = |detail: &str| {
        Box::new(text(
            StatusCode::BAD_REQUEST,
            &format!("{NOT_A_HANDSHAKE}; {detail}"),
        ))
    };
    if request.version() != Version::HTTP_11 {
        return Err(refuse("a handshake needs HTTP/1.1"));
    }
    if !has_token(headers, CONNECTION, "upgrade") {
        return Err(refuse("no Connection: Upgrade header"));
    }
    if !has_token(headers, UPGRADE, "websocket") {
        return Err(refuse("no Upgrade: websocket header"));
    }
    match headers.get(SEC_WEBSOCKET_VERSION) {
        None => return Err(refuse("no Sec-WebSocket-Version header")),
        Some(version) if version.as_bytes().trim_ascii() == b"13" => {}
        Some(_) => {
            // RFC 6455 §4.4: name the version this server speaks.
            let mut response = text(
                StatusCode::UPGRADE_REQUIRED,
                "unsupported WebSocket version; this server speaks version 13",
            );
            response
                .headers_mut()
                .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
            return Err(Box::new(response));
        }
    }
    let key = headers
        .get(SEC_WEBSOCKET_KEY)
        .map(|key| key.as_bytes().trim_ascii())
        .filter(|key| is_nonce(key))
        .ok_or_else(|| refuse("no valid Sec-WebSocket-Key header (16 bytes in base64)"))?;
    HeaderValue::from_str(&derive_accept_key(key))
        .map_err(|_| refuse("the Sec-WebSocket-Key cannot be answered"))
}

/// Whether some header `name` lists `token` (comma-separated, any case).
fn has_token(headers: &HeaderMap, name: http::header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        })
    })
}

/// Whether `key` is a handshake nonce: 16 bytes in base64, which is 22 characters and `==`.
fn is_nonce(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// The `101 Switching Protocols` answer.
fn switching(accept: HeaderValue) -> Response<ResBody> {
    let mut response = empty(StatusCode::SWITCHING_PROTOCOLS);
    let headers = response.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    response
}

/// Upgrades `request` and serves `channel` with `feed` on the socket, in the background.
fn upgrade<B>(
    state: &AppState,
    mut request: Request<B>,
    accept: HeaderValue,
    channel: Channel,
    feed: Feed,
) -> Response<ResBody> {
    let on_upgrade = hyper::upgrade::on(&mut request);
    let serving = socket::serve(on_upgrade, channel, feed, state.stop.subscribe());
    let mut halt = state.halt.subscribe();
    tokio::spawn(async move {
        // Past the shutdown's bound the socket is dropped, whatever it was waiting for.
        tokio::select! {
            () = serving => {}
            () = stopped(&mut halt) => {}
        }
    });
    switching(accept)
}

/// `GET /backups/streamed/progress`: the current snapshot, then one per change.
pub(crate) fn progress<B>(state: &Arc<AppState>, request: Request<B>) -> Response<ResBody> {
    let accept = match check_handshake(&request) {
        Ok(accept) => accept,
        Err(refusal) => return *refusal,
    };
    let feed = Feed::Snapshots(state.jobs.subscribe());
    upgrade(state, request, accept, Channel::Progress, feed)
}

/// `GET /backups/create/streamed/websocket`: a create starts on the handshake; its progress
/// events follow on the socket.
pub(crate) fn create<B>(state: &Arc<AppState>, request: Request<B>) -> Response<ResBody> {
    let accept = match check_handshake(&request) {
        Ok(accept) => accept,
        Err(refusal) => return *refusal,
    };
    operation(
        state,
        request,
        accept,
        Channel::Create,
        tasks::start_create(state, true),
    )
}

/// `GET /backup/{backup}/restore/streamed/websocket`: refused with 404 when the store does not
/// hold `id`; otherwise a restore starts on the handshake and its progress events follow.
pub(crate) fn restore<B>(
    state: &Arc<AppState>,
    id: Option<String>,
    request: Request<B>,
) -> Response<ResBody> {
    let accept = match check_handshake(&request) {
        Ok(accept) => accept,
        Err(refusal) => return *refusal,
    };
    let Some(backup): Option<Backup> = id.as_deref().and_then(|id| state.store.get(id)) else {
        return match id {
            Some(id) => text(StatusCode::NOT_FOUND, &format!("no such backup: {id:?}")),
            None => text(StatusCode::NOT_FOUND, "no such backup"),
        };
    };
    let started = tasks::start_restore(state, backup, true);
    operation(state, request, accept, Channel::Restore, started)
}

/// The socket of a started create or restore: the same events as its NDJSON stream. The work
/// does not depend on the socket: a client that leaves does not stop it.
fn operation<B>(
    state: &AppState,
    request: Request<B>,
    accept: HeaderValue,
    channel: Channel,
    started: Result<Started, String>,
) -> Response<ResBody> {
    let started = match started {
        Ok(started) => started,
        Err(reason) => return text(StatusCode::INTERNAL_SERVER_ERROR, &reason),
    };
    let Some(texts) = started.events else {
        // Asked for with `streamed`; without events there is nothing to send.
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the operation started without its progress events",
        );
    };
    let feed = Feed::Events {
        events: texts,
        cut_after: state.drop_streams_after,
    };
    upgrade(state, request, accept, channel, feed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake(headers: &[(&str, &str)]) -> Request<()> {
        let mut request = Request::get("/backups/streamed/progress");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).expect("request")
    }

    const GOOD: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "WebSocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn a_valid_handshake_gets_the_rfc_accept_value() {
        let accept = check_handshake(&handshake(&GOOD)).expect("valid");
        // The example of RFC 6455 §1.3.
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn handshakes_missing_a_header_are_refused_with_400_or_426() {
        for (skip, missing) in GOOD.iter().enumerate() {
            let headers: Vec<_> = GOOD
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, h)| *h)
                .collect();
            let refused = check_handshake(&handshake(&headers)).expect_err("refused");
            assert_eq!(
                refused.status(),
                StatusCode::BAD_REQUEST,
                "without {missing:?}"
            );
        }
        let mut old = GOOD;
        old[2] = ("sec-websocket-version", "8");
        let refused = check_handshake(&handshake(&old)).expect_err("refused");
        assert_eq!(refused.status(), StatusCode::UPGRADE_REQUIRED);
        assert_eq!(refused.headers()[SEC_WEBSOCKET_VERSION], "13");
        let mut short = GOOD;
        short[3] = ("sec-websocket-key", "c2hvcnQ=");
        assert!(check_handshake(&handshake(&short)).is_err());
    }
}
