//! [`Operation`]: which API call a request or an error belongs to, and every wire fact about it
//! in one table.
//!
//! To add an operation, add its variant, its entry in [`Operation::ALL`] and its row in `SPECS`;
//! everything generic (headers, URIs, retries, names in reports) follows from the row.

use core::fmt;

use http::{Method, StatusCode};

/// One operation of the Backups API.
///
/// Every request this crate builds carries its `Operation` in the request's extensions, so a
/// [`Transport`](crate::Transport) can tell a stream from a plain call, or an idempotent call from
/// one that must never be sent twice, without parsing paths.
///
/// ```
/// use backups_proto::Operation;
///
/// let delete = Operation::from_name("delete").unwrap();
/// assert_eq!(delete.path_template(), "/backups/{backup}/delete");
/// assert!(!delete.is_idempotent());
/// assert!(Operation::ALL.iter().all(|op| Operation::from_name(op.name()) == Some(*op)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// `GET /backups` (`backups_snapshot` in the official SDKs).
    List,
    /// `POST /backups/create`.
    Create,
    /// `POST /backups/create/streamed`.
    CreateStreamed,
    /// `POST /backups/{backup}/delete`.
    Delete,
    /// `GET /backup/{backup}`: one backup.
    Get,
    /// `POST /backup/{backup}/restore`: replaces the local database with the backup's content.
    Restore,
    /// `POST /backup/{backup}/restore/streamed`: a restore answering with progress events.
    RestoreStreamed,
    /// `GET /backup/{backup}/creation/status`.
    CreationStatus,
    /// `POST /backup/{backup}/creation/cancel`.
    CancelCreation,
    /// `GET /backup/{backup}/restoration/status`.
    RestorationStatus,
    /// `POST /backup/{backup}/restoration/cancel`: puts the original database back.
    CancelRestoration,
    /// WebSocket `GET /backups/streamed/progress`: a snapshot of every creation and restoration
    /// in progress, then one on every change.
    WatchProgress,
    /// WebSocket `GET /backups/create/streamed/websocket`: a create with its progress events.
    CreateOverSocket,
    /// WebSocket `GET /backup/{backup}/restore/streamed/websocket`: a restore with its progress
    /// events.
    RestoreOverSocket,
}

/// The `Accept` header of a progress stream: NDJSON first, a single JSON object understood too.
pub const STREAM_ACCEPT: &str = "application/x-ndjson, application/json";

/// What an operation's request carries as its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestBody {
    /// Nothing, and no `Content-Type`.
    None,
    /// An optional JSON `SeededBackup`; `Content-Type: application/json` even when empty, as the
    /// official client sends it.
    Seed,
    /// An optional JSON `Backup`; `Content-Type: application/json` even when empty.
    Backup,
}

/// What a successful response of an operation holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseBody {
    /// Nothing (204).
    Empty,
    /// One JSON `Backups`.
    Backups,
    /// One JSON `Backup`.
    Backup,
    /// A stream of `BackupStreamedProgress` events.
    Progress,
    /// One JSON `BackupStatus`.
    Status,
    /// `BackupsStreamedProgress` snapshots, one per WebSocket text message, until the client
    /// leaves.
    Snapshots,
}

/// The wire facts of one operation: one row of the table behind [`Operation`].
#[derive(Debug)]
#[non_exhaustive]
pub struct OperationSpec {
    /// A short machine-friendly name, as used in tracing spans, reports and HAR cases.
    pub name: &'static str,
    /// The official SDKs' (Python) name of the operation.
    pub official_name: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path under the base URL; `{backup}` stands for the encoded backup id.
    pub path: &'static str,
    /// The `Accept` header the official client sends.
    pub accept: &'static str,
    /// What the request carries.
    pub request: RequestBody,
    /// The documented success status.
    pub success: StatusCode,
    /// What a success carries.
    pub response: ResponseBody,
    /// The error statuses the API page documents.
    pub documented_errors: &'static [u16],
    /// The operation that reads the status of what this one starts (a create's or a restore's).
    pub status: Option<Operation>,
    /// The operation that cancels what this one starts.
    pub cancel: Option<Operation>,
    /// Whether the operation is a WebSocket channel: its request is the handshake, its input
    /// (the request body's model) goes as the first text message, and each event is a text
    /// message.
    pub websocket: bool,
    /// What the operation does, in words for error messages ("list backups").
    pub describe: &'static str,
}

/// The table: one row per operation, in the order of the enum's variants.
static SPECS: [OperationSpec; Operation::ALL.len()] = [
    OperationSpec {
        name: "list",
        official_name: "backups_snapshot",
        method: Method::GET,
        path: "/backups",
        accept: "application/json",
        request: RequestBody::None,
        success: StatusCode::OK,
        response: ResponseBody::Backups,
        documented_errors: SIGN_IN_UPDATE_FAIL,
        status: None,
        cancel: None,
        websocket: false,
        describe: "list backups",
    },
    OperationSpec {
        name: "create",
        official_name: "backups_create_new_backup",
        method: Method::POST,
        path: "/backups/create",
        accept: "application/json",
        request: RequestBody::Seed,
        success: StatusCode::OK,
        response: ResponseBody::Backup,
        documented_errors: SIGN_IN_UPDATE_FAIL,
        status: Some(Operation::CreationStatus),
        cancel: Some(Operation::CancelCreation),
        websocket: false,
        describe: "create a backup",
    },
    OperationSpec {
        name: "create_streamed",
        official_name: "backups_create_new_backup_streamed",
        method: Method::POST,
        path: "/backups/create/streamed",
        accept: STREAM_ACCEPT,
        request: RequestBody::Seed,
        success: StatusCode::OK,
        response: ResponseBody::Progress,
        documented_errors: SIGN_IN_UPDATE_FAIL,
        status: Some(Operation::CreationStatus),
        cancel: Some(Operation::CancelCreation),
        websocket: false,
        describe: "create a backup (streamed)",
    },
    OperationSpec {
        name: "delete",
        official_name: "backups_delete_specific_backup",
        method: Method::POST,
        path: "/backups/{backup}/delete",
        // The official client's; a success has no body.
        accept: "text/plain",
        request: RequestBody::Backup,
        success: StatusCode::NO_CONTENT,
        response: ResponseBody::Empty,
        documented_errors: SIGN_IN_UPDATE_FAIL,
        status: None,
        cancel: None,
        websocket: false,
        describe: "delete a backup",
    },
    OperationSpec {
        name: "get",
        official_name: "backup_specific_backup_snapshot",
        method: Method::GET,
        path: "/backup/{backup}",
        accept: "application/json",
        request: RequestBody::None,
        success: StatusCode::OK,
        response: ResponseBody::Backup,
        documented_errors: SIGN_IN_UPDATE_FAIL,
        status: None,
        cancel: None,
        websocket: false,
        describe: "read a backup",
    },
    OperationSpec {
        name: "restore",
        official_name: "backup_restore_specific_backup",
        method: Method::POST,
        path: "/backup/{backup}/restore",
        accept: "application/json",
        request: RequestBody::Backup,
        success: StatusCode::OK,
        response: ResponseBody::Backup,
        documented_errors: SIGN_IN_UPDATE_FAIL,
        status: Some(Operation::RestorationStatus),
        cancel: Some(Operation::CancelRestoration),
        websocket: false,
        describe: "restore a backup",
    },
    OperationSpec {
        name: "restore_streamed",
        official_name: "backup_restore_specific_backup_streamed",
        method: Method::POST,
        path: "/backup/{backup}/restore/streamed",
        // Negotiated like the streamed create (the official client sends application/json and
        // gets the single final event).
        accept: STREAM_ACCEPT,
        request: RequestBody::Backup,
        success: StatusCode::OK,
        response: ResponseBody::Progress,
        documented_errors: SIGN_IN_UPDATE_FAIL,
        status: Some(Operation::RestorationStatus),
        cancel: Some(Operation::CancelRestoration),
        websocket: false,
        describe: "restore a backup (streamed)",
    },
    OperationSpec {
        name: "creation_status",
        official_name: "backup_specific_creation_status",
        method: Method::GET,
        path: "/backup/{backup}/creation/status",
        accept: "application/json",
        request: RequestBody::None,
        success: StatusCode::OK,
        response: ResponseBody::Status,
        documented_errors: UNKNOWN_OR_FAIL,
        status: None,
        cancel: None,
        websocket: false,
        describe: "read the status of a backup's creation",
    },
    OperationSpec {
        name: "cancel_creation",
        official_name: "backup_specific_creation_cancel",
        method: Method::POST,
        path: "/backup/{backup}/creation/cancel",
        accept: "text/plain",
        // The official client sends no body and no Content-Type here.
        request: RequestBody::None,
        success: StatusCode::NO_CONTENT,
        response: ResponseBody::Empty,
        documented_errors: NOTHING_RUNNING,
        status: None,
        cancel: None,
        websocket: false,
        describe: "cancel the creation of a backup",
    },
    OperationSpec {
        name: "restoration_status",
        official_name: "backup_specific_restoration_status",
        method: Method::GET,
        path: "/backup/{backup}/restoration/status",
        accept: "application/json",
        request: RequestBody::None,
        success: StatusCode::OK,
        response: ResponseBody::Status,
        documented_errors: UNKNOWN_OR_FAIL,
        status: None,
        cancel: None,
        websocket: false,
        describe: "read the status of a restoration",
    },
    OperationSpec {
        name: "cancel_restoration",
        official_name: "backup_specific_restoration_cancel",
        method: Method::POST,
        path: "/backup/{backup}/restoration/cancel",
        accept: "text/plain",
        request: RequestBody::Backup,
        success: StatusCode::NO_CONTENT,
        response: ResponseBody::Empty,
        documented_errors: NOTHING_RUNNING,
        status: None,
        cancel: None,
        websocket: false,
        describe: "cancel a restoration",
    },
    OperationSpec {
        name: "watch_progress",
        official_name: "backups_streamed_progress",
        method: Method::GET,
        path: "/backups/streamed/progress",
        accept: "",
        request: RequestBody::None,
        success: StatusCode::SWITCHING_PROTOCOLS,
        response: ResponseBody::Snapshots,
        documented_errors: &[],
        status: None,
        cancel: None,
        websocket: true,
        describe: "watch backups and restores in progress",
    },
    OperationSpec {
        name: "create_websocket",
        official_name: "backups_create_new_backup_streamed_websocket",
        method: Method::GET,
        path: "/backups/create/streamed/websocket",
        accept: "",
        request: RequestBody::Seed,
        success: StatusCode::SWITCHING_PROTOCOLS,
        response: ResponseBody::Progress,
        documented_errors: &[],
        status: Some(Operation::CreationStatus),
        cancel: Some(Operation::CancelCreation),
        websocket: true,
        describe: "create a backup (over a WebSocket)",
    },
    OperationSpec {
        name: "restore_websocket",
        official_name: "backup_restore_specific_backup_streamed_websocket",
        method: Method::GET,
        path: "/backup/{backup}/restore/streamed/websocket",
        accept: "",
        request: RequestBody::Backup,
        success: StatusCode::SWITCHING_PROTOCOLS,
        response: ResponseBody::Progress,
        documented_errors: &[],
        status: Some(Operation::RestorationStatus),
        cancel: Some(Operation::CancelRestoration),
        websocket: true,
        describe: "restore a backup (over a WebSocket)",
    },
];

/// The errors the API pages document for the four operations of `BackupsApi` and for reading
/// and restoring one backup.
const SIGN_IN_UPDATE_FAIL: &[u16] = &[500, 505, 511];
/// The errors documented for the status endpoints: an id the server knows nothing about, and a
/// failure.
const UNKNOWN_OR_FAIL: &[u16] = &[404, 500];
/// The error documented for the cancel endpoints: nothing of that kind is in progress.
const NOTHING_RUNNING: &[u16] = &[500];

/// What stands for the backup id in a path template.
pub(crate) const ID_PLACEHOLDER: &str = "{backup}";

impl Operation {
    /// Every operation, in the order of the enum: `BackupsApi`'s four HTTP calls, `BackupApi`'s
    /// seven, then the three WebSocket channels.
    pub const ALL: [Operation; 14] = [
        Self::List,
        Self::Create,
        Self::CreateStreamed,
        Self::Delete,
        Self::Get,
        Self::Restore,
        Self::RestoreStreamed,
        Self::CreationStatus,
        Self::CancelCreation,
        Self::RestorationStatus,
        Self::CancelRestoration,
        Self::WatchProgress,
        Self::CreateOverSocket,
        Self::RestoreOverSocket,
    ];

    /// The HTTP calls of [`Operation::ALL`], the WebSocket channels left out.
    pub fn http() -> impl Iterator<Item = Operation> {
        Self::ALL.into_iter().filter(|op| !op.is_websocket())
    }

    /// The WebSocket channels of [`Operation::ALL`].
    pub fn websockets() -> impl Iterator<Item = Operation> {
        Self::ALL.into_iter().filter(|op| op.is_websocket())
    }

    /// The operation's row of the table.
    pub fn spec(self) -> &'static OperationSpec {
        &SPECS[self.index()]
    }

    /// The operation's position in [`Operation::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The operation named `name` (as [`Operation::name`] writes it).
    pub fn from_name(name: &str) -> Option<Operation> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// A short machine-friendly name, as used in tracing spans and reports.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The HTTP method of the operation.
    pub fn method(self) -> Method {
        self.spec().method.clone()
    }

    /// The path under the base URL, with `{backup}` where the encoded backup id goes.
    pub fn path_template(self) -> &'static str {
        self.spec().path
    }

    /// Whether the path names a backup (it holds `{backup}`).
    pub fn takes_id(self) -> bool {
        self.spec().path.contains(ID_PLACEHOLDER)
    }

    /// Whether sending the request twice has the same effect as sending it once, from the
    /// method (RFC 9110): the GETs are, no POST is, and no WebSocket handshake that starts a
    /// create or restore.
    ///
    /// A create sent twice makes two backups, so transports must never resend a call that is not
    /// once any of it may have reached the server.
    pub fn is_idempotent(self) -> bool {
        let spec = self.spec();
        // A socket that takes an input starts work with its handshake, GET as it is.
        spec.method.is_idempotent() && !(spec.websocket && spec.request != RequestBody::None)
    }

    /// Whether the operation is a WebSocket channel rather than an HTTP call.
    pub fn is_websocket(self) -> bool {
        self.spec().websocket
    }

    /// Whether the response body is a progress stream that may stay open for a long time.
    ///
    /// A transport gives such a response an idle timeout between chunks, never a total deadline.
    pub fn is_streamed(self) -> bool {
        self.spec().response == ResponseBody::Progress
    }

    /// What the operation does, in words for error messages ("list backups").
    pub fn describe(self) -> &'static str {
        self.spec().describe
    }

    /// Whether the operation starts a create or a restore (plain, streamed or over a socket):
    /// work that may outlast any request timeout, which has a status to follow it by.
    ///
    /// A transport never bounds the whole of such a plain call by a request timeout: the answer
    /// comes only when the work is done, which may take many minutes. The client watches it by
    /// its status instead (see [`Client::restore`](crate::Client::restore)).
    pub fn runs_long(self) -> bool {
        self.spec().status.is_some()
    }

    /// "creation" or "restoration" for the operations that start or follow one (as the status
    /// and cancel endpoints name them), else what the operation does.
    pub fn noun(self) -> &'static str {
        match self.spec().status {
            Some(Operation::CreationStatus) => "creation",
            Some(Operation::RestorationStatus) => "restoration",
            _ => match self {
                Operation::CreationStatus | Operation::CancelCreation => "creation",
                Operation::RestorationStatus | Operation::CancelRestoration => "restoration",
                _ => self.describe(),
            },
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_enum() {
        for (index, op) in Operation::ALL.into_iter().enumerate() {
            assert_eq!(op.index(), index, "{op:?} is out of place in ALL");
            assert_eq!(Operation::from_name(op.name()), Some(op));
            assert!(op.spec().path.starts_with('/'), "{op}");
        }
        let mut names: Vec<_> = Operation::ALL.iter().map(|op| op.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            Operation::ALL.len(),
            "two operations share a name"
        );
        assert_eq!(Operation::from_name("nope"), None);
    }

    #[test]
    fn idempotence_comes_from_the_method() {
        for op in Operation::ALL {
            let starts_work = op.is_websocket() && op.spec().request != RequestBody::None;
            assert_eq!(
                op.is_idempotent(),
                op.method() == Method::GET && !starts_work,
                "{op}"
            );
        }
        assert!(Operation::WatchProgress.is_idempotent());
        assert!(!Operation::CreateOverSocket.is_idempotent());
    }

    #[test]
    fn bodiless_requests_are_the_gets() {
        for op in Operation::ALL.into_iter().filter(|op| !op.is_websocket()) {
            if op.method() == Method::GET {
                assert_eq!(op.spec().request, RequestBody::None, "{op}");
            }
        }
    }
}
