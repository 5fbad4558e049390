//! Wire-format tests of the models: each asserts a promise the crate docs make.

use backups_models::*;
use serde_json::{Value, json};

fn backup_json() -> Value {
    json!({
        "id": "b1",
        "bytes": 1024,
        "created": {"value": "2026-11-26T21:00:00Z", "readable": "now"},
        "device_name": "laptop",
        "platform": "LINUX",
        "timestamp": "1764190800000",
        "version": "11.0.0"
    })
}

#[track_caller]
fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(input: Value) -> Value {
    let model: T = serde_json::from_value(input).expect("decodes");
    serde_json::to_value(&model).expect("encodes")
}

#[test]
fn backup_round_trips_exactly() {
    assert_eq!(round_trip::<Backup>(backup_json()), backup_json());
}

#[test]
fn bytes_keep_their_written_form() {
    for raw in [
        "1024",
        "1.5",
        "0",
        "1e3",
        "18446744073709551615",
        "-3",
        "1.0",
    ] {
        let number: Number = serde_json::from_str(raw).unwrap();
        let again: Number = serde_json::from_str(&serde_json::to_string(&number).unwrap()).unwrap();
        assert_eq!(number, again, "{raw}");
    }
    assert_eq!(
        serde_json::to_string(&serde_json::from_str::<Number>("1024").unwrap()).unwrap(),
        "1024"
    );
    assert_eq!(
        serde_json::to_string(&serde_json::from_str::<Number>("1.5").unwrap()).unwrap(),
        "1.5"
    );
    assert!(serde_json::from_str::<Number>("\"12\"").is_err());
    assert!(Number::from_f64(f64::NAN).is_none());
}

#[test]
fn null_is_read_as_unset_for_every_optional_field() {
    let mut value = backup_json();
    value["schema"] = Value::Null;
    value["created"]["readable"] = Value::Null;
    value["created"]["schema"] = Value::Null;
    let backup: Backup = serde_json::from_value(value).unwrap();
    assert_eq!(backup.schema, None);
    assert_eq!(backup.created.readable, None);
    let written = serde_json::to_value(&backup).unwrap();
    assert!(
        written.get("schema").is_none(),
        "unset fields are omitted, not null"
    );
    assert!(written["created"].get("readable").is_none());

    let progress: BackupStreamedProgress = serde_json::from_value(
        json!({"backup": null, "percentage": null, "status": null, "schema": null}),
    )
    .unwrap();
    assert_eq!(progress, BackupStreamedProgress::default());
    assert_eq!(serde_json::to_string(&progress).unwrap(), "{}");

    let listing: Backups = serde_json::from_value(
        json!({"iterable": [], "indices": null, "score": null, "schema": null}),
    )
    .unwrap();
    assert!(listing.is_empty());
    let status: BackupStatus =
        serde_json::from_value(json!({"backup": backup_json(), "percentage": null, "value": null}))
            .unwrap();
    assert_eq!(status.value, None);
    let all: BackupsStreamedProgress =
        serde_json::from_value(json!({"backups": null, "restorations": null})).unwrap();
    assert_eq!(all, BackupsStreamedProgress::default());
    let score: Score =
        serde_json::from_value(json!({"manual": 1, "automatic": 2, "priority": null})).unwrap();
    assert_eq!(score, Score::new(1, 2));
}

#[test]
fn unknown_enum_values_are_kept_and_written_back() {
    let mut value = backup_json();
    value["platform"] = json!("PLAN9");
    let backup: Backup = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(backup.platform, Platform::Other("PLAN9".into()));
    assert!(!backup.platform.is_known());
    assert_eq!(serde_json::to_value(&backup).unwrap(), value);

    let progress: BackupStreamedProgress =
        serde_json::from_value(json!({"status": "PAUSED", "percentage": 50})).unwrap();
    assert_eq!(
        progress.status,
        Some(ProgressStatus::Other("PAUSED".into()))
    );
    assert_eq!(serde_json::to_value(&progress).unwrap()["status"], "PAUSED");

    let schema: EmbeddedModelSchema =
        serde_json::from_value(json!({"migration": 0, "semantic": "MAJOR_9"})).unwrap();
    assert_eq!(schema.semantic.as_str(), "MAJOR_9");
}

#[test]
fn known_enum_values_use_their_wire_names() {
    for status in ProgressStatus::KNOWN {
        let text = serde_json::to_string(status).unwrap();
        assert_eq!(
            &serde_json::from_str::<ProgressStatus>(&text).unwrap(),
            status
        );
    }
    assert_eq!(
        serde_json::to_string(&ProgressStatus::InProgress).unwrap(),
        "\"IN-PROGRESS\""
    );
    assert_eq!(
        serde_json::to_string(&Platform::Macos).unwrap(),
        "\"MACOS\""
    );
    assert_eq!(
        serde_json::to_string(&SemanticVersion::Major0Minor0Patch1).unwrap(),
        "\"MAJOR_0_MINOR_0_PATCH_1\""
    );
    assert!(ProgressStatus::Completed.is_terminal());
    assert!(!ProgressStatus::InProgress.is_terminal());
}

#[test]
fn unknown_object_fields_are_accepted() {
    let mut value = backup_json();
    value["future_field"] = json!({"nested": [1, 2, 3]});
    let backup: Backup = serde_json::from_value(value).unwrap();
    assert_eq!(backup.id, "b1");
}

#[test]
fn timestamps_read_any_offset_and_precision_and_write_utc_z() {
    for (input, output) in [
        ("2026-11-26T21:00:00+00:00", "2026-11-26T21:00:00Z"),
        ("2026-11-26T23:00:00+02:00", "2026-11-26T21:00:00Z"),
        ("2026-11-26T21:00:00.123Z", "2026-11-26T21:00:00.123Z"),
        (
            "2026-11-26T16:30:00.123456789-04:30",
            "2026-11-26T21:00:00.123456789Z",
        ),
    ] {
        let ts: GroupedTimestamp = serde_json::from_value(json!({"value": input})).unwrap();
        assert_eq!(
            serde_json::to_value(&ts).unwrap()["value"],
            output,
            "{input}"
        );
    }
    let err =
        serde_json::from_value::<GroupedTimestamp>(json!({"value": "yesterday"})).unwrap_err();
    assert!(err.to_string().contains("RFC 3339"), "{err}");
}

#[test]
fn a_missing_required_field_is_named() {
    let mut value = backup_json();
    value.as_object_mut().unwrap().remove("device_name");
    let err = serde_json::from_value::<Backup>(value).unwrap_err();
    assert!(err.to_string().contains("device_name"), "{err}");
}

#[test]
fn listing_indices_find_backups() {
    let one: Backup = serde_json::from_value(backup_json()).unwrap();
    let mut two = one.clone();
    two.id = "b2".into();
    let listing = Backups::new(vec![one, two]);
    assert_eq!(listing.indices.as_ref().unwrap()["b2"], 1);
    assert_eq!(listing.get("b2").unwrap().id, "b2");
    assert!(listing.get("b3").is_none());
    assert_eq!(listing.iter().count(), 2);
}

#[test]
fn seeded_backup_is_an_empty_object() {
    assert_eq!(serde_json::to_string(&SeededBackup::new()).unwrap(), "{}");
}

/// serde's derive reads a struct from a sequence of its fields too; no model may.
#[test]
fn every_model_is_an_object_and_never_an_array() {
    fn refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) {
        let err = serde_json::from_str::<T>(json).expect_err(json);
        assert!(err.to_string().contains("a JSON object"), "{json}: {err}");
    }
    let backup = backup_json();
    let fields: Vec<Value> = backup.as_object().unwrap().values().cloned().collect();
    refused::<backups_models::Backup>(&Value::Array(fields).to_string());
    refused::<backups_models::Backups>("[[], {}]");
    refused::<backups_models::SeededBackup>("[]");
    refused::<backups_models::BackupStreamedProgress>("[]");
    refused::<backups_models::BackupsStreamedProgress>("[]");
    refused::<backups_models::BackupStatus>(&format!("[{backup}]"));
    refused::<backups_models::EmbeddedModelSchema>(r#"["MAJOR_0_MINOR_0_PATCH_1"]"#);
    refused::<backups_models::Score>("[1]");
    refused::<backups_models::GroupedTimestamp>(r#"["2026-01-01T00:00:00Z"]"#);
    // Nested too: an array where a nested object belongs.
    let mut nested = backup.clone();
    nested["created"] = serde_json::json!(["2026-01-01T00:00:00Z"]);
    let err = serde_json::from_value::<backups_models::Backup>(nested).unwrap_err();
    assert!(
        err.to_string().contains("a JSON object (GroupedTimestamp)"),
        "{err}"
    );
    // The object forms still read.
    assert!(serde_json::from_str::<backups_models::SeededBackup>("{}").is_ok());
    assert!(serde_json::from_value::<backups_models::Backup>(backup).is_ok());
}
