use bytes::Bytes;
use http::{Request, Response};

use backups_models::{Backup, BackupStreamedProgress};

use super::{ApiOperation, build_request, json_body, stream};
use crate::response::json;
use crate::{BackupId, Endpoint, Error, Operation};

/// `POST /backup/{backup}/restore`: replaces the local database with the backup's content and
/// answers with the backup. Everything local is replaced, nothing is merged.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreBackup {
    /// The backup to restore.
    pub id: BackupId,
    /// The optional body the API accepts (the backup being restored).
    pub backup: Option<Backup>,
}

impl RestoreBackup {
    /// Restores the backup with this id.
    pub fn new(id: BackupId) -> Self {
        Self { id, backup: None }
    }
}

impl ApiOperation for RestoreBackup {
    type Output = Backup;
    const OPERATION: Operation = Operation::Restore;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        let body = json_body(self.backup.as_ref())?;
        build_request(Self::OPERATION, endpoint, Some(&self.id), body)
    }

    fn backup_id(&self) -> Option<&BackupId> {
        Some(&self.id)
    }

    fn parse_response(response: Response<Bytes>) -> Result<Backup, Error> {
        json(Self::OPERATION, &response)
    }
}

/// `POST /backup/{backup}/restore/streamed`: a restore answering with progress events,
/// negotiated exactly like the streamed create.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreBackupStreamed {
    /// The backup to restore.
    pub id: BackupId,
    /// The optional body the API accepts (the backup being restored).
    pub backup: Option<Backup>,
}

impl RestoreBackupStreamed {
    /// Restores the backup with this id, with progress.
    pub fn new(id: BackupId) -> Self {
        Self { id, backup: None }
    }
}

impl ApiOperation for RestoreBackupStreamed {
    type Output = Vec<BackupStreamedProgress>;
    const OPERATION: Operation = Operation::RestoreStreamed;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        let body = json_body(self.backup.as_ref())?;
        build_request(Self::OPERATION, endpoint, Some(&self.id), body)
    }

    fn backup_id(&self) -> Option<&BackupId> {
        Some(&self.id)
    }

    fn parse_response(response: Response<Bytes>) -> Result<Self::Output, Error> {
        stream::parse(Self::OPERATION, response)
    }
}
