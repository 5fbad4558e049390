//! `Backup`, `Backups` and `SeededBackup`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{EmbeddedModelSchema, GroupedTimestamp, Number, Platform, Score};

/// One backup of the local database (wire schema `Backup`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct Backup {
    /// The model schema this value was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<EmbeddedModelSchema>,
    /// The backup's identifier (documented as `version_timestamp`).
    pub id: String,
    /// The size of the backup, in bytes; kept in the form the server wrote it.
    pub bytes: Number,
    /// When the backup was made.
    pub created: GroupedTimestamp,
    /// The name of the device that made the backup.
    pub device_name: String,
    /// The platform of the device that made the backup.
    pub platform: Platform,
    /// An opaque timestamp string chosen by the server; not a date to parse.
    pub timestamp: String,
    /// The version of Pieces OS that made the backup.
    pub version: String,
}

/// The required fields of a [`Backup`], named, so that building one cannot swap two strings.
#[derive(Debug, Clone)]
pub struct BackupParts {
    /// See [`Backup::id`].
    pub id: String,
    /// See [`Backup::bytes`].
    pub bytes: Number,
    /// See [`Backup::created`].
    pub created: GroupedTimestamp,
    /// See [`Backup::device_name`].
    pub device_name: String,
    /// See [`Backup::platform`].
    pub platform: Platform,
    /// See [`Backup::timestamp`].
    pub timestamp: String,
    /// See [`Backup::version`].
    pub version: String,
}

impl From<BackupParts> for Backup {
    fn from(parts: BackupParts) -> Self {
        Self {
            schema: None,
            id: parts.id,
            bytes: parts.bytes,
            created: parts.created,
            device_name: parts.device_name,
            platform: parts.platform,
            timestamp: parts.timestamp,
            version: parts.version,
        }
    }
}

impl Backup {
    /// The same backup with a schema marker.
    pub fn with_schema(mut self, schema: EmbeddedModelSchema) -> Self {
        self.schema = Some(schema);
        self
    }
}

/// A listing of backups (wire schema `Backups`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct Backups {
    /// The model schema this value was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<EmbeddedModelSchema>,
    /// The backups, in the order the server gave them.
    pub iterable: Vec<Backup>,
    /// The position of each backup in `iterable`, by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indices: Option<BTreeMap<String, i64>>,
    /// Usage scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
}

impl Backups {
    /// A listing of these backups, with `indices` filled in.
    pub fn new(iterable: Vec<Backup>) -> Self {
        let indices = iterable
            .iter()
            .enumerate()
            .map(|(position, backup)| (backup.id.clone(), position as i64))
            .collect();
        Self {
            schema: None,
            iterable,
            indices: Some(indices),
            score: None,
        }
    }

    /// The number of backups listed.
    pub fn len(&self) -> usize {
        self.iterable.len()
    }

    /// Whether no backup is listed.
    pub fn is_empty(&self) -> bool {
        self.iterable.is_empty()
    }

    /// The backups, in the order the server gave them.
    pub fn iter(&self) -> std::slice::Iter<'_, Backup> {
        self.iterable.iter()
    }

    /// The backup with this id, if listed.
    pub fn get(&self, id: &str) -> Option<&Backup> {
        let by_index = self
            .indices
            .as_ref()
            .and_then(|indices| indices.get(id))
            .and_then(|&position| usize::try_from(position).ok())
            .and_then(|position| self.iterable.get(position))
            .filter(|backup| backup.id == id);
        by_index.or_else(|| self.iterable.iter().find(|backup| backup.id == id))
    }
}

impl<'a> IntoIterator for &'a Backups {
    type Item = &'a Backup;
    type IntoIter = std::slice::Iter<'a, Backup>;

    fn into_iter(self) -> Self::IntoIter {
        self.iterable.iter()
    }
}

impl IntoIterator for Backups {
    type Item = Backup;
    type IntoIter = std::vec::IntoIter<Backup>;

    fn into_iter(self) -> Self::IntoIter {
        self.iterable.into_iter()
    }
}

/// What a new backup is seeded with (wire schema `SeededBackup`): today, nothing but a schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct SeededBackup {
    /// The model schema this value was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<EmbeddedModelSchema>,
}

impl SeededBackup {
    /// An empty seed, written as `{}`.
    pub fn new() -> Self {
        Self::default()
    }
}

crate::object::object_model!(Backup, Backups, SeededBackup);
