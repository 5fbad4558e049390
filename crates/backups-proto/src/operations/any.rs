//! [`AnyOperation`]: one value for any operation, built from its name, id and body, so that a
//! generic tool (the conformance suite, a recorder, a fuzzer, a scripting front end) drives every
//! operation through one code path.

use backups_models::{Backup, BackupStatus, BackupStreamedProgress, Backups, SeededBackup};
use serde::Serialize;
use serde::de::DeserializeOwned;

use bytes::Bytes;
use http::{Request, Response};

use super::{
    ApiOperation, CancelCreation, CancelRestoration, CreateBackup, CreateBackupStreamed,
    DeleteBackup, GetBackup, GetCreationStatus, GetRestorationStatus, ListBackups, RestoreBackup,
    RestoreBackupStreamed,
};
use crate::{BackupId, Client, Endpoint, Error, Operation, RequestBody, Transport};

/// Any operation with its inputs.
///
/// ```
/// use backups_proto::operations::AnyOperation;
/// use backups_proto::{BackupId, Operation};
///
/// let delete = AnyOperation::from_parts(Operation::Delete, Some(BackupId::new("b1")?), None)?;
/// assert_eq!(delete.operation(), Operation::Delete);
/// // An operation whose path names a backup cannot be built without one.
/// assert!(AnyOperation::from_parts(Operation::Delete, None, None).is_err());
/// # Ok::<(), backups_proto::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
// One value per call, built and moved once: boxing the larger bodies would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AnyOperation {
    /// [`ListBackups`].
    List(ListBackups),
    /// [`CreateBackup`].
    Create(CreateBackup),
    /// [`CreateBackupStreamed`].
    CreateStreamed(CreateBackupStreamed),
    /// [`DeleteBackup`].
    Delete(DeleteBackup),
    /// [`GetBackup`].
    Get(GetBackup),
    /// [`RestoreBackup`].
    Restore(RestoreBackup),
    /// [`RestoreBackupStreamed`].
    RestoreStreamed(RestoreBackupStreamed),
    /// [`GetCreationStatus`].
    CreationStatus(GetCreationStatus),
    /// [`CancelCreation`].
    CancelCreation(CancelCreation),
    /// [`GetRestorationStatus`].
    RestorationStatus(GetRestorationStatus),
    /// [`CancelRestoration`].
    CancelRestoration(CancelRestoration),
}

/// What any operation yields on success: the typed value of its [`ResponseBody`](crate::ResponseBody).
///
/// It serializes as the value itself (`null` for [`AnyOutput::Done`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
// One value per call, built and moved once: boxing the larger bodies would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AnyOutput {
    /// A listing.
    Backups(Backups),
    /// One backup (a streamed operation's finished backup included).
    Backup(Backup),
    /// The status of a creation or restoration.
    Status(BackupStatus),
    /// The events of a progress stream read whole (by [`AnyOperation::parse_response`]).
    Events(Vec<BackupStreamedProgress>),
    /// Success with nothing to return.
    Done,
}

impl AnyOperation {
    /// Builds `operation` from a backup id (required where its path names one, refused where it
    /// does not) and an optional JSON body, decoded as the operation's body model.
    pub fn from_parts(
        operation: Operation,
        id: Option<BackupId>,
        body: Option<&[u8]>,
    ) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidRequest { reason };
        if let (false, Some(id)) = (operation.takes_id(), &id) {
            return Err(invalid(format!(
                "{operation} takes no backup id, got {id:?}"
            )));
        }
        if operation.spec().request == RequestBody::None && body.is_some() {
            return Err(invalid(format!("{operation} takes no request body")));
        }
        let seed = || body_of::<SeededBackup>(operation, body);
        let backup = || body_of::<Backup>(operation, body);
        let id = || {
            id.clone()
                .ok_or_else(|| invalid(format!("{operation} needs a backup id")))
        };
        Ok(match operation {
            Operation::WatchProgress
            | Operation::CreateOverSocket
            | Operation::RestoreOverSocket => {
                return Err(not_http(operation));
            }
            Operation::List => Self::List(ListBackups),
            Operation::Create => Self::Create(CreateBackup { seed: seed()? }),
            Operation::CreateStreamed => {
                Self::CreateStreamed(CreateBackupStreamed { seed: seed()? })
            }
            Operation::Delete => Self::Delete(DeleteBackup {
                id: id()?,
                backup: backup()?,
            }),
            Operation::Get => Self::Get(GetBackup { id: id()? }),
            Operation::Restore => Self::Restore(RestoreBackup {
                id: id()?,
                backup: backup()?,
            }),
            Operation::RestoreStreamed => Self::RestoreStreamed(RestoreBackupStreamed {
                id: id()?,
                backup: backup()?,
            }),
            Operation::CreationStatus => Self::CreationStatus(GetCreationStatus { id: id()? }),
            Operation::CancelCreation => Self::CancelCreation(CancelCreation { id: id()? }),
            Operation::RestorationStatus => {
                Self::RestorationStatus(GetRestorationStatus { id: id()? })
            }
            Operation::CancelRestoration => Self::CancelRestoration(CancelRestoration {
                id: id()?,
                backup: backup()?,
            }),
        })
    }

    /// The request, as the operation's own [`ApiOperation::request`] builds it.
    pub fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        match self {
            Self::List(op) => op.request(endpoint),
            Self::Create(op) => op.request(endpoint),
            Self::CreateStreamed(op) => op.request(endpoint),
            Self::Delete(op) => op.request(endpoint),
            Self::Get(op) => op.request(endpoint),
            Self::Restore(op) => op.request(endpoint),
            Self::RestoreStreamed(op) => op.request(endpoint),
            Self::CreationStatus(op) => op.request(endpoint),
            Self::CancelCreation(op) => op.request(endpoint),
            Self::RestorationStatus(op) => op.request(endpoint),
            Self::CancelRestoration(op) => op.request(endpoint),
        }
    }

    /// Runs the operation through `client`; see [`Client::run`].
    pub(crate) async fn run_on<T: Transport>(
        &self,
        client: &Client<T>,
        on_event: impl FnMut(&BackupStreamedProgress),
    ) -> Result<AnyOutput, Error> {
        match self {
            Self::List(op) => client.execute(op).await.map(AnyOutput::Backups),
            Self::Create(op) => client
                .create_watched(op.clone())
                .await
                .map(AnyOutput::Backup),
            Self::CreateStreamed(op) => client
                .follow(client.open_stream(op).await?, on_event)
                .await
                .map(AnyOutput::Backup),
            Self::Delete(op) => client.execute(op).await.map(|()| AnyOutput::Done),
            Self::Get(op) => client.execute(op).await.map(AnyOutput::Backup),
            Self::Restore(op) => client
                .restore_watched(op.clone(), on_event)
                .await
                .map(AnyOutput::Backup),
            Self::RestoreStreamed(op) => client
                .follow(client.open_stream(op).await?, on_event)
                .await
                .map(AnyOutput::Backup),
            Self::CreationStatus(op) => client.execute(op).await.map(AnyOutput::Status),
            Self::CancelCreation(op) => client.execute(op).await.map(|()| AnyOutput::Done),
            Self::RestorationStatus(op) => client.execute(op).await.map(AnyOutput::Status),
            Self::CancelRestoration(op) => client.execute(op).await.map(|()| AnyOutput::Done),
        }
    }

    /// Reads a whole response of `operation` with that operation's own parser (a progress
    /// stream read whole yields all its events, or the error that ended it).
    pub fn parse_response(
        operation: Operation,
        response: Response<Bytes>,
    ) -> Result<AnyOutput, Error> {
        match operation {
            Operation::WatchProgress
            | Operation::CreateOverSocket
            | Operation::RestoreOverSocket => Err(not_http(operation)),
            Operation::List => ListBackups::parse_response(response).map(AnyOutput::Backups),
            Operation::Create => CreateBackup::parse_response(response).map(AnyOutput::Backup),
            Operation::CreateStreamed => {
                CreateBackupStreamed::parse_response(response).map(AnyOutput::Events)
            }
            Operation::Delete => DeleteBackup::parse_response(response).map(|()| AnyOutput::Done),
            Operation::Get => GetBackup::parse_response(response).map(AnyOutput::Backup),
            Operation::Restore => RestoreBackup::parse_response(response).map(AnyOutput::Backup),
            Operation::RestoreStreamed => {
                RestoreBackupStreamed::parse_response(response).map(AnyOutput::Events)
            }
            Operation::CreationStatus => {
                GetCreationStatus::parse_response(response).map(AnyOutput::Status)
            }
            Operation::CancelCreation => {
                CancelCreation::parse_response(response).map(|()| AnyOutput::Done)
            }
            Operation::RestorationStatus => {
                GetRestorationStatus::parse_response(response).map(AnyOutput::Status)
            }
            Operation::CancelRestoration => {
                CancelRestoration::parse_response(response).map(|()| AnyOutput::Done)
            }
        }
    }

    /// Which operation it is.
    pub fn operation(&self) -> Operation {
        match self {
            Self::List(_) => Operation::List,
            Self::Create(_) => Operation::Create,
            Self::CreateStreamed(_) => Operation::CreateStreamed,
            Self::Delete(_) => Operation::Delete,
            Self::Get(_) => Operation::Get,
            Self::Restore(_) => Operation::Restore,
            Self::RestoreStreamed(_) => Operation::RestoreStreamed,
            Self::CreationStatus(_) => Operation::CreationStatus,
            Self::CancelCreation(_) => Operation::CancelCreation,
            Self::RestorationStatus(_) => Operation::RestorationStatus,
            Self::CancelRestoration(_) => Operation::CancelRestoration,
        }
    }
}

/// Why a WebSocket channel is no `AnyOperation`: it is opened through the client's socket methods.
fn not_http(operation: Operation) -> Error {
    Error::InvalidRequest {
        reason: format!(
            "{operation} is a WebSocket channel, not an HTTP call: open it with \
             Client::watch_progress, create_over_websocket or restore_over_websocket"
        ),
    }
}

/// Decodes an operation's optional JSON body as the model `T`, insisting on a JSON object.
fn body_of<T: DeserializeOwned>(
    operation: Operation,
    body: Option<&[u8]>,
) -> Result<Option<T>, Error> {
    let Some(body) = body else {
        return Ok(None);
    };
    let model = core::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("model");
    let invalid = |why: String| Error::InvalidRequest {
        reason: format!("the {operation} body is not a {model}: {why}"),
    };
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|err| invalid(err.to_string()))?;
    if !value.is_object() {
        return Err(invalid("expected a JSON object".into()));
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|err| invalid(err.to_string()))
}
