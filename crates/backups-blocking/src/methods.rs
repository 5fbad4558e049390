//! The blocking client's methods for every HTTP operation: expanded from the table of
//! operations of `backups-proto`, so that an operation is defined once for the whole SDK. Each
//! blocks on the async client's method of the same name.

// The table names its outputs by their model names: whichever a new entry names is in scope.
#[allow(clippy::wildcard_imports)]
use backups_proto::models::*;
use backups_proto::operations;
use backups_proto::{Error, IntoBackupId};

use crate::client::Client;
use crate::progress::Progress;
use crate::wait::wait;

/// Expands the table's HTTP entries into the blocking client's methods.
macro_rules! blocking_methods {
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
        impl Client {
            $( blocking_method!($kind $Variant ($($input),*) $Output [$($method),+]); )*
        }
    };
}

/// The doc of a blocking method: what it blocks on, and its errors.
macro_rules! doc {
    ($method:ident) => {
        concat!(
            "[`backups_proto::Client::",
            stringify!($method),
            "`], blocking: see there for what it does.\n\n# Errors\n\nAny [`Error`] of the \
             call,."
        )
    };
}

/// The methods of one operation: by its kind, and by whether its path names a backup.
macro_rules! blocking_method {
    // An optional body and nothing else, by reference as the async method takes it.
    ($kind:ident $Value:ident (assets) $Output:ty [$method:ident]) => {
        blocking_method!(@body assets Assets [$method] $Output);
    };
    ($kind:ident $Value:ident (asset) $Output:ty [$method:ident]) => {
        blocking_method!(@body asset Asset [$method] $Output);
    };
    (@body $field:ident $Body:ident [$method:ident] $Output:ty) => {
        #[doc = doc!($method)]
        pub fn $method(&self, $field: Option<&$Body>) -> Result<$Output, Error> {
            wait(self.inner().$method($field))
        }
    };
    ($kind:ident $Value:ident (id $(, $backup:ident)?) $Output:ty [$method:ident]) => {
        #[doc = doc!($method)]
        pub fn $method(&self, id: impl IntoBackupId) -> Result<$Output, Error> {
            wait(self.inner().$method(id),
            )
        }
    };
    ($kind:ident $Value:ident ($($seed:ident)?) $Output:ty [$method:ident]) => {
        #[doc = doc!($method)]
        pub fn $method(&self) -> Result<$Output, Error> {
            wait(self.inner().$method(),
            )
        }
    };
    (stream $Value:ident (id $(, $backup:ident)?) $Output:ty [$method:ident, $with:ident]) => {
        #[doc = doc!($method)]
        ///
        /// The events' errors are the iterator's.
        pub fn $method(&self, id: impl IntoBackupId) -> Result<Progress, Error> {
            let stream = wait(self.inner().$method(id),
            )?;
            Ok(Progress::new(stream, self.inner().clone()))
        }

        blocking_method!(@value stream $Value $with);
    };
    (stream $Value:ident ($($seed:ident)?) $Output:ty [$method:ident, $with:ident]) => {
        #[doc = doc!($method)]
        ///
        /// The events' errors are the iterator's.
        pub fn $method(&self) -> Result<Progress, Error> {
            let stream = wait(self.inner().$method(),
            )?;
            Ok(Progress::new(stream, self.inner().clone()))
        }

        blocking_method!(@value stream $Value $with);
    };
    (work $Value:ident (id $(, $backup:ident)?) $Output:ty [$method:ident, $watched:ident]) => {
        blocking_method!(json $Value (id) Backup [$method]);
        blocking_method!(@value work $Value $watched);
    };
    (work $Value:ident ($($seed:ident)?) $Output:ty [$method:ident, $watched:ident]) => {
        blocking_method!(json $Value () Backup [$method]);
        blocking_method!(@value work $Value $watched);
    };
    // The method that takes the operation as a value: the same for every shape of input.
    (@value stream $Value:ident $with:ident) => {
        #[doc = doc!($with)]
        pub fn $with(&self, operation: operations::$Value) -> Result<Progress, Error> {
            let opened = self.inner().$with(operation);
            let stream = wait(opened)?;
            Ok(Progress::new(stream, self.inner().clone()))
        }
    };
    (@value work $Value:ident $watched:ident) => {
        #[doc = doc!($watched)]
        ///
        /// `on_event` is called on this thread.
        pub fn $watched(
            &self,
            operation: operations::$Value,
            on_event: impl FnMut(&BackupStreamedProgress),
        ) -> Result<Backup, Error> {
            let watched = self.inner().$watched(operation, on_event);
            wait(watched)
        }
    };
}

backups_proto::__operations!(blocking_methods);
