//! JSON of `Asset` and `Assets`, the bodies of `POST /backup/asset` and `POST /backup`: objects
//! with the official model's required fields, timestamps in any offset and precision, known and
//! unknown mechanisms, and fields of any JSON a later version may add. The models keep all of
//! it, so JSON → model → JSON gives back the same value.

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;

use super::{instant, text, wire_value};

/// Any JSON value a few levels deep: what an unknown field may hold.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A `GroupedTimestamp` as another client may write it: any offset, any precision.
fn timestamp_json() -> impl Strategy<Value = Value> {
    (instant(), option::of(text())).prop_map(|(t, readable)| {
        let mut object = Map::new();
        object.insert(
            "value".into(),
            t.format(&Rfc3339).unwrap_or_default().into(),
        );
        if let Some(readable) = readable {
            object.insert("readable".into(), readable.into());
        }
        Value::Object(object)
    })
}

/// JSON of an `Asset`: the eight required fields, maybe a name (or `null`), and unknown fields.
pub fn asset_json() -> impl Strategy<Value = Value> {
    let mechanism = wire_value(&[
        "UNKNOWN",
        "MANUAL",
        "RECOMMENDED",
        "AUTOMATIC",
        "INTERNAL",
        "DELETED",
        "EXTERNAL_AGENT",
    ]);
    (
        (
            text(),
            text(),
            timestamp_json(),
            timestamp_json(),
            mechanism,
        ),
        option::of(option::of(text())),
        btree_map("x_[a-z]{1,6}", any_json(), 0..3),
    )
        .prop_map(
            |((id, creator, created, updated, mechanism), name, extra)| {
                let mut object: Map<String, Value> = extra.into_iter().collect();
                object.insert("id".into(), id.into());
                object.insert("creator".into(), creator.into());
                object.insert("created".into(), created);
                object.insert("updated".into(), updated);
                object.insert("mechanism".into(), mechanism.into());
                object.insert("formats".into(), json!({"iterable": []}));
                object.insert("original".into(), json!({"id": "f1"}));
                object.insert("preview".into(), json!({"base": {"id": "f1"}}));
                if let Some(name) = name {
                    object.insert("name".into(), name.map_or(Value::Null, Value::from));
                }
                Value::Object(object)
            },
        )
}

/// JSON of an `Assets`: `iterable` and any other fields.
pub fn assets_json() -> impl Strategy<Value = Value> {
    (
        vec(asset_json(), 0..4),
        btree_map("[a-z_]{1,8}", any_json(), 0..3),
    )
        .prop_map(|(iterable, rest)| {
            let mut object: Map<String, Value> = rest.into_iter().collect();
            object.insert("iterable".into(), Value::Array(iterable));
            Value::Object(object)
        })
}
