//! The definition of every operation of the Backups API: one entry each, from which the
//! [`Operation`](crate::Operation) enum and its wire facts, the operation's value type (with its
//! request and response parser), its arms of [`AnyOperation`](crate::operations::AnyOperation),
//! and its methods on [`Client`](crate::Client) (and on the blocking client of
//! `backups-blocking`) are all derived.
//!
//! Adding an HTTP operation whose models exist is one entry here. An HTTP entry reads:
//!
//! ```text
//! /// Docs: what it does, on the variant, the value type and the methods.
//! Variant = ValueType {
//!     kind: json | empty | stream | work,   // how it is read and run (below)
//!     inputs: () | (seed) | (id) | (id, backup) | (assets) | (asset),
//!     output: Rust type of a success,        // what `ApiOperation::Output` is
//!     any: AnyOutput variant,                // Backups, Backup, Status, Done or Events
//!     methods: [method] or [method, method_with_value],
//!     spec: { the wire facts, as `OperationSpec` names them },
//! }
//! ```
//!
//! - `json`: one JSON document, read whole; the client's method sends and parses it.
//! - `empty`: a bodiless success (204); the same.
//! - `stream`: a progress stream; the first method opens it, the second takes the value type.
//! - `work`: a plain create or restore, answered when the work is done: no request timeout cuts
//!   it, and it is watched by its status (or by Pieces OS's health) alongside; the second
//!   method takes the value type and reports each polled change.
//!
//! The WebSocket channels are entries too (the enum and the facts); their value types and
//! methods are written in `operations/channel.rs` and `client.rs`, since each socket has its own
//! first message.

/// Calls `$callback!` with the table of operations (see `src/table.rs` of `backups-proto`).
///
/// Not a public API: `backups-blocking` builds its methods from it, so that an operation is
/// defined once for the whole workspace.
#[doc(hidden)]
#[macro_export]
macro_rules! __operations {
    ($callback:ident) => {
        $callback! {
            http {
                /// `GET /backups`: every backup (`backups_snapshot` in the official SDKs).
                List {
                    kind: json,
                    inputs: (),
                    output: Backups,
                    any: Backups,
                    methods: [list],
                    spec: {
                        name: "list",
                        official_name: "backups_snapshot",
                        method: GET,
                        path: "/backups",
                        accept: "application/json",
                        request: None,
                        success: OK,
                        response: Backups,
                        errors: SIGN_IN_UPDATE_FAIL,
                        follow: [],
                        describe: "list backups",
                    },
                },
                /// `POST /backups/create`: backs the local database up and answers with the new
                /// backup.
                ///
                /// Without a seed the body is empty (`Content-Length: 0`), as the official client
                /// sends it; with one it is the seed's JSON (`{}` for an empty seed). The answer
                /// comes only when the backup is made, so no request timeout cuts it; Pieces OS's
                /// health check is asked alongside, and the call fails as
                /// [`TimeoutKind::Unanswered`](crate::TimeoutKind::Unanswered) when it goes
                /// unanswered. A create names its backup only in its answer, so a broken
                /// connection cannot be followed: the break is the error, and the backup may
                /// still appear in `list`.
                Create {
                    kind: work,
                    inputs: (seed),
                    output: Backup,
                    any: Backup,
                    methods: [create, create_watched],
                    spec: {
                        name: "create",
                        official_name: "backups_create_new_backup",
                        method: POST,
                        path: "/backups/create",
                        accept: "application/json",
                        request: Seed,
                        success: OK,
                        response: Backup,
                        errors: SIGN_IN_UPDATE_FAIL,
                        follow: [CreationStatus, CancelCreation],
                        describe: "create a backup",
                    },
                },
                /// `POST /backups/create/streamed`: backs the local database up, answering with
                /// its progress events as they come.
                CreateStreamed {
                    kind: stream,
                    inputs: (seed),
                    output: Vec<BackupStreamedProgress>,
                    any: Events,
                    methods: [create_streamed, create_streamed_with],
                    spec: {
                        name: "create_streamed",
                        official_name: "backups_create_new_backup_streamed",
                        method: POST,
                        path: "/backups/create/streamed",
                        accept: STREAM_ACCEPT,
                        request: Seed,
                        success: OK,
                        response: Progress,
                        errors: SIGN_IN_UPDATE_FAIL,
                        follow: [CreationStatus, CancelCreation],
                        describe: "create a backup (streamed)",
                    },
                },
                /// `POST /backups/{backup}/delete`: deletes one backup; 204 (or any 2xx) on
                /// success.
                Delete {
                    kind: empty,
                    inputs: (id, backup),
                    output: (),
                    any: Done,
                    methods: [delete],
                    spec: {
                        name: "delete",
                        official_name: "backups_delete_specific_backup",
                        method: POST,
                        path: "/backups/{backup}/delete",
                        // The official client's; a success has no body.
                        accept: "text/plain",
                        request: Backup,
                        success: NO_CONTENT,
                        response: Empty,
                        errors: SIGN_IN_UPDATE_FAIL,
                        follow: [],
                        describe: "delete a backup",
                    },
                },
                /// `GET /backup/{backup}`: one backup (`backup_specific_backup_snapshot` in the
                /// official SDKs); [`Error::NotFound`](crate::Error::NotFound) if there is none
                /// with that id.
                Get {
                    kind: json,
                    inputs: (id),
                    output: Backup,
                    any: Backup,
                    methods: [get],
                    spec: {
                        name: "get",
                        official_name: "backup_specific_backup_snapshot",
                        method: GET,
                        path: "/backup/{backup}",
                        accept: "application/json",
                        request: None,
                        success: OK,
                        response: Backup,
                        errors: SIGN_IN_UPDATE_FAIL,
                        follow: [],
                        describe: "read a backup",
                    },
                },
                /// `POST /backup/{backup}/restore`: replaces the local database with the
                /// backup's content (nothing is merged) and answers with the backup.
                ///
                /// The answer comes only when the restore is done, which may take many minutes,
                /// so no request timeout cuts it. Its status is asked alongside: if the status
                /// goes unanswered for [`Polling::unanswered`](crate::Polling::unanswered) the
                /// call fails as [`TimeoutKind::Unanswered`](crate::TimeoutKind::Unanswered); if
                /// the call's connection breaks, the restore is followed by its status to its
                /// real end, as [`Client::follow`](crate::Client::follow) does.
                Restore {
                    kind: work,
                    inputs: (id, backup),
                    output: Backup,
                    any: Backup,
                    methods: [restore, restore_watched],
                    spec: {
                        name: "restore",
                        official_name: "backup_restore_specific_backup",
                        method: POST,
                        path: "/backup/{backup}/restore",
                        accept: "application/json",
                        request: Backup,
                        success: OK,
                        response: Backup,
                        errors: SIGN_IN_UPDATE_FAIL,
                        follow: [RestorationStatus, CancelRestoration],
                        describe: "restore a backup",
                    },
                },
                /// `POST /backup/{backup}/restore/streamed`: a restore answering with its
                /// progress events as they come, negotiated like the streamed create.
                RestoreStreamed {
                    kind: stream,
                    inputs: (id, backup),
                    output: Vec<BackupStreamedProgress>,
                    any: Events,
                    methods: [restore_streamed, restore_streamed_with],
                    spec: {
                        name: "restore_streamed",
                        official_name: "backup_restore_specific_backup_streamed",
                        method: POST,
                        path: "/backup/{backup}/restore/streamed",
                        // Negotiated like the streamed create (the official client sends
                        // application/json and gets the single final event).
                        accept: STREAM_ACCEPT,
                        request: Backup,
                        success: OK,
                        response: Progress,
                        errors: SIGN_IN_UPDATE_FAIL,
                        follow: [RestorationStatus, CancelRestoration],
                        describe: "restore a backup (streamed)",
                    },
                },
                /// `GET /backup/{backup}/creation/status`: how the creation of a backup goes, or
                /// how it ended; [`Error::NotFound`](crate::Error::NotFound) for an id the server
                /// knows no creation of.
                CreationStatus {
                    kind: json,
                    inputs: (id),
                    output: BackupStatus,
                    any: Status,
                    methods: [creation_status],
                    spec: {
                        name: "creation_status",
                        official_name: "backup_specific_creation_status",
                        method: GET,
                        path: "/backup/{backup}/creation/status",
                        accept: "application/json",
                        request: None,
                        success: OK,
                        response: Status,
                        errors: UNKNOWN_OR_FAIL,
                        follow: [],
                        describe: "read the status of a backup's creation",
                    },
                },
                /// `POST /backup/{backup}/creation/cancel`: stops a create (plain or streamed) in
                /// progress. The API answers 500 when none is: that is
                /// [`Error::Internal`](crate::Error::Internal) with the server's reason.
                CancelCreation {
                    kind: empty,
                    inputs: (id),
                    output: (),
                    any: Done,
                    methods: [cancel_creation],
                    spec: {
                        name: "cancel_creation",
                        official_name: "backup_specific_creation_cancel",
                        method: POST,
                        path: "/backup/{backup}/creation/cancel",
                        accept: "text/plain",
                        // The official client sends no body and no Content-Type here.
                        request: None,
                        success: NO_CONTENT,
                        response: Empty,
                        errors: NOTHING_RUNNING,
                        follow: [],
                        describe: "cancel the creation of a backup",
                    },
                },
                /// `GET /backup/{backup}/restoration/status`: how the restoration of a backup
                /// goes, or how it ended; [`Error::NotFound`](crate::Error::NotFound) for an id
                /// the server knows no restoration of.
                RestorationStatus {
                    kind: json,
                    inputs: (id),
                    output: BackupStatus,
                    any: Status,
                    methods: [restoration_status],
                    spec: {
                        name: "restoration_status",
                        official_name: "backup_specific_restoration_status",
                        method: GET,
                        path: "/backup/{backup}/restoration/status",
                        accept: "application/json",
                        request: None,
                        success: OK,
                        response: Status,
                        errors: UNKNOWN_OR_FAIL,
                        follow: [],
                        describe: "read the status of a restoration",
                    },
                },
                /// `POST /backup/{backup}/restoration/cancel`: stops a restore in progress and
                /// puts the original database back. The API answers 500 when none is: that is
                /// [`Error::Internal`](crate::Error::Internal) with the server's reason.
                CancelRestoration {
                    kind: empty,
                    inputs: (id, backup),
                    output: (),
                    any: Done,
                    methods: [cancel_restoration],
                    spec: {
                        name: "cancel_restoration",
                        official_name: "backup_specific_restoration_cancel",
                        method: POST,
                        path: "/backup/{backup}/restoration/cancel",
                        accept: "text/plain",
                        request: Backup,
                        success: NO_CONTENT,
                        response: Empty,
                        errors: NOTHING_RUNNING,
                        follow: [],
                        describe: "cancel a restoration",
                    },
                },
                /// `POST /backup`: asks Pieces OS to back up assets, given as an optional
                /// [`Assets`](backups_models::Assets) body (`backup` in the official SDKs); 204 on
                /// success. Without assets the body is empty (`Content-Length: 0`), as the official
                /// client sends it. The official docs say nothing more of what it does.
                BackupAssets {
                    kind: empty,
                    inputs: (assets),
                    output: (),
                    any: Done,
                    methods: [backup_assets],
                    spec: {
                        name: "backup_assets",
                        official_name: "backup",
                        method: POST,
                        path: "/backup",
                        accept: "text/plain",
                        request: Assets,
                        success: NO_CONTENT,
                        response: Empty,
                        errors: SIGN_IN_UPDATE,
                        follow: [],
                        describe: "back up assets",
                    },
                },
                /// `POST /backup/asset`: asks Pieces OS to back up one asset, given as an optional
                /// [`Asset`](backups_models::Asset) body (`backup_asset` in the official SDKs); 204
                /// on success. Without an asset the body is empty, as the official client sends it.
                BackupAsset {
                    kind: empty,
                    inputs: (asset),
                    output: (),
                    any: Done,
                    methods: [backup_asset],
                    spec: {
                        name: "backup_asset",
                        official_name: "backup_asset",
                        method: POST,
                        path: "/backup/asset",
                        accept: "text/plain",
                        request: Asset,
                        success: NO_CONTENT,
                        response: Empty,
                        errors: SIGN_IN_UPDATE,
                        follow: [],
                        describe: "back up an asset",
                    },
                },
            }
            sockets {
                /// WebSocket `GET /backups/streamed/progress`: a snapshot of every creation and
                /// restoration in progress, then one on every change.
                WatchProgress {
                    spec: {
                        name: "watch_progress",
                        official_name: "backups_streamed_progress",
                        method: GET,
                        path: "/backups/streamed/progress",
                        accept: "",
                        request: None,
                        success: SWITCHING_PROTOCOLS,
                        response: Snapshots,
                        errors: NONE,
                        follow: [],
                        describe: "watch backups and restores in progress",
                    },
                },
                /// WebSocket `GET /backups/create/streamed/websocket`: a create with its progress
                /// events.
                CreateOverWebSocket {
                    spec: {
                        name: "create_over_websocket",
                        official_name: "backups_create_new_backup_streamed_websocket",
                        method: GET,
                        path: "/backups/create/streamed/websocket",
                        accept: "",
                        request: Seed,
                        success: SWITCHING_PROTOCOLS,
                        response: Progress,
                        errors: NONE,
                        follow: [CreationStatus, CancelCreation],
                        describe: "create a backup (over a WebSocket)",
                    },
                },
                /// WebSocket `GET /backup/{backup}/restore/streamed/websocket`: a restore with its
                /// progress events.
                RestoreOverWebSocket {
                    spec: {
                        name: "restore_over_websocket",
                        official_name: "backup_restore_specific_backup_streamed_websocket",
                        method: GET,
                        path: "/backup/{backup}/restore/streamed/websocket",
                        accept: "",
                        request: Backup,
                        success: SWITCHING_PROTOCOLS,
                        response: Progress,
                        errors: NONE,
                        follow: [RestorationStatus, CancelRestoration],
                        describe: "restore a backup (over a WebSocket)",
                    },
                },
            }
        }
    };
}
