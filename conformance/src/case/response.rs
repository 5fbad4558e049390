//! [`RecordedResponse`]: the response replayed for an exchange, its body from the HAR entry's
//! content (plain or base64) or generated, split into chunks as `_chunks` says.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;

use crate::generate;
use crate::har::{Chunks, Entry};

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

pub(crate) fn recorded_response(entry: &Entry) -> Result<RecordedResponse, String> {
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
        Some(spec) => generate::body(spec),
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

/// Splits a body as `_chunks` says.
fn split_chunks(spec: Option<&Chunks>, body: Vec<u8>) -> Result<Vec<Bytes>, String> {
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
        Chunks::Lengths(lengths) => {
            let mut chunks = Vec::with_capacity(lengths.len());
            let mut at = 0usize;
            for &len in lengths {
                let end = at + len;
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
        Chunks::Texts(texts) => given(texts.iter().map(|t| Bytes::from(t.clone())).collect()),
        Chunks::Base64 { base64 } => given(
            base64
                .iter()
                .map(|item| {
                    BASE64
                        .decode(item)
                        .map(Bytes::from)
                        .map_err(|e| format!("_chunks.base64: {e}"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Chunks::Every { every: 0 } => Err("_chunks.every must be a positive integer".into()),
        Chunks::Every { every } => Ok((0..body.len())
            .step_by(*every)
            .map(|at| body.slice(at..(at + every).min(body.len())))
            .collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chunk_forms() {
        let body = b"abcdef".to_vec();
        let chunks = |spec: serde_json::Value, body: &[u8]| {
            let spec: Chunks = serde_json::from_value(spec).unwrap();
            split_chunks(Some(&spec), body.to_vec())
        };
        let lengths = chunks(json!([1, 2, 3]), &body).unwrap();
        assert_eq!(lengths, vec![&b"a"[..], b"bc", b"def"]);
        assert!(chunks(json!([1, 2]), &body).is_err());
        assert!(chunks(json!([4, 4]), &body).is_err());
        let every = chunks(json!({"every": 4}), &body).unwrap();
        assert_eq!(every, vec![&b"abcd"[..], b"ef"]);
        assert!(chunks(json!({"every": 0}), &body).is_err());
        let texts = chunks(json!(["ab", "cdef"]), b"").unwrap();
        assert_eq!(texts, vec![&b"ab"[..], b"cdef"]);
        assert!(chunks(json!(["ab", "cd"]), &body).is_err());
        let b64 = chunks(json!({"base64": ["YWI=", "/w=="]}), b"").unwrap();
        assert_eq!(b64, vec![&b"ab"[..], &[0xff][..]]);
        assert!(serde_json::from_value::<Chunks>(json!([1, "a"])).is_err());
    }
}
