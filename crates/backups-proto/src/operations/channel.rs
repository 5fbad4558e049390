use bytes::Bytes;
use http::Request;
use serde::Serialize;

use backups_models::{Backup, SeededBackup};

use super::build_request;
use crate::{BackupId, Endpoint, Error, Operation};

/// A WebSocket channel: its handshake request and the message a client sends first.
pub trait ChannelOperation {
    /// Which channel this is.
    const OPERATION: Operation;

    /// The handshake request (the transport adds `Sec-WebSocket-Key`).
    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error>;

    /// The text message sent right after the handshake: the input as JSON (at least `{}`) for
    /// the sockets that take one, so that a server waiting for it starts too.
    fn first_message(&self) -> Result<Option<String>, Error>;

    /// The backup the channel's operation works on, when the handshake names it (a restore
    /// does): what its status is asked by if the socket breaks before the final event.
    fn backup_id(&self) -> Option<&BackupId> {
        None
    }
}

/// The JSON text of an optional input, `{}` when there is none.
fn input<T: Serialize>(value: Option<&T>) -> Result<Option<String>, Error> {
    match value {
        None => Ok(Some("{}".to_owned())),
        Some(value) => {
            serde_json::to_string(value)
                .map(Some)
                .map_err(|err| Error::InvalidRequest {
                    reason: format!("cannot serialize the first message: {err}"),
                })
        }
    }
}

/// WebSocket `GET /backups/streamed/progress`: snapshots of every creation and restoration in
/// progress. It takes no input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchProgress;

impl ChannelOperation for WatchProgress {
    const OPERATION: Operation = Operation::WatchProgress;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(Self::OPERATION, endpoint, None, None)
    }

    fn first_message(&self) -> Result<Option<String>, Error> {
        Ok(None)
    }
}

/// WebSocket `GET /backups/create/streamed/websocket`: a create, with an optional seed as the
/// first message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOverWebSocket {
    /// The optional seed.
    pub seed: Option<SeededBackup>,
}

impl ChannelOperation for CreateOverWebSocket {
    const OPERATION: Operation = Operation::CreateOverWebSocket;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(Self::OPERATION, endpoint, None, None)
    }

    fn first_message(&self) -> Result<Option<String>, Error> {
        input(self.seed.as_ref())
    }
}

/// WebSocket `GET /backup/{backup}/restore/streamed/websocket`: a restore, with the optional
/// backup as the first message.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreOverWebSocket {
    /// The backup to restore.
    pub id: BackupId,
    /// The optional input the API accepts (the backup being restored).
    pub backup: Option<Backup>,
}

impl RestoreOverWebSocket {
    /// Restores the backup with this id.
    pub fn new(id: BackupId) -> Self {
        Self { id, backup: None }
    }
}

impl ChannelOperation for RestoreOverWebSocket {
    const OPERATION: Operation = Operation::RestoreOverWebSocket;

    fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
        build_request(Self::OPERATION, endpoint, Some(&self.id), None)
    }

    fn backup_id(&self) -> Option<&BackupId> {
        Some(&self.id)
    }

    fn first_message(&self) -> Result<Option<String>, Error> {
        input(self.backup.as_ref())
    }
}
