use bytes::Bytes;
use http::{Request, Response};

use backups_models::Backups;

use super::{ApiOperation, build_request};
use crate::response::json;
use crate::{Endpoint, Error, Operation};

/// `GET /backups`: every backup (`backups_snapshot` in the official SDKs).
#[derive(Debug, Clone, Copy, Default)]
pub struct ListBackups;

impl ApiOperation for ListBackups {
    type Output = Backups;
    const OPERATION: Operation = Operation::List;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(Self::OPERATION, endpoint, None, None)
    }

    fn parse_response(response: Response<Bytes>) -> Result<Backups, Error> {
        json(Self::OPERATION, &response)
    }
}
