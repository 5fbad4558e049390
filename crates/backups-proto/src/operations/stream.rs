//! What the streamed operations share: the check of a progress stream's head and the reading of
//! a whole stream.

use bytes::Bytes;
use http::Response;

use backups_models::BackupStreamedProgress;

use crate::STREAM_ACCEPT;
use crate::response::{check_status, media_type};
use crate::{Error, Operation, ProgressDecoder};

/// The media types a progress stream may come in.
const STREAM_TYPES: [&str; 4] = [
    "application/x-ndjson",
    "application/json",
    "application/json-seq",
    "application/jsonl",
];

/// Checks status and content type of a streamed `operation`'s response before the body is read;
/// for an error status the body is still needed, so this answers `Ok(false)` and the caller reads
/// the body and parses it to get the error.
pub(crate) fn check_head<B>(operation: Operation, response: &Response<B>) -> Result<bool, Error> {
    if response.status() != operation.spec().success {
        return Ok(false);
    }
    match media_type(response) {
        Some(media) if !STREAM_TYPES.iter().any(|t| media.is(t)) => {
            Err(Error::UnexpectedContentType {
                operation,
                content_type: media.to_lowercase(),
                expected: STREAM_ACCEPT,
                excerpt: String::new(),
            })
        }
        _ => Ok(true),
    }
}

/// Reads a whole progress stream: every event, or the error that ended it.
pub(crate) fn parse(
    operation: Operation,
    response: Response<Bytes>,
) -> Result<Vec<BackupStreamedProgress>, Error> {
    check_status(operation, &response)?;
    check_head(operation, &response)?;
    let mut decoder = ProgressDecoder::new().for_operation(operation);
    decoder.push(response.body());
    decoder.finish();
    decoder.collect()
}
