//! `GroupedTimestamp`: a point in time with an optional readable form.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::EmbeddedModelSchema;

/// A point in time (wire schema `GroupedTimestamp`).
///
/// `value` reads any RFC 3339 offset and precision (`+02:00`, `Z`, nanoseconds) and is always
/// written in UTC with `Z`, the form the Dart and TypeScript clients use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct GroupedTimestamp {
    /// The model schema this value was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<EmbeddedModelSchema>,
    /// The point in time.
    #[serde(serialize_with = "write_utc", deserialize_with = "read_rfc3339")]
    pub value: OffsetDateTime,
    /// A human-readable form, such as "2 hours ago".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readable: Option<String>,
}

impl GroupedTimestamp {
    /// A timestamp with no readable form.
    pub fn new(value: OffsetDateTime) -> Self {
        Self {
            schema: None,
            value,
            readable: None,
        }
    }

    /// The same timestamp with a readable form.
    pub fn with_readable(mut self, readable: impl Into<String>) -> Self {
        self.readable = Some(readable.into());
        self
    }

    /// The current time.
    pub fn now() -> Self {
        Self::new(OffsetDateTime::now_utc())
    }
}

fn write_utc<S: Serializer>(value: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    let utc = value.to_offset(time::UtcOffset::UTC);
    let text = utc.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}

fn read_rfc3339<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    OffsetDateTime::parse(&text, &Rfc3339).map_err(|err| {
        serde::de::Error::custom(format_args!("invalid RFC 3339 date-time {text:?}: {err}"))
    })
}

crate::object::object_model!(GroupedTimestamp);
