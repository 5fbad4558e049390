//! The value type of every HTTP operation, with its [`ApiOperation`] impl, and [`AnyOperation`]'s
//! dispatch over them: all expanded from the table of operations (`src/table.rs`).

use backups_models::{
    Asset, Assets, Backup, BackupStatus, BackupStreamedProgress, Backups, SeededBackup,
};
use bytes::Bytes;
use http::{Request, Response};

use super::any::{body_of, needs_id, not_http};
use super::{ApiOperation, build_request, json_body, stream};
use crate::response::{empty, json};
use crate::{BackupId, Client, Endpoint, Error, Operation, Transport};

/// Expands the table's HTTP entries into their value types, [`AnyOperation`] and [`AnyOutput`].
macro_rules! value_types {
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
        sockets { $($sockets:tt)* }
    ) => {
        $(
            value_type!($(#[doc = $doc])* $Variant ($($input),*));

            impl ApiOperation for $Variant {
                type Output = $Output;
                const OPERATION: Operation = Operation::$Variant;

                fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
                    build_request(Self::OPERATION, endpoint, self.id(), self.body()?)
                }

                fn parse_response(response: Response<Bytes>) -> Result<$Output, Error> {
                    parse!($kind, Self::OPERATION, response)
                }

                fn backup_id(&self) -> Option<&BackupId> {
                    self.id()
                }
            }
        )*

        /// Any HTTP operation with its inputs: one value per operation of the table, so that a
        /// generic tool (the conformance suite, a recorder, a fuzzer, a scripting front end)
        /// drives every operation through one code path.
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
            $(
                #[doc = concat!("[`", stringify!($Variant), "`].")]
                $Variant($Variant),
            )*
        }

        impl AnyOperation {
            /// Builds `operation` from a backup id (required where its path names one, refused
            /// where it does not) and an optional JSON body, decoded as the operation's body
            /// model.
            pub fn from_parts(
                operation: Operation,
                id: Option<BackupId>,
                body: Option<&[u8]>,
            ) -> Result<Self, Error> {
                super::any::check_parts(operation, id.as_ref(), body)?;
                Ok(match operation {
                    $( Operation::$Variant => Self::$Variant($Variant::from_parts(id, body)?), )*
                    _ => return Err(not_http(operation)),
                })
            }

            /// The request, as the operation's own [`ApiOperation::request`] builds it.
            pub fn request(&self, endpoint: &Endpoint) -> Result<Request<Bytes>, Error> {
                match self {
                    $( Self::$Variant(op) => op.request(endpoint), )*
                }
            }

            /// Runs the operation through `client`; see [`Client::run`].
            pub(crate) async fn run_on<T: Transport>(
                &self,
                client: &Client<T>,
                mut on_event: impl FnMut(&BackupStreamedProgress),
            ) -> Result<AnyOutput, Error> {
                // Only the streamed and long-running operations report events.
                let _ = &mut on_event;
                match self {
                    $( Self::$Variant(op) => run!($kind, $Any, client, op, on_event), )*
                }
            }

            /// Reads a whole response of `operation` with that operation's own parser (a
            /// progress stream read whole yields all its events, or the error that ended it).
            pub fn parse_response(
                operation: Operation,
                response: Response<Bytes>,
            ) -> Result<AnyOutput, Error> {
                match operation {
                    $(
                        Operation::$Variant => {
                            $Variant::parse_response(response).map(any_output!($Any))
                        }
                    )*
                    _ => Err(not_http(operation)),
                }
            }

            /// Which operation it is.
            pub fn operation(&self) -> Operation {
                match self {
                    $( Self::$Variant(_) => Operation::$Variant, )*
                }
            }
        }
    };
}

/// A value type, named as its operation, of the shape its inputs give, with what its request and [`AnyOperation`] need:
/// the backup id its path names, its body, and how it is built from parts.
macro_rules! value_type {
    ($(#[doc = $doc:expr])* $Value:ident ()) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $Value;

        impl $Value {
            fn id(&self) -> Option<&BackupId> {
                None
            }

            fn body(&self) -> Result<Option<Bytes>, Error> {
                Ok(None)
            }

            fn from_parts(_: Option<BackupId>, _: Option<&[u8]>) -> Result<Self, Error> {
                Ok(Self)
            }
        }
    };
    ($(#[doc = $doc:expr])* $Value:ident (seed)) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $Value {
            /// The optional seed.
            pub seed: Option<SeededBackup>,
        }

        impl $Value {
            fn id(&self) -> Option<&BackupId> {
                None
            }

            fn body(&self) -> Result<Option<Bytes>, Error> {
                json_body(self.seed.as_ref())
            }

            fn from_parts(_: Option<BackupId>, body: Option<&[u8]>) -> Result<Self, Error> {
                Ok(Self {
                    seed: body_of::<SeededBackup>(Operation::$Value, body)?,
                })
            }
        }
    };
    ($(#[doc = $doc:expr])* $Value:ident (assets)) => {
        value_type!(@body $(#[doc = $doc])* $Value assets Assets);
    };
    ($(#[doc = $doc:expr])* $Value:ident (asset)) => {
        value_type!(@body $(#[doc = $doc])* $Value asset Asset);
    };
    // An operation whose one input is an optional body of the model `$Body`, in `$field`.
    (@body $(#[doc = $doc:expr])* $Value:ident $field:ident $Body:ident) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $Value {
            #[doc = concat!("The optional body: `None` sends none (`Content-Length: 0`).")]
            pub $field: Option<$Body>,
        }

        impl $Value {
            #[doc = concat!("A ", stringify!($Value), " with this body.")]
            pub fn new($field: $Body) -> Self {
                Self { $field: Some($field) }
            }

            fn id(&self) -> Option<&BackupId> {
                None
            }

            fn body(&self) -> Result<Option<Bytes>, Error> {
                json_body(self.$field.as_ref())
            }

            fn from_parts(_: Option<BackupId>, body: Option<&[u8]>) -> Result<Self, Error> {
                Ok(Self {
                    $field: body_of::<$Body>(Operation::$Value, body)?,
                })
            }
        }
    };
    ($(#[doc = $doc:expr])* $Value:ident (id)) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $Value {
            /// The backup; never empty, always one encoded path segment.
            pub id: BackupId,
        }

        impl $Value {
            #[doc = concat!("A ", stringify!($Value), " of the backup with this id.")]
            pub fn new(id: BackupId) -> Self {
                Self { id }
            }

            fn id(&self) -> Option<&BackupId> {
                Some(&self.id)
            }

            fn body(&self) -> Result<Option<Bytes>, Error> {
                Ok(None)
            }

            fn from_parts(id: Option<BackupId>, _: Option<&[u8]>) -> Result<Self, Error> {
                Ok(Self {
                    id: needs_id(Operation::$Value, id)?,
                })
            }
        }
    };
    ($(#[doc = $doc:expr])* $Value:ident (id, backup)) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $Value {
            /// The backup; never empty, always one encoded path segment.
            pub id: BackupId,
            /// The optional body the API accepts (the backup itself).
            pub backup: Option<Backup>,
        }

        impl $Value {
            #[doc = concat!("A ", stringify!($Value), " of the backup with this id, without a body.")]
            pub fn new(id: BackupId) -> Self {
                Self { id, backup: None }
            }

            fn id(&self) -> Option<&BackupId> {
                Some(&self.id)
            }

            fn body(&self) -> Result<Option<Bytes>, Error> {
                json_body(self.backup.as_ref())
            }

            fn from_parts(id: Option<BackupId>, body: Option<&[u8]>) -> Result<Self, Error> {
                Ok(Self {
                    id: needs_id(Operation::$Value, id)?,
                    backup: body_of::<Backup>(Operation::$Value, body)?,
                })
            }
        }
    };
}

/// How a whole response of each kind of operation is read.
macro_rules! parse {
    (json, $op:expr, $response:expr) => {
        json($op, &$response)
    };
    (work, $op:expr, $response:expr) => {
        json($op, &$response)
    };
    (empty, $op:expr, $response:expr) => {
        empty($op, &$response)
    };
    (stream, $op:expr, $response:expr) => {
        stream::parse($op, $response)
    };
}

/// How [`Client::run`] runs each kind of operation.
macro_rules! run {
    (json, $Any:ident, $client:expr, $op:expr, $on_event:expr) => {
        $client.execute($op).await.map(any_output!($Any))
    };
    (empty, $Any:ident, $client:expr, $op:expr, $on_event:expr) => {
        $client.execute($op).await.map(any_output!($Any))
    };
    (work, $Any:ident, $client:expr, $op:expr, $on_event:expr) => {
        $client
            .run_watched($op, &mut $on_event)
            .await
            .map(AnyOutput::Backup)
    };
    (stream, $Any:ident, $client:expr, $op:expr, $on_event:expr) => {
        $client
            .follow($client.open_stream($op).await?, $on_event)
            .await
            .map(AnyOutput::Backup)
    };
}

/// The [`AnyOutput`] of a value.
macro_rules! any_output {
    (Done) => {
        |()| AnyOutput::Done
    };
    ($Any:ident) => {
        AnyOutput::$Any
    };
}

crate::__operations!(value_types);

/// What any operation yields on success: the typed value of its
/// [`ResponseBody`](crate::ResponseBody).
///
/// It serializes as the value itself (`null` for [`AnyOutput::Done`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
