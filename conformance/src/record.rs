//! Recording fresh cases from a live server (a Pieces OS or `backups-server`): what
//! `cargo xtask record` runs.
//!
//! Each operation is called once with the SDK's own requests, over a plain HTTP/1.1 connection
//! that notes how the response body was chunked, and written as a HAR case whose `_expect` is what
//! the SDK makes of the recorded response. Redaction replaces the host and every device name with
//! placeholders of the same byte length, so that the recorded chunk lengths stay true.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde_json::Value;

use backups_proto::{BaseUrl, Endpoint, Operation};

use crate::case::{Call, Case};
use crate::har::{
    CallField, Chunks, Content, Creator, Entry, ExpectField, ExpectedOutcome, Har, Live, LiveStep,
    Log, NameValue, OperationField, PostData, Request, Response,
};
use crate::http1;
use crate::suite::run_replay;

/// What to record and where.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// The server's base URL, such as `http://127.0.0.1:39300`.
    pub base_url: String,
    /// The directory the HAR files go to.
    pub out_dir: PathBuf,
    /// Whether to replace the host and device names with placeholders.
    pub redact: bool,
    /// The start of each file name, such as `recorded_`.
    pub prefix: String,
}

/// Why recording failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The base URL is not one, or a request could not be built.
    #[error("{0}")]
    Sdk(#[from] backups_proto::Error),
    /// The server could not be reached or answered with something that is not HTTP/1.1.
    #[error("the {operation} call failed: {source}")]
    Io {
        /// The operation being recorded.
        operation: Operation,
        /// The IO error.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The recording does not load back as a case (a bug of the recorder).
    #[error("the recording does not load as a case: {0}")]
    Case(#[from] crate::case::CaseError),
}

/// The id `record` asks about to record each "unknown backup" answer.
const UNKNOWN_ID: &str = "no-such-backup";

/// Records one case per operation and returns the files written.
///
/// Operations whose path names no backup come first, in the order of [`Operation::ALL`]; then
/// those that name one, on the backup that `create` made (`delete` last, so that recording leaves
/// the server as it found it), and each once more on an id the server does not hold
/// (`<name>_unknown_id`).
pub fn record(options: &RecordOptions) -> Result<Vec<PathBuf>, RecordError> {
    let base: BaseUrl = options.base_url.parse()?;
    let endpoint = Endpoint::new(base.clone());
    let authority = base.authority().as_str().to_owned();
    let mut written = Vec::new();

    let mut save = |name: &str, call: Call, live: Live| {
        let request = call.to_operation()?.request(&endpoint)?;
        let response =
            http1::round_trip(&authority, &request).map_err(|source| RecordError::Io {
                operation: call.operation,
                source,
            })?;
        let har = to_har(options, &call, live, &request, response)?;
        let path = options
            .out_dir
            .join(format!("{}{name}.har", options.prefix));
        std::fs::write(&path, har.to_json()).map_err(|source| RecordError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
        Ok::<Har, RecordError>(har)
    };
    let call = |operation: Operation, id: Option<&str>| Call {
        operation,
        id: id.map(str::to_owned),
        body: None,
    };

    let mut created_id = None;
    // The channels are not recorded (yet): a recording is one HTTP request.
    for operation in Operation::http().filter(|op| !op.takes_id()) {
        let har = save(operation.name(), call(operation, None), Live::Plain(true))?;
        if operation == Operation::Create {
            created_id = har.log.entries[0]
                .response
                .content
                .text
                .as_deref()
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .and_then(|backup| backup["id"].as_str().map(str::to_owned));
        }
    }
    let mut with_id: Vec<Operation> = Operation::http().filter(|op| op.takes_id()).collect();
    with_id.sort_by_key(|op| *op == Operation::Delete);
    if let Some(id) = &created_id {
        for &operation in &with_id {
            let live = Live::Step(LiveStep::CreateFirst);
            save(operation.name(), call(operation, Some(id)), live)?;
        }
    }
    for &operation in &with_id {
        let name = format!("{}_unknown_id", operation.name());
        save(&name, call(operation, Some(UNKNOWN_ID)), Live::Plain(true))?;
    }
    Ok(written)
}

fn to_har(
    options: &RecordOptions,
    call: &Call,
    live: Live,
    request: &http::Request<Bytes>,
    response: http1::RawResponse,
) -> Result<Har, RecordError> {
    let mut chunks = response.chunks;
    if options.redact {
        redact_chunks(&mut chunks);
    }
    let body: Vec<u8> = chunks.concat();
    let mut url = request.uri().to_string();
    if options.redact {
        if let Some(authority) = request.uri().authority() {
            url = url.replacen(authority.as_str(), "pieces-os.invalid", 1);
        }
    }
    let content_type = response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    let (text, encoding) = match String::from_utf8(body.clone()) {
        Ok(text) => (text, None),
        Err(_) => {
            use base64::Engine as _;
            (
                base64::engine::general_purpose::STANDARD.encode(&body),
                Some("base64".to_owned()),
            )
        }
    };
    let chunk_lengths =
        (chunks.len() > 1).then(|| Chunks::Lengths(chunks.iter().map(Bytes::len).collect()));
    let entry = Entry {
        started_date_time: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        time: 0.0,
        request: Request {
            method: request.method().to_string(),
            url,
            http_version: "HTTP/1.1".into(),
            headers: request
                .headers()
                .iter()
                .map(|(name, value)| NameValue {
                    name: name.to_string(),
                    value: value.to_str().unwrap_or_default().to_owned(),
                })
                .collect(),
            query_string: Vec::new(),
            post_data: (!request.body().is_empty()).then(|| PostData {
                mime_type: "application/json".into(),
                text: String::from_utf8_lossy(request.body()).into_owned(),
                extra: Default::default(),
            }),
            extra: Default::default(),
        },
        response: Response {
            status: response.status,
            status_text: response.reason,
            http_version: "HTTP/1.1".into(),
            headers: response
                .headers
                .iter()
                .filter(|(name, _)| !name.eq_ignore_ascii_case("date"))
                .map(|(name, value)| NameValue {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            content: Content {
                size: body.len() as i64,
                mime_type: content_type,
                text: Some(text),
                encoding,
                extra: Default::default(),
            },
            extra: Default::default(),
        },
        operation: Some(OperationField::Call(CallField {
            name: call.operation.name().to_owned(),
            id: call.id.clone(),
            seed: None,
            backup: None,
            assets: None,
            asset: None,
        })),
        chunks: chunk_lengths,
        generate: None,
        abort: None,
        follow_up: None,
        expect: Some(ExpectField {
            outcome: ExpectedOutcome::Ok,
            error: None,
            status: None,
            path: None,
            events: None,
        }),
        forbid_headers: None,
        require_headers: None,
        web_socket_messages: None,
        stall: None,
        refused: None,
        extra: Default::default(),
    };
    let mut har = Har {
        log: Log {
            version: "1.2".into(),
            creator: Creator {
                name: "backups-conformance record".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            comment: Some(format!(
                "Recorded from {}",
                if options.redact {
                    "a redacted host"
                } else {
                    &options.base_url
                }
            )),
            family: Some("recorded".into()),
            source: Some("recorded from a live server by cargo xtask record".into()),
            live: Some(live),
            entries: vec![entry],
            extra: Default::default(),
        },
    };
    // The expectation is what the SDK makes of the recording.
    let case = Case::from_har("recording".into(), &har)?;
    let run = run_replay(&case);
    if let Some(outcome) = run.outcomes.first() {
        let error = outcome.error();
        har.log.entries[0].expect = Some(ExpectField {
            outcome: match error {
                None => ExpectedOutcome::Ok,
                Some(_) => ExpectedOutcome::Error,
            },
            error: error.map(|err| err.kind.clone()),
            status: error.and_then(|err| err.status),
            path: error.and_then(|err| err.path.clone()),
            events: outcome.events.as_ref().map(Vec::len),
        });
    }
    Ok(har)
}

/// Replaces every device name in a body with a same-length placeholder, chunk lengths kept.
fn redact_chunks(chunks: &mut [Bytes]) {
    let lengths: Vec<usize> = chunks.iter().map(Bytes::len).collect();
    let mut body: Vec<u8> = chunks.concat();
    let mut names = Vec::new();
    // The body may be one JSON value or a stream of them: scan every line and the whole.
    let text = String::from_utf8_lossy(&body).into_owned();
    let values = std::iter::once(text.as_str())
        .chain(text.split(['\n', '\u{1e}']))
        .filter_map(|part| serde_json::from_str::<Value>(part.trim()).ok());
    for value in values {
        collect_device_names(&value, &mut names);
    }
    if let Ok(host) = std::env::var("HOSTNAME") {
        names.push(host);
    }
    names.retain(|name| !name.is_empty());
    names.sort_by_key(|name| std::cmp::Reverse(name.len()));
    names.dedup();
    for name in names {
        let needle = name.as_bytes();
        let placeholder = placeholder(needle.len());
        let mut at = 0;
        while let Some(found) = find(&body[at..], needle) {
            let start = at + found;
            body[start..start + needle.len()].copy_from_slice(&placeholder);
            at = start + needle.len();
        }
    }
    let body = Bytes::from(body);
    let mut at = 0;
    for (chunk, len) in chunks.iter_mut().zip(lengths) {
        *chunk = body.slice(at..at + len);
        at += len;
    }
}

fn collect_device_names(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "device_name" {
                    if let Some(name) = value.as_str() {
                        names.push(name.to_owned());
                    }
                }
                collect_device_names(value, names);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_device_names(v, names)),
        _ => {}
    }
}

fn placeholder(len: usize) -> Vec<u8> {
    b"redacted-device-"
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Where `cargo xtask record` writes by default: the built-in case directory.
pub fn default_out_dir() -> &'static Path {
    Path::new(crate::case::BUILTIN_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_chunk_lengths() {
        let body = "{\"device_name\":\"Zoë's Mac\",\"id\":\"Zoë's Mac-1\"}\n";
        let bytes = body.as_bytes();
        let mut chunks = vec![
            Bytes::copy_from_slice(&bytes[..18]),
            Bytes::copy_from_slice(&bytes[18..]),
        ];
        redact_chunks(&mut chunks);
        assert_eq!(chunks[0].len(), 18);
        assert_eq!(chunks[1].len(), bytes.len() - 18);
        let text = String::from_utf8(chunks.concat()).unwrap();
        assert!(!text.contains("Zo"), "{text}");
        assert!(text.contains("\"device_name\":\"redacted-d\""), "{text}");
    }
}
