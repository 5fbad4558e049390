//! `Assets` and `Asset`: the optional bodies of `POST /backup` and `POST /backup/asset`.
//!
//! The official `Asset` reaches about 270 models of the wider Pieces API; typing them belongs to
//! that API, not to backups. So each asset keeps its JSON object whole, and what a backups user
//! reads (`id`, `name`, `created`, `updated`, `mechanism`) is typed on top of it: every field, known
//! or not, survives a round trip unchanged as a JSON value. Timestamps are read through
//! [`GroupedTimestamp`] but written back as they came (re-formatting them would lose the form).

use core::fmt;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::GroupedTimestamp;
use crate::wire_enum::wire_enum;

wire_enum! {
    /// How an asset came to be saved (wire schema `MechanismEnum`).
    Mechanism {
        /// `UNKNOWN`
        Unknown = "UNKNOWN",
        /// `MANUAL`: the user saved it.
        Manual = "MANUAL",
        /// `RECOMMENDED`
        Recommended = "RECOMMENDED",
        /// `AUTOMATIC`
        Automatic = "AUTOMATIC",
        /// `INTERNAL`
        Internal = "INTERNAL",
        /// `DELETED`
        Deleted = "DELETED",
        /// `EXTERNAL_AGENT`
        ExternalAgent = "EXTERNAL_AGENT",
    }
}

/// Why a JSON value is not an [`Asset`] or [`Assets`]: where (a path such as `iterable[1].id`,
/// empty for the value itself) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetError {
    path: String,
    expected: String,
}

impl AssetError {
    fn new(path: impl Into<String>, expected: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            expected: expected.into(),
        }
    }

    /// The same error one level down, under `prefix` (`iterable[3]`).
    fn under(mut self, prefix: &str) -> Self {
        self.path = if self.path.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.path)
        };
        self
    }

    /// Where the value went wrong: a field path such as `iterable[1].created`, or empty for the
    /// value as a whole.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What was expected there, in words.
    pub fn expected(&self) -> &str {
        &self.expected
    }
}

impl fmt::Display for AssetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "expected {}", self.expected)
        } else {
            write!(f, "{}: expected {}", self.path, self.expected)
        }
    }
}

impl std::error::Error for AssetError {}

/// The fields every official `Asset` requires, and what each must be. The ones a backups user
/// reads are typed; the others must only have the right JSON kind.
const REQUIRED: [(&str, Kind); 8] = [
    ("id", Kind::String),
    ("creator", Kind::String),
    ("created", Kind::Timestamp),
    ("updated", Kind::Timestamp),
    ("mechanism", Kind::String),
    ("formats", Kind::Object),
    ("original", Kind::Object),
    ("preview", Kind::Object),
];

#[derive(Clone, Copy)]
enum Kind {
    String,
    Object,
    Timestamp,
}

impl Kind {
    fn check(self, value: &Value) -> Result<(), &'static str> {
        let fits = match self {
            Kind::String => value.is_string(),
            Kind::Object | Kind::Timestamp => value.is_object(),
        };
        if fits {
            Ok(())
        } else {
            Err(match self {
                Kind::String => "a string",
                Kind::Object => "a JSON object",
                Kind::Timestamp => "a GroupedTimestamp object",
            })
        }
    }
}

/// One asset of Pieces OS (wire schema `Asset`), kept as the JSON object it was read from.
///
/// ```
/// use backups_models::{Asset, Mechanism};
///
/// let json = r#"{
///   "id": "a1", "creator": "u1", "mechanism": "MANUAL", "name": "hello.rs",
///   "created": {"value": "2026-11-26T23:00:00+02:00"},
///   "updated": {"value": "2026-11-26T21:00:00.123456Z"},
///   "formats": {"iterable": []}, "original": {"id": "f1"}, "preview": {"base": {"id": "f1"}},
///   "a_field_of_a_later_version": [1, 2.5, null]
/// }"#;
/// let asset: Asset = serde_json::from_str(json)?;
/// assert_eq!(asset.id(), "a1");
/// assert_eq!(asset.name(), Some("hello.rs"));
/// assert_eq!(asset.mechanism(), &Mechanism::Manual);
/// assert_eq!(asset.created().value.unix_timestamp(), 1_795_726_800);
///
/// // Written back exactly as it came, the timestamps' offsets and unknown fields included.
/// let input: serde_json::Value = serde_json::from_str(json)?;
/// assert_eq!(serde_json::to_value(&asset)?, input);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// The whole object: what is written back.
    fields: Map<String, Value>,
    /// Read from `fields`, never written.
    created: GroupedTimestamp,
    updated: GroupedTimestamp,
    mechanism: Mechanism,
}

impl Asset {
    /// Reads an asset from its JSON object: the official model's eight required fields must be
    /// there (`id`, `creator`, `created`, `updated`, `mechanism`, `formats`, `original`,
    /// `preview`), `name` is a string when present; every other field is kept as it is.
    pub fn from_map(fields: Map<String, Value>) -> Result<Self, AssetError> {
        for (name, kind) in REQUIRED {
            let value = fields
                .get(name)
                .ok_or_else(|| AssetError::new(name, "this required field"))?;
            kind.check(value)
                .map_err(|expected| AssetError::new(name, expected))?;
        }
        match fields.get("name") {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(_) => return Err(AssetError::new("name", "a string or null")),
        }
        let timestamp = |name: &str| {
            GroupedTimestamp::deserialize(&fields[name])
                .map_err(|err| AssetError::new(name, format!("a GroupedTimestamp ({err})")))
        };
        let created = timestamp("created")?;
        let updated = timestamp("updated")?;
        let mechanism = Mechanism::from_wire(fields["mechanism"].as_str().unwrap_or_default());
        Ok(Self {
            fields,
            created,
            updated,
            mechanism,
        })
    }

    /// Reads an asset from a JSON value, which must be an object (see [`Asset::from_map`]).
    pub fn from_value(value: Value) -> Result<Self, AssetError> {
        match value {
            Value::Object(fields) => Self::from_map(fields),
            _ => Err(AssetError::new("", "a JSON object (Asset)")),
        }
    }

    /// The asset's id, the same locally and in the cloud.
    pub fn id(&self) -> &str {
        self.fields
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Its name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.fields.get("name").and_then(Value::as_str)
    }

    /// When it was created.
    pub fn created(&self) -> &GroupedTimestamp {
        &self.created
    }

    /// When it was last updated.
    pub fn updated(&self) -> &GroupedTimestamp {
        &self.updated
    }

    /// How it came to be saved (an unknown value is kept in `Other`).
    pub fn mechanism(&self) -> &Mechanism {
        &self.mechanism
    }

    /// One field as JSON, known to this crate or not (`"creator"`, `"formats"`, ...).
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }

    /// The whole object, every field as it was read.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// The whole object, given back.
    pub fn into_fields(self) -> Map<String, Value> {
        self.fields
    }
}

impl TryFrom<Value> for Asset {
    type Error = AssetError;

    fn try_from(value: Value) -> Result<Self, AssetError> {
        Self::from_value(value)
    }
}

impl Serialize for Asset {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fields.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Asset {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Asset::from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// A collection of assets (wire schema `Assets`): `iterable`, the assets, and the collection's
/// other fields (`indices`, `score`, `schema`, and any unknown one) kept as JSON.
///
/// ```
/// use backups_models::Assets;
///
/// let json = r#"{"iterable": [], "indices": {}, "score": {"manual": 0, "automatic": 0}}"#;
/// let assets: Assets = serde_json::from_str(json)?;
/// assert!(assets.is_empty());
/// assert_eq!(serde_json::to_string(&assets)?, r#"{"indices":{},"iterable":[],"score":{"automatic":0,"manual":0}}"#);
///
/// // `iterable` is required and holds objects only.
/// let err = serde_json::from_str::<Assets>(r#"{"iterable": [1]}"#).unwrap_err();
/// assert!(err.to_string().starts_with("iterable[0]: expected a JSON object"), "{err}");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assets {
    iterable: Vec<Asset>,
    /// Every field but `iterable`.
    rest: Map<String, Value>,
}

impl Assets {
    /// A collection of these assets and no other field.
    pub fn new(iterable: Vec<Asset>) -> Self {
        Self {
            iterable,
            rest: Map::new(),
        }
    }

    /// Reads a collection from its JSON object: `iterable` must be an array of assets; every
    /// other field is kept as it is.
    pub fn from_map(mut fields: Map<String, Value>) -> Result<Self, AssetError> {
        let items = match fields.remove("iterable") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(AssetError::new("iterable", "an array of Asset objects")),
            None => return Err(AssetError::new("iterable", "this required field")),
        };
        let iterable = items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                Asset::from_value(item).map_err(|err| err.under(&format!("iterable[{index}]")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            iterable,
            rest: fields,
        })
    }

    /// Reads a collection from a JSON value, which must be an object (see [`Assets::from_map`]).
    pub fn from_value(value: Value) -> Result<Self, AssetError> {
        match value {
            Value::Object(fields) => Self::from_map(fields),
            _ => Err(AssetError::new("", "a JSON object (Assets)")),
        }
    }

    /// The assets, in order.
    pub fn assets(&self) -> &[Asset] {
        &self.iterable
    }

    /// The assets, in order.
    pub fn iter(&self) -> core::slice::Iter<'_, Asset> {
        self.iterable.iter()
    }

    /// How many assets there are.
    pub fn len(&self) -> usize {
        self.iterable.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.iterable.is_empty()
    }

    /// The asset with this id, if there is one.
    pub fn get(&self, id: &str) -> Option<&Asset> {
        self.iterable.iter().find(|asset| asset.id() == id)
    }

    /// The collection's fields other than `iterable` (`indices`, `score`, `schema`, unknown
    /// ones), as they were read.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.rest
    }

    /// The assets, given back.
    pub fn into_assets(self) -> Vec<Asset> {
        self.iterable
    }
}

impl From<Vec<Asset>> for Assets {
    fn from(iterable: Vec<Asset>) -> Self {
        Self::new(iterable)
    }
}

impl<'a> IntoIterator for &'a Assets {
    type Item = &'a Asset;
    type IntoIter = core::slice::Iter<'a, Asset>;

    fn into_iter(self) -> Self::IntoIter {
        self.iterable.iter()
    }
}

impl TryFrom<Value> for Assets {
    type Error = AssetError;

    fn try_from(value: Value) -> Result<Self, AssetError> {
        Self::from_value(value)
    }
}

impl Serialize for Assets {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `iterable` in its sorted place, as serde_json's own map would put it.
        let mut map = serializer.serialize_map(Some(self.rest.len() + 1))?;
        let mut iterable_written = false;
        for (key, value) in &self.rest {
            if !iterable_written && key.as_str() > "iterable" {
                map.serialize_entry("iterable", &self.iterable)?;
                iterable_written = true;
            }
            map.serialize_entry(key, value)?;
        }
        if !iterable_written {
            map.serialize_entry("iterable", &self.iterable)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Assets {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Assets::from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}
