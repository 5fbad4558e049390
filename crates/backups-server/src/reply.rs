//! Building answers: the response body type, `text/plain` reasons, JSON and empty answers.

use std::convert::Infallible;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};
use http_body::Body;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use serde::Serialize;

use crate::progress::StreamCut;

/// The body of every response. Its one error is a progress stream cut on purpose
/// (`ServerConfig::drop_streams_after`), which makes hyper drop the connection mid-body.
pub(crate) type ResBody = BoxBody<Bytes, StreamCut>;

const TEXT: &str = "text/plain; charset=utf-8";
/// The content type of JSON answers.
pub(crate) const JSON: &str = "application/json";

/// A `text/plain` answer: `message` and a newline.
pub(crate) fn text(status: StatusCode, message: &str) -> Response<ResBody> {
    let mut body = message.to_owned();
    body.push('\n');
    with_type(status, TEXT, whole(Full::new(Bytes::from(body))))
}

/// A JSON answer of `value`, or a 500 reason if it cannot be encoded.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<ResBody> {
    match serde_json::to_vec(value) {
        Ok(bytes) => with_type(status, JSON, whole(Full::new(Bytes::from(bytes)))),
        Err(err) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("could not encode the response: {err}"),
        ),
    }
}

/// An answer with no body.
pub(crate) fn empty(status: StatusCode) -> Response<ResBody> {
    let mut response = Response::new(whole(Empty::new()));
    *response.status_mut() = status;
    response
}

/// A body that cannot fail, as a [`ResBody`].
pub(crate) fn whole(
    body: impl Body<Data = Bytes, Error = Infallible> + Send + Sync + 'static,
) -> ResBody {
    body.map_err(|never| match never {}).boxed()
}

/// An answer of `status` with `body` of `content_type`.
pub(crate) fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: ResBody,
) -> Response<ResBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
