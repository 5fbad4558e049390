//! Checking a request against the recorded one, with a readable account of every difference.

use std::fmt;

use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;

use crate::case::{ExpectedBody, ExpectedMessage, ExpectedRequest};

/// A request that differs from the recording: where, and every difference found.
///
/// Its `Display` is the readable diff: one line per difference, and a unified diff of the two
/// JSON bodies when they differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The case.
    pub case: String,
    /// The position of the exchange in the case.
    pub exchange: usize,
    /// What was expected and what came, one line per difference.
    pub differences: Vec<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "request {} of case {} does not match the recording:",
            self.exchange, self.case
        )?;
        for difference in &self.differences {
            for line in difference.lines() {
                writeln!(f, "    {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Mismatch {}

/// What of a request is compared: the parts any HTTP stack exposes.
#[derive(Debug, Clone)]
pub struct SeenRequest<'a> {
    /// The method.
    pub method: &'a http::Method,
    /// The path and query as sent.
    pub path_and_query: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The body.
    pub body: &'a Bytes,
}

/// Lists every way `seen` differs from `expected`; empty when it matches.
pub fn differences(expected: &ExpectedRequest, seen: &SeenRequest<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if *seen.method != expected.method {
        out.push(format!(
            "method: expected {}, got {}",
            expected.method, seen.method
        ));
    }
    if seen.path_and_query != expected.path_and_query {
        out.push(format!(
            "path: expected {}, got {}",
            expected.path_and_query, seen.path_and_query
        ));
    }
    let json_body = matches!(expected.body, ExpectedBody::Json(_));
    for (name, value) in &expected.headers {
        // A JSON body is compared as JSON, so its recorded length says nothing; the length sent
        // is checked against the body sent instead, below.
        if json_body && name == "content-length" {
            continue;
        }
        let got: Vec<&str> = seen
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| v.to_str().unwrap_or("<not UTF-8>"))
            .collect();
        match got.as_slice() {
            [] => out.push(format!("header {name}: expected {value:?}, missing")),
            [one] if one == value => {}
            _ => out.push(format!("header {name}: expected {value:?}, got {got:?}")),
        }
    }
    let lengths: Vec<&str> = seen
        .headers
        .get_all(http::header::CONTENT_LENGTH)
        .iter()
        .map(|v| v.to_str().unwrap_or("<not UTF-8>"))
        .collect();
    match lengths.as_slice() {
        [] => {}
        [one] if one.parse::<usize>().ok() == Some(seen.body.len()) => {}
        _ => out.push(format!(
            "header content-length: {lengths:?} for a body of {} bytes",
            seen.body.len()
        )),
    }
    for name in &expected.forbid {
        if let Some(value) = seen.headers.get(name.as_str()) {
            out.push(format!(
                "header {name}: must be absent, got {:?}",
                value.to_str().unwrap_or("<not UTF-8>")
            ));
        }
    }
    if let Some(difference) = body_difference(&expected.body, seen.body) {
        out.push(difference);
    }
    out
}

/// A data message as a client sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeenMessage<'a> {
    /// A text message.
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
}

/// How the message a client sent differs from the recorded one (JSON compared as JSON), or what
/// is wrong when either is missing; `None` when they match.
pub fn message_difference(
    expected: Option<&ExpectedMessage>,
    seen: Option<SeenMessage<'_>>,
) -> Option<String> {
    let describe = |seen: SeenMessage<'_>| match seen {
        SeenMessage::Text(text) => format!("text {:?}", backups_proto::excerpt(text.as_bytes())),
        SeenMessage::Binary(bytes) => {
            format!(
                "{} binary bytes {}",
                bytes.len(),
                backups_proto::excerpt(bytes)
            )
        }
    };
    match (expected, seen) {
        (None, None) => None,
        (None, Some(seen)) => Some(format!(
            "message: the recording has the client send nothing, got {}",
            describe(seen)
        )),
        (Some(expected), None) => Some(format!(
            "message: expected the client to send {}, it sent nothing",
            expected_text(expected)
        )),
        (Some(ExpectedMessage::Json(value)), Some(SeenMessage::Text(text))) => {
            match serde_json::from_str::<Value>(text) {
                Ok(got) if got == *value => None,
                Ok(got) => Some(format!(
                    "message differs as JSON (- expected, + got):\n{}",
                    json_diff(value, &got)
                )),
                Err(err) => Some(format!(
                    "message: expected JSON {value}, got text that is not JSON ({err}): {}",
                    backups_proto::excerpt(text.as_bytes())
                )),
            }
        }
        (Some(ExpectedMessage::Text(want)), Some(SeenMessage::Text(text))) if want == text => None,
        (Some(ExpectedMessage::Binary(want)), Some(SeenMessage::Binary(bytes)))
            if want.as_ref() == bytes =>
        {
            None
        }
        (Some(expected), Some(seen)) => Some(format!(
            "message: expected {}, got {}",
            expected_text(expected),
            describe(seen)
        )),
    }
}

fn expected_text(expected: &ExpectedMessage) -> String {
    match expected {
        ExpectedMessage::Json(value) => format!("JSON text {value}"),
        ExpectedMessage::Text(text) => format!("text {text:?}"),
        ExpectedMessage::Binary(bytes) => format!("{} binary bytes", bytes.len()),
    }
}

fn body_difference(expected: &ExpectedBody, seen: &Bytes) -> Option<String> {
    match expected {
        ExpectedBody::Empty if seen.is_empty() => None,
        ExpectedBody::Empty => Some(format!(
            "body: expected none, got {} bytes: {}",
            seen.len(),
            backups_proto::excerpt(seen)
        )),
        ExpectedBody::Bytes(bytes) if bytes == seen => None,
        ExpectedBody::Bytes(bytes) => Some(format!(
            "body: expected {:?}, got {:?}",
            backups_proto::excerpt(bytes),
            backups_proto::excerpt(seen)
        )),
        ExpectedBody::Json(value) => match serde_json::from_slice::<Value>(seen) {
            Ok(got) if got == *value => None,
            Ok(got) => Some(format!(
                "body differs as JSON (- expected, + got):\n{}",
                json_diff(value, &got)
            )),
            Err(err) if seen.is_empty() => {
                let _ = err;
                Some(format!("body: expected JSON {value}, got no body"))
            }
            Err(err) => Some(format!(
                "body: expected JSON {value}, got text that is not JSON ({err}): {}",
                backups_proto::excerpt(seen)
            )),
        },
    }
}

/// A unified line diff of two JSON values, pretty-printed with sorted keys so that only real
/// differences show.
pub fn json_diff(expected: &Value, got: &Value) -> String {
    // serde_json's map is a BTreeMap here (no preserve_order), so keys print sorted.
    let left = serde_json::to_string_pretty(expected).unwrap_or_default();
    let right = serde_json::to_string_pretty(got).unwrap_or_default();
    similar::TextDiff::from_lines(&left, &right)
        .unified_diff()
        .context_radius(3)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expected() -> ExpectedRequest {
        ExpectedRequest {
            method: http::Method::POST,
            path_and_query: "/backups/create".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            forbid: vec!["x-forbidden".into()],
            body: ExpectedBody::Json(json!({"schema": {"migration": 0, "semantic": "UNKNOWN"}})),
        }
    }

    #[test]
    fn json_bodies_compare_as_json() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        let body = Bytes::from_static(br#"{ "schema" : {"semantic":"UNKNOWN","migration":0} }"#);
        let seen = SeenRequest {
            method: &http::Method::POST,
            path_and_query: "/backups/create",
            headers: &headers,
            body: &body,
        };
        assert!(differences(&expected(), &seen).is_empty());
    }

    #[test]
    fn every_difference_is_listed() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "text/plain".parse().unwrap());
        headers.insert("x-forbidden", "1".parse().unwrap());
        let body = Bytes::from_static(br#"{"schema":{"migration":1,"semantic":"UNKNOWN"}}"#);
        let seen = SeenRequest {
            method: &http::Method::GET,
            path_and_query: "/backups",
            headers: &headers,
            body: &body,
        };
        let diffs = differences(&expected(), &seen);
        assert_eq!(diffs.len(), 5, "{diffs:#?}");
        assert!(diffs[4].contains("-    \"migration\": 0,"), "{}", diffs[4]);
        assert!(diffs[4].contains("+    \"migration\": 1,"), "{}", diffs[4]);
    }
}
