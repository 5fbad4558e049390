//! [`Operation`]: which API call a request or an error belongs to, and every wire fact about it.
//!
//! The enum, [`Operation::ALL`] and the facts come from the table of operations
//! (`src/table.rs`); everything generic (headers, URIs, retries, names in reports) follows
//! from an operation's row.

use core::fmt;

use http::{Method, StatusCode};

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
    /// An optional JSON `Assets`; `Content-Type: application/json` even when empty.
    Assets,
    /// An optional JSON `Asset`; `Content-Type: application/json` even when empty.
    Asset,
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

/// Expands the table into the enum, [`Operation::ALL`] and the rows behind [`Operation::spec`].
macro_rules! operation_enum {
    (
        http {
            $(
                $(#[doc = $doc:expr])*
                $Variant:ident {
                    kind: $kind:ident,
                    inputs: ($($input:ident),*),
                    output: $Output:ty,
                    any: $Any:ident,
                    methods: [$($method:ident),+],
                    spec: { $($spec:tt)* } $(,)?
                }
            ),* $(,)?
        }
        sockets {
            $(
                $(#[doc = $sdoc:expr])*
                $SVariant:ident {
                    spec: { $($sspec:tt)* } $(,)?
                }
            ),* $(,)?
        }
    ) => {
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
            $( $(#[doc = $doc])* $Variant, )*
            $( $(#[doc = $sdoc])* $SVariant, )*
        }

        impl Operation {
            /// Every operation, in the order of the enum: the HTTP calls (`BackupsApi`'s, then
            /// `BackupApi`'s), then the WebSocket channels.
            pub const ALL: [Operation; [$(stringify!($Variant),)* $(stringify!($SVariant),)*].len()] =
                [$(Self::$Variant,)* $(Self::$SVariant,)*];
        }

        /// The table: one row per operation, in the order of the enum's variants.
        static SPECS: [OperationSpec; Operation::ALL.len()] = [
            $( spec_row!(false, $($spec)*), )*
            $( spec_row!(true, $($sspec)*), )*
        ];
    };
}

/// One row of the table, from an entry's facts.
macro_rules! spec_row {
    (
        $websocket:literal,
        name: $name:literal,
        official_name: $official:literal,
        method: $method:ident,
        path: $path:literal,
        accept: $accept:expr,
        request: $request:ident,
        success: $success:ident,
        response: $response:ident,
        errors: $errors:ident,
        follow: [$($status:ident, $cancel:ident)?],
        describe: $describe:literal $(,)?
    ) => {
        OperationSpec {
            name: $name,
            official_name: $official,
            method: Method::$method,
            path: $path,
            accept: $accept,
            request: RequestBody::$request,
            success: StatusCode::$success,
            response: ResponseBody::$response,
            documented_errors: $errors,
            status: follows!($($status)?),
            cancel: follows!($($cancel)?),
            websocket: $websocket,
            describe: $describe,
        }
    };
}

/// `Some` operation of the table, or `None`.
macro_rules! follows {
    () => {
        None
    };
    ($operation:ident) => {
        Some(Operation::$operation)
    };
}

crate::__operations!(operation_enum);

/// The errors the API pages document for the four operations of `BackupsApi` and for reading
/// and restoring one backup.
const SIGN_IN_UPDATE_FAIL: &[u16] = &[500, 505, 511];
/// The errors the official SDKs declare for backing up assets (`POST /backup`, `/backup/asset`):
/// no 500 among them.
const SIGN_IN_UPDATE: &[u16] = &[505, 511];
/// The errors documented for the status endpoints: an id the server knows nothing about, and a
/// failure.
const UNKNOWN_OR_FAIL: &[u16] = &[404, 500];
/// The error documented for the cancel endpoints: nothing of that kind is in progress.
const NOTHING_RUNNING: &[u16] = &[500];
/// None documented (the WebSocket channels).
const NONE: &[u16] = &[];

/// What stands for the backup id in a path template.
pub(crate) const ID_PLACEHOLDER: &str = "{backup}";

impl Operation {
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
        assert!(!Operation::CreateOverWebSocket.is_idempotent());
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
