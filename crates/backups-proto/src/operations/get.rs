use bytes::Bytes;
use http::{Request, Response};

use backups_models::Backup;

use super::{ApiOperation, build_request};
use crate::response::json;
use crate::{BackupId, Endpoint, Error, Operation};

/// `GET /backup/{backup}`: one backup (`backup_specific_backup_snapshot` in the official SDKs).
///
/// A 404 (no backup with that id) is [`Error::NotFound`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBackup {
    /// The backup to read.
    pub id: BackupId,
}

impl ApiOperation for GetBackup {
    type Output = Backup;
    const OPERATION: Operation = Operation::Get;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(Self::OPERATION, endpoint, Some(&self.id), None)
    }

    fn parse_response(response: Response<Bytes>) -> Result<Backup, Error> {
        json(Self::OPERATION, &response)
    }
}
