use bytes::Bytes;
use http::{Request, Response};

use backups_models::{Backup, SeededBackup};

use super::{ApiOperation, build_request, json_body};
use crate::response::json;
use crate::{Endpoint, Error, Operation};

/// `POST /backups/create`: backs the local database up and answers with the new backup.
///
/// Without a seed the body is empty (`Content-Length: 0`), as the official client sends it; with
/// one it is the seed's JSON (`{}` for an empty seed).
#[derive(Debug, Clone, Default)]
pub struct CreateBackup {
    /// The optional seed.
    pub seed: Option<SeededBackup>,
}

impl ApiOperation for CreateBackup {
    type Output = Backup;
    const OPERATION: Operation = Operation::Create;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(
            Self::OPERATION,
            endpoint,
            None,
            json_body(self.seed.as_ref())?,
        )
    }

    fn parse_response(response: Response<Bytes>) -> Result<Backup, Error> {
        json(Self::OPERATION, &response)
    }
}
