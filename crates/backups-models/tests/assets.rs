//! `Assets` and `Asset` are lossless: the bodies the official Python SDK's models serialize
//! (`tests/fixtures/`, written by `crates/backups-server/tests/python/asset_fixtures.py`, which
//! CI's `run.sh` checks for drift) come back unchanged, unknown fields included.

use std::path::PathBuf;

use backups_models::{Asset, Assets, Mechanism};
use serde_json::{Value, json};

fn fixtures() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .expect("the fixtures directory")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("a fixture");
            (name, serde_json::from_str(&text).expect("fixture JSON"))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn fixture(name: &str) -> Value {
    fixtures()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

#[test]
fn assets_round_trip() {
    let all = fixtures();
    assert!(all.len() >= 5, "fixtures missing: {all:?}");
    for (name, input) in all {
        let written = if name.starts_with("assets") {
            let assets: Assets = serde_json::from_value(input.clone())
                .unwrap_or_else(|err| panic!("{name} is an Assets: {err}"));
            serde_json::to_value(&assets).unwrap()
        } else {
            let asset: Asset = serde_json::from_value(input.clone())
                .unwrap_or_else(|err| panic!("{name} is an Asset: {err}"));
            serde_json::to_value(&asset).unwrap()
        };
        assert_eq!(written, input, "{name} changed on a round trip");
    }
}

#[test]
fn the_typed_fields_read_what_the_sdk_wrote() {
    let assets: Assets = serde_json::from_value(fixture("assets_unknown_fields.json")).unwrap();
    assert_eq!(assets.len(), 2);
    let first = &assets.assets()[0];
    assert_eq!(first.id(), "asset-1");
    assert_eq!(first.name(), Some("notes.md"));
    assert_eq!(
        first.mechanism(),
        &Mechanism::Other("A_LATER_MECHANISM".into())
    );
    // 23:30 at +02:00, read as the instant it is; written back as it came (round trip above).
    assert_eq!(first.updated().value.unix_timestamp(), 1_795_728_600);
    assert_eq!(first.updated().value.nanosecond(), 123_456_000);
    let second = assets.get("asset-2").expect("asset-2");
    assert_eq!(second.mechanism(), &Mechanism::Automatic);
    assert_eq!(
        second.created().readable.as_deref(),
        Some("January 2, 2026")
    );
    assert_eq!(second.get("favorited"), Some(&json!(true)));
    assert!(assets.fields().contains_key("a_later_field"));
    assert!(!assets.fields().contains_key("iterable"));
}

#[test]
fn what_is_not_an_asset_is_a_typed_error() {
    let good = fixture("asset_required.json");
    let with = |field: &str, value: Value| {
        let mut v = good.clone();
        v[field] = value;
        v
    };
    let without = |field: &str| {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(field);
        v
    };
    let cases = [
        (json!([]), "", "a JSON object (Asset)"),
        (json!("a1"), "", "a JSON object (Asset)"),
        (without("id"), "id", "this required field"),
        (with("id", json!(7)), "id", "a string"),
        (without("preview"), "preview", "this required field"),
        (with("formats", json!([])), "formats", "a JSON object"),
        (with("name", json!(1)), "name", "a string or null"),
        (with("mechanism", Value::Null), "mechanism", "a string"),
    ];
    for (input, path, expected) in cases {
        let err = Asset::from_value(input.clone()).expect_err(&input.to_string());
        assert_eq!((err.path(), err.expected()), (path, expected), "{input}");
    }
    let err = Asset::from_value(with("created", json!({"value": "yesterday"}))).unwrap_err();
    assert_eq!(err.path(), "created");
    assert!(err.to_string().contains("RFC 3339"), "{err}");
    // `null` is an unset name, as the Dart SDK writes it.
    assert_eq!(
        Asset::from_value(with("name", Value::Null)).unwrap().name(),
        None
    );
}

#[test]
fn what_is_not_an_assets_is_a_typed_error() {
    let asset = fixture("asset_required.json");
    let mut bad_asset = asset.clone();
    bad_asset.as_object_mut().unwrap().remove("creator");
    let cases = [
        (json!({}), "iterable", "this required field"),
        (
            json!({"iterable": {}}),
            "iterable",
            "an array of Asset objects",
        ),
        (
            json!({"iterable": [asset, 1]}),
            "iterable[1]",
            "a JSON object (Asset)",
        ),
        (
            json!({"iterable": [bad_asset]}),
            "iterable[0].creator",
            "this required field",
        ),
        (json!([[]]), "", "a JSON object (Assets)"),
    ];
    for (input, path, expected) in cases {
        let err = Assets::from_value(input.clone()).expect_err(&input.to_string());
        assert_eq!((err.path(), err.expected()), (path, expected), "{input}");
        // Through serde, the same words.
        let serde_err = serde_json::from_value::<Assets>(input).unwrap_err();
        assert_eq!(serde_err.to_string(), err.to_string());
    }
}

#[test]
fn assets_built_in_rust_write_iterable_in_place() {
    let asset = Asset::from_value(fixture("asset_required.json")).unwrap();
    let assets = Assets::from(vec![asset.clone()]);
    assert_eq!(
        serde_json::to_value(&assets).unwrap(),
        json!({"iterable": [fixture("asset_required.json")]})
    );
    let text = serde_json::to_string(
        &Assets::from_value(json!({"z": 1, "iterable": [], "a": 2})).unwrap(),
    )
    .unwrap();
    assert_eq!(text, r#"{"a":2,"iterable":[],"z":1}"#);
    assert_eq!(assets.iter().next(), Some(&asset));
}

#[test]
fn floats_come_back_to_the_last_bit_through_text() {
    // Without serde_json's `float_roundtrip`, the first of these reads one unit in the last
    // place off.
    for float in [
        "-4.0318591876317104e206",
        "0.30000000000000004",
        "1e-300",
        "5e-324",
    ] {
        let mut input = fixture("asset_required.json");
        input["x_float"] = serde_json::from_str(float).unwrap();
        let text = serde_json::to_string(&Asset::from_value(input.clone()).unwrap()).unwrap();
        let back: Asset = serde_json::from_str(&text).unwrap();
        assert_eq!(back.get("x_float"), input.get("x_float"), "{float}");
        let written: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(written, input, "{float}");
    }
}
