use bytes::Bytes;
use http::{Request, Response};

use backups_models::BackupStatus;

use super::{ApiOperation, build_request};
use crate::response::json;
use crate::{BackupId, Endpoint, Error, Operation};

/// `GET /backup/{backup}/creation/status`: how the creation of a backup goes, or how it ended.
///
/// A 404 (the server knows of no creation of that id) is [`Error::NotFound`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetCreationStatus {
    /// The backup being (or having been) created.
    pub id: BackupId,
}

impl ApiOperation for GetCreationStatus {
    type Output = BackupStatus;
    const OPERATION: Operation = Operation::CreationStatus;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(Self::OPERATION, endpoint, Some(&self.id), None)
    }

    fn parse_response(response: Response<Bytes>) -> Result<BackupStatus, Error> {
        json(Self::OPERATION, &response)
    }
}

/// `GET /backup/{backup}/restoration/status`: how the restoration of a backup goes, or how it
/// ended.
///
/// A 404 (the server knows of no restoration of that id) is [`Error::NotFound`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRestorationStatus {
    /// The backup being (or having been) restored.
    pub id: BackupId,
}

impl ApiOperation for GetRestorationStatus {
    type Output = BackupStatus;
    const OPERATION: Operation = Operation::RestorationStatus;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(Self::OPERATION, endpoint, Some(&self.id), None)
    }

    fn parse_response(response: Response<Bytes>) -> Result<BackupStatus, Error> {
        json(Self::OPERATION, &response)
    }
}
