use bytes::Bytes;
use http::{Request, Response};

use backups_models::Backup;

use super::{ApiOperation, build_request, json_body};
use crate::response::empty;
use crate::{BackupId, Endpoint, Error, Operation};

/// `POST /backups/{backup}/delete`: deletes one backup; 204 (or any 2xx) on success.
#[derive(Debug, Clone)]
pub struct DeleteBackup {
    /// The backup to delete; never empty, always one encoded path segment.
    pub id: BackupId,
    /// The optional body the API accepts (the backup being deleted).
    pub backup: Option<Backup>,
}

impl DeleteBackup {
    /// Deletes the backup with this id.
    pub fn new(id: BackupId) -> Self {
        Self { id, backup: None }
    }
}

impl ApiOperation for DeleteBackup {
    type Output = ();
    const OPERATION: Operation = Operation::Delete;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(
            Self::OPERATION,
            endpoint,
            Some(&self.id),
            json_body(self.backup.as_ref())?,
        )
    }

    fn parse_response(response: Response<Bytes>) -> Result<(), Error> {
        empty(Self::OPERATION, &response)
    }
}
