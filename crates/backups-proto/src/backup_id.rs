//! [`BackupId`]: a backup identifier that is safe to put in a path.

use core::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::Error;

/// Every byte but RFC 3986's unreserved `ALPHA / DIGIT / "-" / "_" / "~"` is encoded.
///
/// `.` is encoded too, unlike in the official SDKs: an id of `..` must not become the dot-segment
/// that walks `/backups/../delete` up to `/delete`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// The identifier of a backup, as given to delete.
///
/// It cannot be empty, so `/backups//delete` can never reach the wire; any other string is
/// accepted and travels as exactly one percent-encoded path segment.
///
/// ```
/// use backups_proto::BackupId;
///
/// let id = BackupId::new("a/b c?d#e%f..")?;
/// assert_eq!(id.path_segment(), "a%2Fb%20c%3Fd%23e%25f%2E%2E");
/// assert!(BackupId::new("").is_err());
/// # Ok::<(), backups_proto::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackupId(String);

impl BackupId {
    /// Checks that `id` is not empty.
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        if id.is_empty() {
            return Err(Error::InvalidRequest {
                reason: "a backup id cannot be empty".into(),
            });
        }
        Ok(Self(id))
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id percent-encoded as one path segment.
    pub fn path_segment(&self) -> String {
        utf8_percent_encode(&self.0, SEGMENT).to_string()
    }
}

impl fmt::Display for BackupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BackupId {
    type Error = Error;

    fn try_from(id: String) -> Result<Self, Error> {
        Self::new(id)
    }
}

impl TryFrom<&str> for BackupId {
    type Error = Error;

    fn try_from(id: &str) -> Result<Self, Error> {
        Self::new(id)
    }
}

impl TryFrom<&backups_models::Backup> for BackupId {
    type Error = Error;

    fn try_from(backup: &backups_models::Backup) -> Result<Self, Error> {
        Self::new(backup.id.clone())
    }
}

/// What a method that names a backup accepts: a [`BackupId`] (owned or borrowed), a `&str`, a
/// `String` (owned or borrowed) or a [`Backup`](backups_models::Backup) (as `list` and `create`
/// return it), as reqwest's `IntoUrl` takes what callers hold. An empty id is refused with
/// [`Error::InvalidRequest`] before any IO.
///
/// The trait is sealed: these are the only implementations.
///
/// ```
/// use backups_proto::{BackupId, IntoBackupId};
///
/// assert_eq!("b1".into_backup_id()?, BackupId::new("b1")?);
/// assert_eq!(String::from("b1").into_backup_id()?.as_str(), "b1");
/// assert!("".into_backup_id().is_err());
/// # Ok::<(), backups_proto::Error>(())
/// ```
pub trait IntoBackupId: sealed::Sealed {
    /// The id, checked.
    fn into_backup_id(self) -> Result<BackupId, Error>;
}

mod sealed {
    /// Keeps [`IntoBackupId`](super::IntoBackupId) to the types of this module.
    pub trait Sealed {}

    impl Sealed for super::BackupId {}
    impl Sealed for &super::BackupId {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
    impl Sealed for &backups_models::Backup {}
}

impl IntoBackupId for BackupId {
    fn into_backup_id(self) -> Result<BackupId, Error> {
        Ok(self)
    }
}

impl IntoBackupId for &BackupId {
    fn into_backup_id(self) -> Result<BackupId, Error> {
        Ok(self.clone())
    }
}

impl IntoBackupId for &str {
    fn into_backup_id(self) -> Result<BackupId, Error> {
        BackupId::new(self)
    }
}

impl IntoBackupId for String {
    fn into_backup_id(self) -> Result<BackupId, Error> {
        BackupId::new(self)
    }
}

impl IntoBackupId for &String {
    fn into_backup_id(self) -> Result<BackupId, Error> {
        BackupId::new(self.as_str())
    }
}

impl IntoBackupId for &backups_models::Backup {
    fn into_backup_id(self) -> Result<BackupId, Error> {
        BackupId::new(self.id.as_str())
    }
}

impl AsRef<str> for BackupId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
