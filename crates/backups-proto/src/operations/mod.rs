//! One value per operation: each builds its `http::Request` and parses its response, with no IO.
//!
//! Use these directly to drive the API from any HTTP stack; [`Client`](crate::Client) does the
//! same over a [`Transport`](crate::Transport).

mod any;
mod channel;
pub(crate) mod stream;
mod values;

pub use channel::{ChannelOperation, CreateOverWebSocket, RestoreOverWebSocket, WatchProgress};
// Every value type of the table, whatever a new entry names it.
pub use values::*;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderValue};
use http::{Request, Response};
use serde::Serialize;

use crate::{BackupId, Endpoint, Error, Operation};

/// An API call: the request it sends and how its response is read.
pub trait ApiOperation {
    /// What a successful response yields.
    type Output;

    /// Which operation this is.
    const OPERATION: Operation;

    /// The request, with the endpoint's headers and the operation in its extensions.
    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error>;

    /// Reads a whole response (status, headers and body).
    fn parse_response(response: Response<Bytes>) -> Result<Self::Output, Error>;

    /// The backup a create or restore works on, when the request names it (a restore does):
    /// what its status is asked by if its answer never comes.
    fn backup_id(&self) -> Option<&BackupId> {
        None
    }
}

/// Builds a request the way every operation does: the operation's URI (with `id` in place of
/// `{backup}`), the endpoint's headers for this operation (`Accept`, and `Content-Type:
/// application/json` where the operation takes a JSON body, as the official client sends it even
/// when the body is empty), an explicit `Content-Length` on POSTs, and the operation in the
/// extensions.
pub(crate) fn build_request(
    operation: Operation,
    endpoint: &Endpoint,
    id: Option<&BackupId>,
    body: Option<Bytes>,
) -> Result<Request<Bytes>, Error> {
    let uri = endpoint.uri(operation, id)?;
    let mut request = Request::new(body.unwrap_or_default());
    *request.method_mut() = operation.method();
    *request.uri_mut() = uri;
    *request.headers_mut() = endpoint.request_headers(operation).clone();
    if request.method() != http::Method::GET && !operation.is_websocket() {
        let length = request.body().len();
        request
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    request.extensions_mut().insert(operation);
    Ok(request)
}

/// Serializes an optional request body.
pub(crate) fn json_body<T: Serialize>(value: Option<&T>) -> Result<Option<Bytes>, Error> {
    value
        .map(|value| {
            serde_json::to_vec(value)
                .map(Bytes::from)
                .map_err(|err| Error::InvalidRequest {
                    reason: format!("cannot serialize the request body: {err}"),
                })
        })
        .transpose()
}
