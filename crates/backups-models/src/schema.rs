//! `EmbeddedModelSchema` and `Score`, the small models every other model may carry.

use serde::{Deserialize, Serialize};

use crate::SemanticVersion;

/// The version of the model schema a value was written with (wire schema `EmbeddedModelSchema`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct EmbeddedModelSchema {
    /// The migration number.
    pub migration: i64,
    /// The semantic version.
    pub semantic: SemanticVersion,
}

impl EmbeddedModelSchema {
    /// A schema marker.
    pub fn new(migration: i64, semantic: SemanticVersion) -> Self {
        Self {
            migration,
            semantic,
        }
    }
}

/// Usage scores attached to a listing (wire schema `Score`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct Score {
    /// The model schema this value was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<EmbeddedModelSchema>,
    /// The manual score.
    pub manual: i64,
    /// The automatic score.
    pub automatic: i64,
    /// The priority score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// The reuse score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse: Option<i64>,
    /// The update score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<i64>,
    /// The reference score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<i64>,
    /// The searched score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub searched: Option<i64>,
}

impl Score {
    /// A score with only its required fields set.
    pub fn new(manual: i64, automatic: i64) -> Self {
        Self {
            manual,
            automatic,
            ..Self::default()
        }
    }
}

crate::object::object_model!(EmbeddedModelSchema, Score);
