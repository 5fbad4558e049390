//! What the request of an exchange must look like: [`ExpectedRequest`] and its
//! [`ExpectedBody`], read from a HAR entry's request, with the headers that vary by client
//! ([`RELAXED`]) left out unless the case requires them.

use bytes::Bytes;
use serde_json::Value;

use crate::har::Entry;

/// Request headers that vary by client and say nothing about the API: not compared unless a case
/// lists them in `_requireHeaders`.
pub const RELAXED: &[&str] = &[
    "user-agent",
    "host",
    "connection",
    "accept-encoding",
    "keep-alive",
    "x-application-id",
    // New per connection (RFC 6455): the transport's own, checked by the replay server's
    // handshake, never by value.
    "sec-websocket-key",
    "sec-websocket-extensions",
];

/// What the request must look like.
#[derive(Debug, Clone)]
pub struct ExpectedRequest {
    /// The method.
    pub method: http::Method,
    /// The path and query, exactly as sent (percent-encoding included).
    pub path_and_query: String,
    /// Headers that must be present with these values (names lowercase).
    pub headers: Vec<(String, String)>,
    /// Headers that must be absent (names lowercase).
    pub forbid: Vec<String>,
    /// The body.
    pub body: ExpectedBody,
}

/// What the request body must be.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedBody {
    /// No body at all.
    Empty,
    /// A JSON body, compared as JSON (key order and spacing do not matter).
    Json(Value),
    /// Exactly these bytes.
    Bytes(Bytes),
}

pub(crate) fn expected_request(entry: &Entry) -> Result<ExpectedRequest, String> {
    let request = &entry.request;
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| format!("bad method {:?}", request.method))?;
    let uri: http::Uri = request
        .url
        .parse()
        .map_err(|e| format!("bad url {:?}: {e}", request.url))?;
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
    let lower = |name: &str| name.to_ascii_lowercase();
    let required: Vec<String> = entry
        .require_headers
        .iter()
        .flatten()
        .map(|name| lower(name))
        .collect();
    let headers = request
        .headers
        .iter()
        .map(|h| (lower(&h.name), h.value.clone()))
        // Headers that vary by client and say nothing about the API are relaxed unless a case
        // asks for them, as smithy-rs's replay client does.
        .filter(|(name, _)| !RELAXED.contains(&name.as_str()) || required.contains(name))
        .collect();
    let body = match &request.post_data {
        None => ExpectedBody::Empty,
        Some(post) if post.text.is_empty() => ExpectedBody::Empty,
        Some(post) if post.mime_type.to_ascii_lowercase().contains("json") => ExpectedBody::Json(
            serde_json::from_str(&post.text)
                .map_err(|e| format!("postData.text is not the JSON its mimeType says: {e}"))?,
        ),
        Some(post) => ExpectedBody::Bytes(Bytes::from(post.text.clone().into_bytes())),
    };
    Ok(ExpectedRequest {
        method,
        path_and_query,
        headers,
        forbid: entry
            .forbid_headers
            .iter()
            .flatten()
            .map(|name| lower(name))
            .collect(),
        body,
    })
}
