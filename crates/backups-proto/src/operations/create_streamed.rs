use bytes::Bytes;
use http::{Request, Response};

use backups_models::{BackupStreamedProgress, SeededBackup};

use super::{ApiOperation, build_request, json_body, stream};
use crate::{Endpoint, Error, Operation};

/// `POST /backups/create/streamed`: backs the local database up, answering with progress events.
///
/// A client that reads the stream as it comes uses [`CreateBackupStreamed::check_head`] on the
/// response head, then feeds body chunks to a [`ProgressDecoder`](crate::ProgressDecoder).
/// `parse_response` reads a whole
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
        stream::check_head(Self::OPERATION, response)
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
        stream::parse(Self::OPERATION, response)
    }
}
