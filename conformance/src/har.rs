//! HTTP Archive (HAR 1.2) documents, read and written with this crate's own serde types.
//!
//! Only the parts of HAR 1.2 a case needs are typed; everything else a tool wrote (cookies,
//! timings, cache, `_initiator` and the like) is kept in `extra` maps so that a file round-trips.
//! The `har` crate is not used on purpose: it drops the underscore-prefixed custom fields, which
//! is where a case keeps what it expects. Those fields (`_operation`, `_expect`, `_chunks`,
//! `_generate`, `_live`, ...) are typed here too, so a misspelt one fails to load with serde's
//! message instead of being read by hand.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Any fields a type does not name, kept as they were.
pub type Extra = BTreeMap<String, Value>;

/// A HAR file: `{"log": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Har {
    /// The log.
    pub log: Log,
}

/// The `log` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Log {
    /// The HAR version, `1.2`.
    pub version: String,
    /// The tool that wrote the file.
    pub creator: Creator,
    /// What the case is about, in words (HAR's own `comment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The case family the results table counts it under (custom field `_family`).
    #[serde(rename = "_family", default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Where the case's facts come from (custom field `_source`): a section of `wire.md`, an
    /// observed official SDK behaviour, or a recording.
    #[serde(rename = "_source", default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How a live server reproduces the case (custom field `_live`); absent when it cannot.
    #[serde(rename = "_live", default, skip_serializing_if = "Option::is_none")]
    pub live: Option<Live>,
    /// The exchanges, in the order they must happen.
    pub entries: Vec<Entry>,
    /// Fields this type does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `creator` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Creator {
    /// The tool's name.
    pub name: String,
    /// The tool's version.
    pub version: String,
}

/// One exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// When the request started (ISO 8601).
    #[serde(default)]
    pub started_date_time: String,
    /// The total time in milliseconds.
    #[serde(default)]
    pub time: f64,
    /// The request the client must send.
    pub request: Request,
    /// The response replayed.
    pub response: Response,
    /// The operation and its arguments (custom field `_operation`).
    #[serde(
        rename = "_operation",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub operation: Option<OperationField>,
    /// How the response body is split when replayed (custom field `_chunks`).
    #[serde(rename = "_chunks", default, skip_serializing_if = "Option::is_none")]
    pub chunks: Option<Chunks>,
    /// A body generated at load time instead of `content.text` (custom field `_generate`).
    #[serde(rename = "_generate", default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<Generate>,
    /// Whether the connection drops after the last chunk (custom field `_abort`).
    #[serde(rename = "_abort", default, skip_serializing_if = "Option::is_none")]
    pub abort: Option<bool>,
    /// Whether this exchange is made by the previous entry's call rather than by a call of its own
    /// (custom field `_followUp`): a status poll of a streamed call that ended early, for one.
    /// Such an entry has neither `_operation` nor `_expect`.
    #[serde(rename = "_followUp", default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<bool>,
    /// The expected outcome (custom field `_expect`).
    #[serde(rename = "_expect", default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectField>,
    /// Request headers that must be absent (custom field `_forbidHeaders`).
    #[serde(
        rename = "_forbidHeaders",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub forbid_headers: Option<Vec<String>>,
    /// Recorded request headers checked even though they are relaxed by default, such as
    /// `user-agent` (custom field `_requireHeaders`).
    #[serde(
        rename = "_requireHeaders",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub require_headers: Option<Vec<String>>,
    /// The messages of a WebSocket exchange, in order, as browser devtools export them (custom
    /// field `_webSocketMessages`): what the client sent and what it received after the `101`.
    #[serde(
        rename = "_webSocketMessages",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub web_socket_messages: Option<Vec<WebSocketMessage>>,
    /// Whether the server of a WebSocket exchange goes silent after its last message, the
    /// connection left open (custom field `_stall`): a transport's idle timeout must end it.
    #[serde(rename = "_stall", default, skip_serializing_if = "Option::is_none")]
    pub stall: Option<bool>,
    /// Whether the client refuses the call before any IO (custom field `_refused`): nothing is
    /// sent, so the entry's request is what it would have been and its response has status 0,
    /// as browsers write a request that got no response.
    #[serde(rename = "_refused", default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<bool>,
    /// Fields this type does not name (`cache`, `timings`, a tool's own custom fields).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One message of a WebSocket exchange (an element of `_webSocketMessages`), as Chrome's and
/// Firefox's devtools write it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebSocketMessage {
    /// Who sent it: the client (`send`) or the server (`receive`).
    #[serde(rename = "type")]
    pub direction: Direction,
    /// When, in seconds (devtools write the epoch time); only the order of the array matters.
    #[serde(default)]
    pub time: f64,
    /// The frame's opcode: 1 text, 2 binary, 8 close.
    pub opcode: u8,
    /// The payload: the text (opcode 1), the bytes in base64 (opcode 2), or the close code
    /// (opcode 8, such as `"1000"`; empty for a close without a code).
    #[serde(default)]
    pub data: String,
    /// How the replay server writes the frame on the wire (custom field `_split`): the byte
    /// lengths of its first TCP segments, header included, each flushed on its own after a short
    /// pause; the rest of the frame goes last. A message is a message in process, so only
    /// transports over the replay server see it.
    #[serde(rename = "_split", default, skip_serializing_if = "Option::is_none")]
    pub split: Option<Vec<usize>>,
    /// Fields this type does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Who sent a WebSocket message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The client.
    Send,
    /// The server.
    Receive,
}

/// How a live server reproduces a case (`_live`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Live {
    /// `true`: the server as it starts (`false` says the case cannot be reproduced live).
    Plain(bool),
    /// A step the live run takes first, such as `"create-first"`.
    Step(LiveStep),
    /// `{"fault": name}`: the server simulating a failure (`unauthenticated`, `outdated`,
    /// `internal-error`).
    Fault {
        /// The fault's name, as `backups-server --simulate` takes it.
        fault: String,
    },
}

/// A step a live run takes before the case's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LiveStep {
    /// A backup is created first; the case's calls use its id.
    #[serde(rename = "create-first")]
    CreateFirst,
    /// A backup is created and restored first; the case's calls use its id (so that the server
    /// knows a finished restoration of it).
    #[serde(rename = "restore-first")]
    RestoreFirst,
    /// The streamed create or restore that the case's first call reads the status of or cancels
    /// is started first on a slowed server (a restore of a backup created for it); the case's
    /// calls use the id its first event names, while it runs.
    #[serde(rename = "while-running")]
    WhileRunning,
}

/// The SDK call of an entry (`_operation`): an operation's name, or the name with its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OperationField {
    /// Just the name, such as `"list"`.
    Name(String),
    /// The name with the operation's inputs.
    Call(CallField),
}

/// An operation's name with its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallField {
    /// The operation's name, as `backups_proto::Operation::name` writes it.
    pub name: String,
    /// The backup id as the caller gives it (before encoding), for operations whose path names
    /// one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The body of an operation that takes a `SeededBackup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<Value>,
    /// The body of an operation that takes a `Backup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<Value>,
    /// The body of an operation that takes an `Assets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets: Option<Value>,
    /// The body of an operation that takes an `Asset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<Value>,
}

/// How a replayed response body is split (`_chunks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Chunks {
    /// Byte lengths of the chunks of `content.text`, which they must add up to.
    Lengths(Vec<usize>),
    /// The chunks' texts (`content.text`, when present, must be their concatenation).
    Texts(Vec<String>),
    /// `{"base64": [..]}`: the chunks' bytes, base64-encoded.
    Base64 {
        /// One base64 string per chunk.
        base64: Vec<String>,
    },
    /// `{"every": n}`: chunks of `n` bytes (the last one shorter).
    Every {
        /// The chunk size, at least 1.
        every: usize,
    },
}

/// A response body generated at load time (`_generate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    /// A `Backups` listing of this many backups.
    pub backups: u64,
}

/// What the client must return (`_expect`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectField {
    /// Success or failure.
    pub outcome: ExpectedOutcome,
    /// The `backups_proto::ErrorKind` name of the error, for a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The HTTP status the error carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The JSON path a decode error names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How many progress events a streamed call yields before its result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<usize>,
}

/// `"ok"` or `"error"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectedOutcome {
    /// The call succeeds.
    Ok,
    /// The call fails.
    Error,
}

/// A header or query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameValue {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
}

/// The `request` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The method.
    pub method: String,
    /// The absolute URL; only its path and query are compared.
    pub url: String,
    /// The HTTP version, such as `HTTP/1.1`.
    #[serde(default)]
    pub http_version: String,
    /// The headers the request must carry (a subset: others are allowed).
    #[serde(default)]
    pub headers: Vec<NameValue>,
    /// The query parameters.
    #[serde(default)]
    pub query_string: Vec<NameValue>,
    /// The body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_data: Option<PostData>,
    /// Fields this type does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `postData` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostData {
    /// The media type of the body.
    #[serde(default)]
    pub mime_type: String,
    /// The body text.
    #[serde(default)]
    pub text: String,
    /// Fields this type does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `response` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    #[serde(default)]
    pub status_text: String,
    /// The HTTP version.
    #[serde(default)]
    pub http_version: String,
    /// The headers sent back.
    #[serde(default)]
    pub headers: Vec<NameValue>,
    /// The body.
    pub content: Content,
    /// Fields this type does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `content` object of a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// The body size in bytes.
    #[serde(default)]
    pub size: i64,
    /// The media type.
    #[serde(default)]
    pub mime_type: String,
    /// The body: text, or base64 when `encoding` says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `base64` when `text` is base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Fields this type does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Har {
    /// Reads a HAR document.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Writes a HAR document, pretty-printed with a final newline.
    pub fn to_json(&self) -> String {
        // Serializing plain strings, numbers and maps cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_underscore_and_unknown_fields() {
        let text = r#"{"log":{"version":"1.2","creator":{"name":"devtools","version":"1"},
            "_family":"success","_source":"wire.md","pages":[],
            "entries":[{"startedDateTime":"2026-01-01T00:00:00Z","time":1,
              "request":{"method":"GET","url":"http://h/backups","httpVersion":"HTTP/1.1",
                "headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},
              "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],
                "cookies":[],"content":{"size":2,"mimeType":"application/json","text":"{}"},
                "redirectURL":"","headersSize":-1,"bodySize":2},
              "cache":{},"timings":{"send":0,"wait":0,"receive":0},
              "_operation":"list","_chunks":[1,1],"_initiator":{"type":"other"}}]}}"#;
        let har = Har::from_json(text).unwrap();
        assert_eq!(har.log.family.as_deref(), Some("success"));
        assert!(har.log.extra.contains_key("pages"));
        let entry = &har.log.entries[0];
        assert_eq!(entry.operation, Some(OperationField::Name("list".into())));
        assert_eq!(entry.chunks, Some(Chunks::Lengths(vec![1, 1])));
        assert!(entry.extra.contains_key("_initiator"));
        assert!(entry.request.extra.contains_key("cookies"));
        let again = Har::from_json(&har.to_json()).unwrap();
        assert_eq!(again, har);
    }
}
