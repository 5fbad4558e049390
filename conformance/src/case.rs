//! [`Case`]: a HAR file turned into what a test needs: the calls to make, the requests they must
//! produce, the responses to replay chunk by chunk, and the expected outcome.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde_json::Value;

use backups_models::{Backup, SeededBackup};
use backups_proto::Operation;

use crate::generate;
use crate::har::{Entry, Har};

/// The directory of the cases shipped with this crate.
pub const BUILTIN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/exchanges");

/// Why a case could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not a HAR document.
    #[error("{path} is not a HAR 1.2 document: {source}")]
    Har {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// The HAR document does not describe a valid case.
    #[error("case {case}: {reason}")]
    Invalid {
        /// The case name.
        case: String,
        /// What is wrong.
        reason: String,
    },
}

/// One conformance case: a HAR file of one or more exchanges, strictly ordered.
#[derive(Debug, Clone)]
pub struct Case {
    /// The file name without `.har`; also the name of its snapshot.
    pub name: String,
    /// The case family the results table counts it under, such as `error-status`.
    pub family: String,
    /// Where the case's facts come from.
    pub source: String,
    /// What the case is about.
    pub comment: String,
    /// How a live server reproduces the case, if it can.
    pub live: Option<LiveSetup>,
    /// The exchanges, in order.
    pub exchanges: Vec<Exchange>,
}

/// How a live server reproduces a case (the `_live` field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveSetup {
    /// The server as it starts.
    Plain,
    /// The server simulating a failure: `unauthenticated`, `outdated` or `internal-error`.
    Fault(String),
    /// A backup is created first; the case's delete uses its id.
    CreateFirst,
}

/// One call and what must happen on the wire.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The SDK call to make.
    pub call: Call,
    /// The request it must produce.
    pub request: ExpectedRequest,
    /// The response to answer with.
    pub response: RecordedResponse,
    /// The outcome the client must return.
    pub expect: Expect,
}

/// An SDK call with its arguments (the `_operation` field).
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `Client::list`.
    List,
    /// `Client::create` or `Client::create_with`.
    Create {
        /// The seed, if any.
        seed: Option<SeededBackup>,
    },
    /// `Client::create_streamed_with`, read to its end.
    CreateStreamed {
        /// The seed, if any.
        seed: Option<SeededBackup>,
    },
    /// `Client::execute(&DeleteBackup)`.
    Delete {
        /// The id as the caller gives it (before encoding).
        id: String,
        /// The optional body (boxed: a backup is large next to the other calls).
        backup: Option<Box<Backup>>,
    },
}

impl Call {
    /// The operation the call makes.
    pub fn operation(&self) -> Operation {
        match self {
            Call::List => Operation::List,
            Call::Create { .. } => Operation::Create,
            Call::CreateStreamed { .. } => Operation::CreateStreamed,
            Call::Delete { .. } => Operation::Delete,
        }
    }
}

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

/// The response replayed for an exchange.
#[derive(Debug, Clone)]
pub struct RecordedResponse {
    /// The status.
    pub status: http::StatusCode,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, split as it is delivered.
    pub chunks: Vec<Bytes>,
    /// Whether the connection drops after the last chunk instead of ending the body.
    pub abort: bool,
}

impl RecordedResponse {
    /// The whole body.
    pub fn body(&self) -> Bytes {
        let mut body = Vec::with_capacity(self.chunks.iter().map(Bytes::len).sum());
        for chunk in &self.chunks {
            body.extend_from_slice(chunk);
        }
        body.into()
    }
}

/// The outcome a case expects (the `_expect` field); the snapshot holds the full outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// `None` for success, or the name of the [`backups_proto::Error`] variant.
    pub error: Option<String>,
    /// The HTTP status the error carries.
    pub status: Option<u16>,
    /// The JSON path a decode error names.
    pub path: Option<String>,
    /// How many progress events a streamed call yields before its result.
    pub events: Option<usize>,
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            None => f.write_str("ok")?,
            Some(kind) => write!(f, "error {kind}")?,
        }
        if let Some(status) = self.status {
            write!(f, " status {status}")?;
        }
        if let Some(path) = &self.path {
            write!(f, " at `{path}`")?;
        }
        if let Some(events) = self.events {
            write!(f, " after {events} events")?;
        }
        Ok(())
    }
}

impl Case {
    /// Reads a case from a HAR file.
    pub fn load(path: &Path) -> Result<Case, CaseError> {
        let text = std::fs::read_to_string(path).map_err(|source| CaseError::Io {
            path: path.to_owned(),
            source,
        })?;
        let har = Har::from_json(&text).map_err(|source| CaseError::Har {
            path: path.to_owned(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        Case::from_har(name, &har)
    }

    /// Reads every `*.har` file of a directory, sorted by name.
    pub fn load_dir(dir: &Path) -> Result<Vec<Case>, CaseError> {
        let entries = std::fs::read_dir(dir).map_err(|source| CaseError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| CaseError::Io {
                path: dir.to_owned(),
                source,
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "har") {
                paths.push(path);
            }
        }
        paths.sort();
        paths.iter().map(|path| Case::load(path)).collect()
    }

    /// The cases shipped with this crate, in `conformance/exchanges/`.
    pub fn builtin() -> Result<Vec<Case>, CaseError> {
        Case::load_dir(Path::new(BUILTIN_DIR))
    }

    /// Builds a case from a parsed HAR document.
    pub fn from_har(name: String, har: &Har) -> Result<Case, CaseError> {
        let invalid = |reason: String| CaseError::Invalid {
            case: name.clone(),
            reason,
        };
        if har.log.entries.is_empty() {
            return Err(invalid("the log has no entries".into()));
        }
        let exchanges = har
            .log
            .entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                exchange(entry).map_err(|reason| invalid(format!("entry {index}: {reason}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let live = har
            .log
            .live
            .as_ref()
            .map(live_setup)
            .transpose()
            .map_err(invalid)?;
        Ok(Case {
            family: har.log.family.clone().unwrap_or_else(|| "recorded".into()),
            source: har.log.source.clone().unwrap_or_default(),
            comment: har.log.comment.clone().unwrap_or_default(),
            live,
            exchanges,
            name,
        })
    }

    /// The operation of the case's first call, which the results table files it under.
    pub fn operation(&self) -> Operation {
        self.exchanges[0].call.operation()
    }
}

fn live_setup(value: &Value) -> Result<LiveSetup, String> {
    match value {
        Value::Bool(true) => Ok(LiveSetup::Plain),
        Value::String(setup) if setup == "create-first" => Ok(LiveSetup::CreateFirst),
        Value::Object(map) => match map.get("fault").and_then(Value::as_str) {
            Some(fault) => Ok(LiveSetup::Fault(fault.to_owned())),
            None => Err(format!("_live: expected {{\"fault\": name}}, got {value}")),
        },
        other => Err(format!(
            "_live: expected true, \"create-first\" or {{\"fault\": name}}, got {other}"
        )),
    }
}

fn exchange(entry: &Entry) -> Result<Exchange, String> {
    let request = expected_request(entry)?;
    let call = match &entry.operation {
        Some(value) => call_from_value(value)?,
        None => infer_call(&request)?,
    };
    let response = recorded_response(entry)?;
    let expect = match &entry.expect {
        Some(value) => expect_from_value(value)?,
        None => return Err("_expect is missing: say what the client must return".into()),
    };
    Ok(Exchange {
        call,
        request,
        response,
        expect,
    })
}

fn call_from_value(value: &Value) -> Result<Call, String> {
    let (name, args) = match value {
        Value::String(name) => (name.as_str(), None),
        Value::Object(map) => (
            map.get("name")
                .and_then(Value::as_str)
                .ok_or("_operation needs a \"name\"")?,
            Some(map),
        ),
        other => {
            return Err(format!(
                "_operation: expected a name or an object, got {other}"
            ));
        }
    };
    let arg = |key: &str| args.and_then(|map| map.get(key)).filter(|v| !v.is_null());
    let seed = || -> Result<Option<SeededBackup>, String> {
        arg("seed")
            .map(|seed| serde_json::from_value(seed.clone()).map_err(|e| format!("seed: {e}")))
            .transpose()
    };
    match name {
        "list" => Ok(Call::List),
        "create" => Ok(Call::Create { seed: seed()? }),
        "create_streamed" => Ok(Call::CreateStreamed { seed: seed()? }),
        "delete" => Ok(Call::Delete {
            id: arg("id")
                .and_then(Value::as_str)
                .ok_or("delete needs an \"id\" string")?
                .to_owned(),
            backup: arg("backup")
                .map(|b| serde_json::from_value(b.clone()).map_err(|e| format!("backup: {e}")))
                .transpose()?
                .map(Box::new),
        }),
        other => Err(format!(
            "unknown operation {other:?}: expected list, create, create_streamed or delete"
        )),
    }
}

/// Works out the call from the request, for a HAR captured by another tool.
fn infer_call(request: &ExpectedRequest) -> Result<Call, String> {
    let path = request.path_and_query.split('?').next().unwrap_or_default();
    let seed = match &request.body {
        ExpectedBody::Json(value) => {
            Some(serde_json::from_value::<SeededBackup>(value.clone()).map_err(|e| e.to_string())?)
        }
        _ => None,
    };
    match (request.method.as_str(), path) {
        ("GET", "/backups") => Ok(Call::List),
        ("POST", "/backups/create") => Ok(Call::Create { seed }),
        ("POST", "/backups/create/streamed") => Ok(Call::CreateStreamed { seed }),
        ("POST", path) => {
            let segment = path
                .strip_prefix("/backups/")
                .and_then(|rest| rest.strip_suffix("/delete"))
                .ok_or_else(|| format!("no operation has the path {path}"))?;
            Ok(Call::Delete {
                id: percent_decode(segment)?,
                backup: match &request.body {
                    ExpectedBody::Json(value) => {
                        Some(serde_json::from_value(value.clone()).map_err(|e| e.to_string())?)
                    }
                    _ => None,
                },
            })
        }
        (method, path) => Err(format!("no operation is {method} {path}")),
    }
}

fn percent_decode(segment: &str) -> Result<String, String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| format!("bad percent-encoding in {segment:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{segment:?} does not decode to UTF-8"))
}

fn expected_request(entry: &Entry) -> Result<ExpectedRequest, String> {
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
        .filter(|(name, _)| {
            !crate::matching::RELAXED.contains(&name.as_str()) || required.contains(name)
        })
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

fn recorded_response(entry: &Entry) -> Result<RecordedResponse, String> {
    let response = &entry.response;
    let status = http::StatusCode::from_u16(response.status)
        .map_err(|_| format!("bad status {}", response.status))?;
    let content = &response.content;
    let text_body = || -> Result<Vec<u8>, String> {
        let text = content.text.clone().unwrap_or_default();
        match content.encoding.as_deref() {
            Some("base64") => BASE64
                .decode(text.as_bytes())
                .map_err(|e| format!("content.text is not base64: {e}")),
            None | Some("") => Ok(text.into_bytes()),
            Some(other) => Err(format!("unknown content.encoding {other:?}")),
        }
    };
    let body = match &entry.generate {
        Some(spec) => generate::body(spec)?,
        None => text_body()?,
    };
    let chunks = split_chunks(entry.chunks.as_ref(), body)?;
    Ok(RecordedResponse {
        status,
        headers: response
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect(),
        chunks,
        abort: entry.abort.unwrap_or(false),
    })
}

/// Splits a body as `_chunks` says: byte lengths, chunk texts, `{"base64": [..]}` or
/// `{"every": n}`.
fn split_chunks(spec: Option<&Value>, body: Vec<u8>) -> Result<Vec<Bytes>, String> {
    let body = Bytes::from(body);
    let Some(spec) = spec else {
        return Ok(if body.is_empty() { vec![] } else { vec![body] });
    };
    let given = |chunks: Vec<Bytes>| -> Result<Vec<Bytes>, String> {
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        // The chunks are the body; content.text, when present, must agree with them.
        if !body.is_empty() && joined != body {
            return Err("_chunks do not add up to content.text".into());
        }
        Ok(chunks)
    };
    match spec {
        Value::Array(items) if items.iter().all(Value::is_u64) => {
            let mut chunks = Vec::with_capacity(items.len());
            let mut at = 0usize;
            for len in items.iter().filter_map(Value::as_u64) {
                let end = at + len as usize;
                if end > body.len() {
                    return Err(format!(
                        "_chunks lengths add up past the body's {} bytes",
                        body.len()
                    ));
                }
                chunks.push(body.slice(at..end));
                at = end;
            }
            if at != body.len() {
                return Err(format!(
                    "_chunks lengths add up to {at} bytes, the body has {}",
                    body.len()
                ));
            }
            Ok(chunks)
        }
        Value::Array(items) => given(
            items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(|text| Bytes::from(text.to_owned()))
                        .ok_or_else(|| "_chunks: mix of lengths and strings".to_owned())
                })
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) if map.contains_key("base64") => given(
            map["base64"]
                .as_array()
                .ok_or("_chunks.base64 must be an array")?
                .iter()
                .map(|item| {
                    BASE64
                        .decode(item.as_str().unwrap_or_default())
                        .map(Bytes::from)
                        .map_err(|e| format!("_chunks.base64: {e}"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) if map.contains_key("every") => {
            let every = map["every"]
                .as_u64()
                .filter(|&n| n > 0)
                .ok_or("_chunks.every must be a positive integer")?
                as usize;
            Ok((0..body.len())
                .step_by(every)
                .map(|at| body.slice(at..(at + every).min(body.len())))
                .collect())
        }
        other => Err(format!("_chunks: unsupported form {other}")),
    }
}

fn expect_from_value(value: &Value) -> Result<Expect, String> {
    let map = value.as_object().ok_or("_expect must be an object")?;
    let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
    let error = match text("outcome").as_deref() {
        Some("ok") => None,
        Some("error") => {
            Some(text("error").ok_or("_expect: an error outcome names its \"error\"")?)
        }
        other => {
            return Err(format!(
                "_expect.outcome must be \"ok\" or \"error\", got {other:?}"
            ));
        }
    };
    Ok(Expect {
        error,
        status: map.get("status").and_then(Value::as_u64).map(|s| s as u16),
        path: text("path"),
        events: map
            .get("events")
            .and_then(Value::as_u64)
            .map(|n| n as usize),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chunk_forms() {
        let body = b"abcdef".to_vec();
        let lengths = split_chunks(Some(&json!([1, 2, 3])), body.clone()).unwrap();
        assert_eq!(lengths, vec![&b"a"[..], b"bc", b"def"]);
        assert!(split_chunks(Some(&json!([1, 2])), body.clone()).is_err());
        assert!(split_chunks(Some(&json!([4, 4])), body.clone()).is_err());
        let every = split_chunks(Some(&json!({"every": 4})), body.clone()).unwrap();
        assert_eq!(every, vec![&b"abcd"[..], b"ef"]);
        let texts = split_chunks(Some(&json!(["ab", "cdef"])), Vec::new()).unwrap();
        assert_eq!(texts, vec![&b"ab"[..], b"cdef"]);
        assert!(split_chunks(Some(&json!(["ab", "cd"])), body.clone()).is_err());
        let b64 = split_chunks(Some(&json!({"base64": ["YWI=", "/w=="]})), Vec::new()).unwrap();
        assert_eq!(b64, vec![&b"ab"[..], &[0xff][..]]);
    }

    #[test]
    fn infers_delete_with_decoded_id() {
        let request = ExpectedRequest {
            method: http::Method::POST,
            path_and_query: "/backups/a%2Fb%20c/delete".into(),
            headers: vec![],
            forbid: vec![],
            body: ExpectedBody::Empty,
        };
        assert_eq!(
            infer_call(&request).unwrap(),
            Call::Delete {
                id: "a/b c".into(),
                backup: None
            }
        );
    }
}
