use bytes::Bytes;
use http::{Request, Response, StatusCode};

use backups_models::{BackupStreamedProgress, SeededBackup};

use super::{ApiOperation, STREAM_ACCEPT, build_request, json_body};
use crate::response::{check_status, media_type};
use crate::{Endpoint, Error, Operation, ProgressDecoder};

/// The media types a progress stream may come in.
const STREAM_TYPES: [&str; 4] = [
    "application/x-ndjson",
    "application/json",
    "application/json-seq",
    "application/jsonl",
];

/// `POST /backups/create/streamed`: backs the local database up, answering with progress events.
///
/// A client that reads the stream as it comes uses [`CreateBackupStreamed::check_head`] on the
/// response head, then feeds body chunks to a [`ProgressDecoder`]. `parse_response` reads a whole
/// body at once.
#[derive(Debug, Clone, Default)]
pub struct CreateBackupStreamed {
    /// The optional seed.
    pub seed: Option<SeededBackup>,
}

impl CreateBackupStreamed {
    /// Checks status and content type before the body is read; for an error status the body is
    /// still needed, so this answers `Ok(false)` and the caller reads the body and calls
    /// [`ApiOperation::parse_response`] to get the error.
    pub fn check_head<B>(response: &Response<B>) -> Result<bool, Error> {
        if response.status() != StatusCode::OK {
            return Ok(false);
        }
        match media_type(response) {
            Some(media) if !STREAM_TYPES.iter().any(|t| media.is(t)) => {
                Err(Error::UnexpectedContentType {
                    operation: Operation::CreateStreamed,
                    content_type: media.to_lowercase(),
                    expected: STREAM_ACCEPT,
                    excerpt: String::new(),
                })
            }
            _ => Ok(true),
        }
    }
}

impl ApiOperation for CreateBackupStreamed {
    type Output = Vec<BackupStreamedProgress>;
    const OPERATION: Operation = Operation::CreateStreamed;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(
            Self::OPERATION,
            endpoint,
            None,
            json_body(self.seed.as_ref())?,
        )
    }

    fn parse_response(response: Response<Bytes>) -> Result<Self::Output, Error> {
        check_status(Self::OPERATION, &response)?;
        Self::check_head(&response)?;
        let mut decoder = ProgressDecoder::new();
        decoder.push(response.body());
        decoder.finish();
        decoder.collect()
    }
}
