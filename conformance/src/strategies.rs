//! proptest strategies for every model of the API, and for canonical JSON of them, to reuse in
//! your own property tests.
//!
//! Two kinds:
//! - model strategies ([`backup`], [`backups`], …) generate any value the models can hold,
//!   including enum values this version does not know, integer and fractional numbers, and
//!   timestamps in any offset;
//! - JSON strategies ([`backup_json`], [`backups_json`], [`progress_json`]) generate JSON in the
//!   canonical form the models write (UTC timestamps with `Z`, no `null`s, no unknown fields), so
//!   that JSON → model → JSON must give back the same value. [`with_noise`] adds what a reader
//!   must accept and drop (`null` optional fields, unknown fields).
//!
//! ```
//! use backups_conformance::strategies;
//! use proptest::prelude::*;
//!
//! proptest!(ProptestConfig::with_cases(16), |(backup in strategies::backup())| {
//!     let json = serde_json::to_string(&backup).unwrap();
//!     let back: backups_models::Backup = serde_json::from_str(&json).unwrap();
//!     prop_assert_eq!(back, backup);
//! });
//! ```

use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

mod assets;

pub use assets::{any_json, asset_json, assets_json};

use backups_models::{
    Backup, BackupParts, BackupStatus, BackupStreamedProgress, Backups, BackupsStreamedProgress,
    EmbeddedModelSchema, GroupedTimestamp, Number, Platform, ProgressStatus, Score, SeededBackup,
    SemanticVersion,
};

/// Short text of any Unicode, control characters included, as names and ids may hold.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 ._-]{0,12}",
        1 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

/// A string that is mostly a known enum value and sometimes one this version does not know.
fn wire_value(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(known).prop_map(str::to_owned),
        1 => "[A-Z][A-Z0-9_-]{0,10}",
    ]
}

/// A `PlatformEnum`, unknown values included.
pub fn platform() -> impl Strategy<Value = Platform> {
    wire_value(PLATFORMS).prop_map(|s| Platform::from_wire(&s))
}

/// A `ModelDownloadProgressStatusEnum` / `BackupStatusEnum`, unknown values included.
pub fn progress_status() -> impl Strategy<Value = ProgressStatus> {
    wire_value(STATUSES).prop_map(|s| ProgressStatus::from_wire(&s))
}

const PLATFORMS: &[&str] = &[
    "UNKNOWN", "WEB", "MACOS", "LINUX", "WINDOWS", "FUCHSIA", "IOS", "ANDROID",
];

const STATUSES: &[&str] = &[
    "UNKNOWN",
    "INITIALIZED",
    "IN-PROGRESS",
    "COMPLETED",
    "FAILED",
    "CANCELED",
    "RESET",
];

/// An `EmbeddedModelSchemaSemanticVersionEnum`, unknown values included.
pub fn semantic_version() -> impl Strategy<Value = SemanticVersion> {
    wire_value(&["UNKNOWN", "MAJOR_0_MINOR_0_PATCH_1"]).prop_map(|s| SemanticVersion::from_wire(&s))
}

/// A fraction with at most six decimals, such as a size or a percentage may be.
///
/// Fractions are kept to decimals a server writes: `serde_json` without its `float_roundtrip`
/// feature may read the last bit of an arbitrary `f64` differently from how it was written.
fn decimal() -> impl Strategy<Value = f64> {
    (any::<i32>(), 0u32..7)
        .prop_map(|(mantissa, decimals)| f64::from(mantissa) / 10f64.powi(decimals as i32))
}

/// A JSON number as `bytes` holds it: unsigned, negative or fractional.
pub fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<u64>().prop_map(Number::from),
        any::<i64>().prop_map(Number::from),
        decimal().prop_filter_map("finite", Number::from_f64),
    ]
}

/// A `percentage`: 0 to 100, integer or fractional.
pub fn percentage() -> impl Strategy<Value = Number> {
    prop_oneof![
        (0u64..=100).prop_map(Number::from),
        (0u32..=100_000).prop_filter_map("finite", |n| Number::from_f64(f64::from(n) / 1000.0)),
    ]
}

/// An `EmbeddedModelSchema`.
pub fn embedded_model_schema() -> impl Strategy<Value = EmbeddedModelSchema> {
    (any::<i64>(), semantic_version())
        .prop_map(|(migration, semantic)| EmbeddedModelSchema::new(migration, semantic))
}

/// An instant between the years 2 and 9998, to the nanosecond, in UTC.
pub fn utc_instant() -> impl Strategy<Value = OffsetDateTime> {
    // RFC 3339 has four-digit years; a year away from the ends leaves room for any offset.
    (-62_104_060_800i64..253_370_764_800, 0u32..1_000_000_000).prop_map(|(seconds, nanos)| {
        OffsetDateTime::from_unix_timestamp(seconds)
            .map(|t| t.replace_nanosecond(nanos).unwrap_or(t))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    })
}

/// An instant in any whole-minute offset from UTC (as servers in other zones write them).
pub fn instant() -> impl Strategy<Value = OffsetDateTime> {
    (utc_instant(), -(23 * 60 + 59)..=(23 * 60 + 59i32)).prop_map(|(t, minutes)| {
        UtcOffset::from_whole_seconds(minutes * 60).map_or(t, |offset| t.to_offset(offset))
    })
}

/// A `GroupedTimestamp`.
pub fn grouped_timestamp() -> impl Strategy<Value = GroupedTimestamp> {
    (
        instant(),
        option::of(text()),
        option::of(embedded_model_schema()),
    )
        .prop_map(|(value, readable, schema)| {
            let mut timestamp = GroupedTimestamp::new(value);
            timestamp.readable = readable;
            timestamp.schema = schema;
            timestamp
        })
}

/// A `Score`.
pub fn score() -> impl Strategy<Value = Score> {
    (
        any::<i64>(),
        any::<i64>(),
        [
            option::of(any::<i64>()),
            option::of(any::<i64>()),
            option::of(any::<i64>()),
            option::of(any::<i64>()),
            option::of(any::<i64>()),
        ],
        option::of(embedded_model_schema()),
    )
        .prop_map(
            |(manual, automatic, [priority, reuse, update, reference, searched], schema)| {
                let mut score = Score::new(manual, automatic);
                score.priority = priority;
                score.reuse = reuse;
                score.update = update;
                score.reference = reference;
                score.searched = searched;
                score.schema = schema;
                score
            },
        )
}

/// A `Backup`.
pub fn backup() -> impl Strategy<Value = Backup> {
    (
        (text(), number(), grouped_timestamp(), text()),
        (
            platform(),
            text(),
            text(),
            option::of(embedded_model_schema()),
        ),
    )
        .prop_map(
            |((id, bytes, created, device_name), (platform, timestamp, version, schema))| {
                let backup = Backup::from(BackupParts {
                    id,
                    bytes,
                    created,
                    device_name,
                    platform,
                    timestamp,
                    version,
                });
                match schema {
                    Some(schema) => backup.with_schema(schema),
                    None => backup,
                }
            },
        )
}

/// A `Backups` listing; `indices` may or may not agree with `iterable`, as on the wire.
pub fn backups() -> impl Strategy<Value = Backups> {
    (
        vec(backup(), 0..5),
        option::of(btree_map(text(), any::<i64>(), 0..4)),
        option::of(score()),
        option::of(embedded_model_schema()),
        any::<bool>(),
    )
        .prop_map(|(iterable, indices, score, schema, derive_indices)| {
            // Half the time the indices are the ones a server derives from the listing.
            let mut backups = Backups::new(iterable);
            if !derive_indices {
                backups.indices = indices;
            }
            backups.score = score;
            backups.schema = schema;
            backups
        })
}

/// A `SeededBackup`.
pub fn seeded_backup() -> impl Strategy<Value = SeededBackup> {
    option::of(embedded_model_schema()).prop_map(|schema| {
        let mut seed = SeededBackup::new();
        seed.schema = schema;
        seed
    })
}

/// A `BackupStreamedProgress`.
pub fn backup_streamed_progress() -> impl Strategy<Value = BackupStreamedProgress> {
    (
        option::of(backup()),
        option::of(percentage()),
        option::of(progress_status()),
        option::of(embedded_model_schema()),
    )
        .prop_map(|(backup, percentage, status, schema)| {
            let mut event = BackupStreamedProgress::default();
            event.backup = backup.map(Box::new);
            event.percentage = percentage;
            event.status = status;
            event.schema = schema;
            event
        })
}

/// A `BackupsStreamedProgress`.
pub fn backups_streamed_progress() -> impl Strategy<Value = BackupsStreamedProgress> {
    (
        option::of(vec(backup_streamed_progress(), 0..3)),
        option::of(vec(backup_streamed_progress(), 0..3)),
        option::of(embedded_model_schema()),
    )
        .prop_map(|(backups, restorations, schema)| {
            let mut progress = BackupsStreamedProgress::default();
            progress.backups = backups;
            progress.restorations = restorations;
            progress.schema = schema;
            progress
        })
}

/// A `BackupStatus`.
pub fn backup_status() -> impl Strategy<Value = BackupStatus> {
    (
        backup(),
        option::of(percentage()),
        option::of(progress_status()),
        option::of(embedded_model_schema()),
    )
        .prop_map(|(backup, percentage, value, schema)| {
            let mut status = BackupStatus::new(backup);
            status.percentage = percentage;
            status.value = value;
            status.schema = schema;
            status
        })
}

/// A progress stream as a server sends it: `INITIALIZED`, rising `IN-PROGRESS` events, then a
/// final `COMPLETED` with its backup, or `FAILED` / `CANCELED`.
pub fn progress_events() -> impl Strategy<Value = Vec<BackupStreamedProgress>> {
    (
        vec(1u64..100, 0..6),
        backup(),
        prop_oneof![
            4 => Just(ProgressStatus::Completed),
            1 => Just(ProgressStatus::Failed),
            1 => Just(ProgressStatus::Canceled),
        ],
    )
        .prop_map(|(mut steps, backup, last)| {
            steps.sort_unstable();
            let mut events = vec![BackupStreamedProgress::new(
                ProgressStatus::Initialized,
                Number::from(0u64),
            )];
            for step in steps {
                events.push(BackupStreamedProgress::new(
                    ProgressStatus::InProgress,
                    Number::from(step),
                ));
            }
            let done = last == ProgressStatus::Completed;
            let end =
                BackupStreamedProgress::new(last, Number::from(if done { 100u64 } else { 42 }));
            events.push(if done { end.with_backup(backup) } else { end });
            events
        })
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON.

/// JSON text of a UTC instant, exactly as the models write it.
pub fn utc_text() -> impl Strategy<Value = String> {
    utc_instant().prop_map(|t| t.format(&Rfc3339).unwrap_or_default())
}

fn number_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        decimal().prop_map(|f| json!(f)),
    ]
}

fn schema_json() -> impl Strategy<Value = Value> {
    (
        any::<i64>(),
        wire_value(&["UNKNOWN", "MAJOR_0_MINOR_0_PATCH_1"]),
    )
        .prop_map(|(migration, semantic)| json!({"migration": migration, "semantic": semantic}))
}

/// Inserts the optional fields that are `Some`.
fn with_optional(mut object: Map<String, Value>, optional: Vec<(&str, Option<Value>)>) -> Value {
    for (key, value) in optional {
        if let Some(value) = value {
            object.insert(key.to_owned(), value);
        }
    }
    Value::Object(object)
}

/// Canonical JSON of a `Backup`.
pub fn backup_json() -> impl Strategy<Value = Value> {
    (
        (
            text(),
            number_json(),
            utc_text(),
            option::of(text()),
            option::of(schema_json()),
        ),
        (
            text(),
            wire_value(PLATFORMS),
            text(),
            text(),
            option::of(schema_json()),
        ),
    )
        .prop_map(
            |(
                (id, bytes, created, readable, created_schema),
                (device, platform, timestamp, version, schema),
            )| {
                let mut created_obj = Map::new();
                created_obj.insert("value".into(), Value::from(created));
                let created = with_optional(
                    created_obj,
                    vec![
                        ("readable", readable.map(Value::from)),
                        ("schema", created_schema),
                    ],
                );
                let object = json!({
                    "id": id, "bytes": bytes, "created": created, "device_name": device,
                    "platform": platform, "timestamp": timestamp, "version": version,
                });
                let Value::Object(object) = object else {
                    unreachable!()
                };
                with_optional(object, vec![("schema", schema)])
            },
        )
}

/// Canonical JSON of a `Backups` listing.
pub fn backups_json() -> impl Strategy<Value = Value> {
    let score = (
        any::<i64>(),
        any::<i64>(),
        option::of(any::<i64>()),
        option::of(any::<i64>()),
    )
        .prop_map(|(manual, automatic, priority, searched)| {
            let Value::Object(object) = json!({"manual": manual, "automatic": automatic}) else {
                unreachable!()
            };
            with_optional(
                object,
                vec![
                    ("priority", priority.map(Value::from)),
                    ("searched", searched.map(Value::from)),
                ],
            )
        });
    (
        vec(backup_json(), 0..4),
        option::of(btree_map(text(), any::<i64>(), 0..4)),
        option::of(score),
        option::of(schema_json()),
    )
        .prop_map(|(iterable, indices, score, schema)| {
            let mut object = Map::new();
            object.insert("iterable".into(), Value::Array(iterable));
            with_optional(
                object,
                vec![
                    (
                        "indices",
                        indices.map(|m: BTreeMap<String, i64>| {
                            Value::Object(m.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
                        }),
                    ),
                    ("score", score),
                    ("schema", schema),
                ],
            )
        })
}

/// Canonical JSON of a `BackupStreamedProgress`.
pub fn progress_json() -> impl Strategy<Value = Value> {
    (
        option::of(backup_json()),
        option::of(prop_oneof![
            (0u64..=100).prop_map(Value::from),
            (0u32..=1000).prop_map(|n| json!(f64::from(n) / 10.0))
        ]),
        option::of(wire_value(STATUSES)),
        option::of(schema_json()),
    )
        .prop_map(|(backup, percentage, status, schema)| {
            with_optional(
                Map::new(),
                vec![
                    ("backup", backup),
                    ("percentage", percentage),
                    ("status", status.map(Value::from)),
                    ("schema", schema),
                ],
            )
        })
}

/// Adds what a reader must accept and then drop: a `null` for an optional field that is absent
/// and an unknown field, in every object of `value` whose keys are listed in `optional`.
///
/// The result reads into the same model as `value`, which is what the model writes back.
pub fn with_noise(value: Value) -> impl Strategy<Value = Value> {
    any::<u64>().prop_map(move |seed| add_noise(value.clone(), seed))
}

/// The optional fields of every model, by a field that marks the object as that model.
const OPTIONAL: &[(&str, &[&str])] = &[
    ("device_name", &["schema"]),
    ("value", &["schema", "readable"]),
    ("iterable", &["schema", "indices", "score"]),
    (
        "manual",
        &[
            "schema",
            "priority",
            "reuse",
            "update",
            "reference",
            "searched",
        ],
    ),
    ("migration", &[]),
];

fn add_noise(value: Value, seed: u64) -> Value {
    match value {
        Value::Object(mut map) => {
            let optional: &[&str] = OPTIONAL
                .iter()
                .find(|(marker, _)| map.contains_key(*marker))
                .map_or(
                    &["schema", "backup", "percentage", "status"][..],
                    |(_, fields)| fields,
                );
            for (i, field) in optional.iter().enumerate() {
                if seed >> (i % 64) & 1 == 1 {
                    map.entry((*field).to_owned()).or_insert(Value::Null);
                }
            }
            let mut map: Map<String, Value> = map
                .into_iter()
                // `indices` is data keyed by backup id, not a model: it takes no noise.
                .map(|(k, v)| {
                    let v = if k == "indices" {
                        v
                    } else {
                        add_noise(v, seed.rotate_left(7))
                    };
                    (k, v)
                })
                .collect();
            map.insert(
                format!("x_future_field_{}", seed % 97),
                json!({"nested": [1, "two", null]}),
            );
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| add_noise(v, seed.rotate_left(13)))
                .collect(),
        ),
        other => other,
    }
}
