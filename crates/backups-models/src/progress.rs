//! The progress models of the streamed endpoints.

use serde::{Deserialize, Serialize};

use crate::{Backup, EmbeddedModelSchema, Number, ProgressStatus};

/// One progress event of a backup being made (wire schema `BackupStreamedProgress`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct BackupStreamedProgress {
    /// The model schema this value was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<EmbeddedModelSchema>,
    /// The finished backup, on the `COMPLETED` event.
    ///
    /// Boxed because only the last event has one: every other event stays a few dozen bytes
    /// instead of carrying room for a whole backup, which makes a stream of them faster to
    /// decode and pass around.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<Box<Backup>>,
    /// How far the backup is, from 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<Number>,
    /// Where the backup stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProgressStatus>,
}

impl BackupStreamedProgress {
    /// An event with a status and a percentage.
    pub fn new(status: ProgressStatus, percentage: Number) -> Self {
        Self {
            schema: None,
            backup: None,
            percentage: Some(percentage),
            status: Some(status),
        }
    }

    /// The same event carrying the finished backup.
    pub fn with_backup(mut self, backup: Backup) -> Self {
        self.backup = Some(Box::new(backup));
        self
    }

    /// Whether no further event follows this one (`COMPLETED`, `FAILED` or `CANCELED`).
    pub fn is_terminal(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(ProgressStatus::is_terminal)
    }
}

/// Progress of every backup and restoration under way (wire schema `BackupsStreamedProgress`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct BackupsStreamedProgress {
    /// The model schema this value was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<EmbeddedModelSchema>,
    /// Backups being made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backups: Option<Vec<BackupStreamedProgress>>,
    /// Backups being restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restorations: Option<Vec<BackupStreamedProgress>>,
}

/// The status of one backup (wire schema `BackupStatus`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct BackupStatus {
    /// The model schema this value was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<EmbeddedModelSchema>,
    /// The backup concerned.
    pub backup: Backup,
    /// How far it is, from 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<Number>,
    /// Where it stands (wire schema `BackupStatusEnum`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ProgressStatus>,
}

impl BackupStatus {
    /// The status of a backup, with no percentage or value yet.
    pub fn new(backup: Backup) -> Self {
        Self {
            schema: None,
            backup,
            percentage: None,
            value: None,
        }
    }
}

impl From<BackupStatus> for BackupStreamedProgress {
    /// The progress event a status stands for: what a client shows when it follows an operation
    /// by polling its status instead of reading its stream.
    fn from(status: BackupStatus) -> Self {
        Self {
            schema: status.schema,
            backup: Some(Box::new(status.backup)),
            percentage: status.percentage,
            status: status.value,
        }
    }
}

crate::object::object_model!(
    BackupStreamedProgress,
    BackupsStreamedProgress,
    BackupStatus
);
