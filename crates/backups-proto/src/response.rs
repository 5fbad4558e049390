//! What every operation does with a response: map documented error statuses, check the content
//! type, decode JSON naming the failing field.

use bytes::Bytes;
use http::Response;
use http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use crate::error::excerpt;
use crate::{Error, Operation};

/// Turns a status that is not the operation's documented success status into the SDK's error.
pub(crate) fn check_status(operation: Operation, response: &Response<Bytes>) -> Result<(), Error> {
    let status = response.status();
    if status == operation.spec().success {
        return Ok(());
    }
    let message = || excerpt(response.body()).trim().to_owned();
    Err(match status.as_u16() {
        511 => Error::Unauthenticated {
            operation,
            message: message(),
        },
        505 => Error::OsOutdated {
            operation,
            message: message(),
        },
        500 => Error::Internal {
            operation,
            message: message(),
        },
        // Only a path that names a backup can miss one; a 404 elsewhere is a wrong base URL.
        404 if operation.takes_id() => Error::NotFound {
            operation,
            message: message(),
        },
        _ => Error::UnexpectedStatus {
            operation,
            status,
            excerpt: message(),
        },
    })
}

/// The media type of a `Content-Type` value, without parameters, borrowed from the header:
/// checking it on every response allocates nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MediaType<'a>(&'a [u8]);

impl MediaType<'_> {
    /// Whether it is `expected` (a lowercase media type), ignoring ASCII case.
    pub(crate) fn is(self, expected: &str) -> bool {
        self.0.eq_ignore_ascii_case(expected.as_bytes())
    }

    /// Whether it holds JSON (`application/json` or any `+json` type).
    pub(crate) fn is_json(self) -> bool {
        const SUFFIX: &[u8] = b"+json";
        self.is("application/json")
            || (self.0.len() >= SUFFIX.len()
                && self.0[self.0.len() - SUFFIX.len()..].eq_ignore_ascii_case(SUFFIX))
    }

    /// The media type as text, lowercased, for an error message.
    pub(crate) fn to_lowercase(self) -> String {
        String::from_utf8_lossy(self.0).to_ascii_lowercase()
    }
}

/// The media type of the response's `Content-Type`, if it has one.
pub(crate) fn media_type(response: &Response<impl Sized>) -> Option<MediaType<'_>> {
    let value = response.headers().get(CONTENT_TYPE)?.as_bytes();
    let essence = value.split(|&b| b == b';').next().unwrap_or_default();
    Some(MediaType(essence.trim_ascii()))
}

/// Checks that a success response is JSON; a missing `Content-Type` is given the benefit of the
/// doubt, since JSON decoding will catch a body that is not.
pub(crate) fn require_json(operation: Operation, response: &Response<Bytes>) -> Result<(), Error> {
    match media_type(response) {
        Some(media) if !media.is_json() => Err(Error::UnexpectedContentType {
            operation,
            content_type: media.to_lowercase(),
            expected: "application/json",
            excerpt: excerpt(response.body()),
        }),
        _ => Ok(()),
    }
}

/// Reads a JSON success of `operation`: its status, its content type, then the model.
pub(crate) fn json<T: DeserializeOwned>(
    operation: Operation,
    response: &Response<Bytes>,
) -> Result<T, Error> {
    check_status(operation, response)?;
    require_json(operation, response)?;
    decode_json(operation, response.body())
}

/// Reads a success of `operation` that carries nothing: the documented status, or any other
/// 2xx, which means the same to a caller.
pub(crate) fn empty(operation: Operation, response: &Response<Bytes>) -> Result<(), Error> {
    if response.status().is_success() {
        return Ok(());
    }
    check_status(operation, response)
}

/// Decodes a JSON body, naming the path of the field that failed.
pub(crate) fn decode_json<T: DeserializeOwned>(
    operation: Operation,
    body: &[u8],
) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Decode {
            operation,
            path: "(root)".into(),
            message: "the body is empty where a JSON value is due".into(),
            excerpt: String::new(),
        });
    }
    // One UTF-8 check of the whole body, then serde_json reads it as `str` and does not check
    // each string again: about a sixth of a large listing's decode. A body that is not UTF-8
    // goes through the byte reader, which reports where.
    let Ok(text) = std::str::from_utf8(body) else {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let value = deserialize_value(operation, &mut deserializer, body)?;
        return end(operation, deserializer, body).map(|()| value);
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = deserialize_value(operation, &mut deserializer, body)?;
    end(operation, deserializer, body)?;
    Ok(value)
}

/// Checks that only whitespace follows the value `deserializer` read from `body`.
fn end<'de, R: serde_json::de::Read<'de>>(
    operation: Operation,
    mut deserializer: serde_json::Deserializer<R>,
    body: &[u8],
) -> Result<(), Error> {
    deserializer.end().map_err(|err| Error::Decode {
        operation,
        path: "(root)".into(),
        message: format!("more data after the JSON value: {err}"),
        excerpt: excerpt(body),
    })
}

/// Decodes one whole WebSocket text message, naming the path of the field that failed.
///
/// The text was checked as UTF-8 once, so serde_json reads it as `str` and does not check each
/// string again. The message arrived whole: a value that stops early is malformed JSON
/// ([`Error::Decode`]), not a body cut short.
pub(crate) fn decode_message<T: DeserializeOwned>(
    operation: Operation,
    text: &str,
) -> Result<T, Error> {
    let whole = |err: Error| match err {
        Error::Truncated { operation, detail } => Error::Decode {
            operation,
            path: "(root)".into(),
            message: format!("the message ends inside its JSON value ({detail})"),
            excerpt: excerpt(text.as_bytes()),
        },
        other => other,
    };
    if text.trim().is_empty() {
        return Err(Error::Decode {
            operation,
            path: "(root)".into(),
            message: "the message is empty where a JSON value is due".into(),
            excerpt: String::new(),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(&mut deserializer)
        .map_err(|first| whole(path_error::<T>(operation, first, text.as_bytes())))?;
    deserializer.end().map_err(|err| Error::Decode {
        operation,
        path: "(root)".into(),
        message: format!("more data after the JSON value: {err}"),
        excerpt: excerpt(text.as_bytes()),
    })?;
    Ok(value)
}

/// Deserializes one value from `deserializer`, which reads `bytes` from its start.
///
/// The value is decoded by serde_json alone, at full speed. Only when that fails is `bytes`
/// decoded again through `serde_path_to_error`, which names the failing field; the error is the
/// same either way, since decoding is deterministic. Tracking the path on every decode costs
/// about a third of the parse time of a large listing.
#[inline]
pub(crate) fn deserialize_value<'de, T: DeserializeOwned, R: serde_json::de::Read<'de>>(
    operation: Operation,
    deserializer: &mut serde_json::Deserializer<R>,
    bytes: &[u8],
) -> Result<T, Error> {
    T::deserialize(deserializer).map_err(|first| path_error::<T>(operation, first, bytes))
}

/// The error of a failed decode, with the path of the failing field.
#[cold]
#[inline(never)]
pub(crate) fn path_error<T: DeserializeOwned>(
    operation: Operation,
    first: serde_json::Error,
    bytes: &[u8],
) -> Error {
    let mut again = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut again) {
        Err(err) => decode_error(operation, err, bytes),
        // Cannot happen; report the first error without a path rather than hide it.
        Ok(_) => Error::Decode {
            operation,
            path: "(root)".into(),
            message: first.to_string(),
            excerpt: excerpt(bytes),
        },
    }
}

pub(crate) fn decode_error(
    operation: Operation,
    err: serde_path_to_error::Error<serde_json::Error>,
    body: &[u8],
) -> Error {
    let mut path = err.path().to_string();
    let inner = err.into_inner();
    let message = inner.to_string();
    // serde reports a missing field at its parent object: name the field itself.
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        path = if path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
    }
    if path == "." {
        path = "(root)".into();
    }
    let truncated = inner.is_eof();
    if truncated {
        return Error::Truncated {
            operation,
            detail: format!("the JSON body stops after {} bytes ({message})", body.len()),
        };
    }
    Error::Decode {
        operation,
        path,
        message,
        excerpt: excerpt(body),
    }
}
