use bytes::Bytes;
use http::{Request, Response};

use backups_models::Backup;

use super::{ApiOperation, build_request, json_body};
use crate::response::empty;
use crate::{BackupId, Endpoint, Error, Operation};

/// `POST /backup/{backup}/creation/cancel`: stops a create (plain or streamed) in progress.
///
/// The API answers 500 when no backup is being created: that is [`Error::Internal`] with the
/// server's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelCreation {
    /// The backup being created.
    pub id: BackupId,
}

impl ApiOperation for CancelCreation {
    type Output = ();
    const OPERATION: Operation = Operation::CancelCreation;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(Self::OPERATION, endpoint, Some(&self.id), None)
    }

    fn parse_response(response: Response<Bytes>) -> Result<(), Error> {
        empty(Self::OPERATION, &response)
    }
}

/// `POST /backup/{backup}/restoration/cancel`: stops a restore in progress and puts the original
/// database back.
///
/// The API answers 500 when no restore is in progress: that is [`Error::Internal`] with the
/// server's reason.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelRestoration {
    /// The backup being restored.
    pub id: BackupId,
    /// The optional body the API accepts (the backup being restored).
    pub backup: Option<Backup>,
}

impl CancelRestoration {
    /// Cancels the restoration of the backup with this id.
    pub fn new(id: BackupId) -> Self {
        Self { id, backup: None }
    }
}

impl ApiOperation for CancelRestoration {
    type Output = ();
    const OPERATION: Operation = Operation::CancelRestoration;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        let body = json_body(self.backup.as_ref())?;
        build_request(Self::OPERATION, endpoint, Some(&self.id), body)
    }

    fn parse_response(response: Response<Bytes>) -> Result<(), Error> {
        empty(Self::OPERATION, &response)
    }
}
