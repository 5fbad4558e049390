//! The one HTTP request reqwest cannot carry: a path with a `.` or `..` segment, which is what
//! a backup id of `.` or `..` gives (`/backups/%2E%2E/delete`).
//!
//! reqwest takes a `url::Url`, and the WHATWG URL parser resolves such a segment in every
//! spelling (`..`, `%2E%2E`, `.%2e`, ...), so `/backups/%2E%2E/delete` would go out as `/delete`:
//! another endpoint, the defect of the official SDK that docs/wire-protocol.md describes. Such a
//! request is sent here instead, exactly as built, over a connection of its own with hyper's
//! HTTP/1.1 client (already compiled by reqwest), without the client's proxy, pool or default
//! headers. It is plain `http` only, as Pieces OS is.

use bytes::Bytes;
use http::uri::{PathAndQuery, Scheme};
use http::{Request, Uri};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use backups_proto::{Error, Operation, TransportKind, describe_chain};

/// Whether a segment of `path` is `.` or `..` in any percent-encoded spelling: a path reqwest
/// would rewrite.
pub(crate) fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(is_dot_segment)
}

/// Whether `segment` is one or two dots, each `.` or `%2e` (any case). Checked on every call,
/// so it allocates nothing.
fn is_dot_segment(segment: &str) -> bool {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() && dots <= 2 {
        match rest {
            [b'.', tail @ ..] => rest = tail,
            [b'%', b'2', e, tail @ ..] if e.eq_ignore_ascii_case(&b'e') => rest = tail,
            _ => return false,
        }
        dots += 1;
    }
    rest.is_empty() && (dots == 1 || dots == 2)
}

/// Sends `request` as built on a fresh connection; resolves with the response head.
pub(crate) async fn send(
    request: Request<Bytes>,
    operation: Option<Operation>,
) -> Result<reqwest::Response, Error> {
    let uri = request.uri();
    let Some(authority) = uri
        .authority()
        .filter(|_| uri.scheme() == Some(&Scheme::HTTP))
    else {
        return Err(Error::InvalidRequest {
            reason: format!(
                "{uri}: a path with a `.` or `..` segment is sent past reqwest (whose URL parser \
                 would resolve it), which is done for plain http URLs only"
            ),
        });
    };
    let target = authority.as_str().to_owned();
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let tcp = TcpStream::connect((host, port)).await.map_err(|err| {
        Error::transport(TransportKind::Connect, describe_chain(&target, &err))
            .with_operation(operation)
    })?;
    // Requests are small and written at once; Nagle's delay only adds latency.
    let _ = tcp.set_nodelay(true);
    let failed = |err: hyper::Error| {
        Error::transport(TransportKind::Io, describe_chain(&target, &err)).with_operation(operation)
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(failed)?;
    // Drives the connection until the response body is read, or hands it over when a WebSocket
    // handshake of a `restore_over_websocket` upgrades it.
    tokio::spawn(connection.with_upgrades());
    let (mut parts, body) = request.into_parts();
    // On a connection of its own, the request line takes the origin form; `Host` is in the
    // request already.
    let origin = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    parts.uri = Uri::from(origin);
    let response = sender
        .send_request(Request::from_parts(parts, Full::new(body)))
        .await
        .map_err(failed)?;
    Ok(reqwest::Response::from(response.map(reqwest::Body::wrap)))
}

#[cfg(test)]
mod tests {
    use super::has_dot_segment;

    #[test]
    fn dot_segments_in_every_spelling_are_found() {
        for path in [
            "/backups/%2E%2E/delete",
            "/backup/%2e./restoration/status",
            "/backups/./x",
            "/backups/..",
        ] {
            assert!(has_dot_segment(path), "{path}");
        }
        for path in [
            "/backups",
            "/backups/%2E%2E%2Fetc/delete",
            "/backups/1.2/x",
            "/a/.../b",
        ] {
            assert!(!has_dot_segment(path), "{path}");
        }
    }
}
