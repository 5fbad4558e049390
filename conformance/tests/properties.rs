//! Property tests: lossless JSON round trips of every model, which read JSON objects only (never
//! an array of their fields), requests that satisfy the wire contract for generated arguments, and
//! a progress decoder that is indifferent to chunking and never panics.
//!
//! Each property runs through [`check`], which records its result for `cargo xtask conformance`
//! and fails the test with proptest's minimal counterexample.

use std::fmt::{self, Debug};
use std::sync::Mutex;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use backups_conformance::strategies::{self, with_noise};
use backups_conformance::{CaseResult, SuiteReport};
use backups_models::{
    Backup, BackupStatus, BackupStreamedProgress, Backups, BackupsStreamedProgress,
    EmbeddedModelSchema, GroupedTimestamp, Platform, ProgressStatus, Score, SeededBackup,
    SemanticVersion,
};
use backups_proto::operations::{AnyOperation, ApiOperation, Create, CreateStreamed, Delete, List};
use backups_proto::{BackupId, Endpoint, Operation, ProgressDecoder, RequestBody};

// The asset bodies' properties, beside the others so that they are recorded with them.
#[path = "properties/assets.rs"]
mod assets;

/// Cases per property: enough to find the usual edge cases, few enough to keep the suite quick.
const CASES: u32 = 128;

static RESULTS: Mutex<Vec<CaseResult>> = Mutex::new(Vec::new());

/// Runs a property, records it, and panics with the counterexample if it fails.
#[track_caller]
fn check<S: Strategy>(
    name: &str,
    operation: &str,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: Debug,
{
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&strategy, test);
    let result = CaseResult {
        suite: "property".into(),
        case: name.into(),
        operation: operation.into(),
        family: "property".into(),
        passed: outcome.is_ok(),
        detail: outcome
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default(),
    };
    {
        let mut results = RESULTS.lock().unwrap_or_else(|p| p.into_inner());
        results.retain(|r| r.case != name);
        results.push(result);
        let report = SuiteReport {
            results: results.clone(),
        };
        // Tests run in parallel: each rewrites the file with everything recorded so far.
        report.write_results("property").expect("results file");
    }
    if let Err(err) = outcome {
        panic!("property {name} failed: {err}");
    }
}

/// model → JSON → model gives the same model.
fn model_round_trip<T>(value: T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_string(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(back, value, "through {}", json);
    Ok(())
}

/// JSON → model → JSON gives the same JSON, compared as values.
fn json_round_trip<T>(json: &Value, expected: &Value) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned,
{
    let model: T = serde_json::from_value(json.clone())
        .map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    let back = serde_json::to_value(&model).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, expected, "read from {}", json);
    Ok(())
}

#[test]
fn models_round_trip_through_json() {
    check(
        "backup model->json->model",
        "models",
        strategies::backup(),
        model_round_trip,
    );
    check(
        "backups model->json->model",
        "models",
        strategies::backups(),
        model_round_trip,
    );
    check(
        "seeded_backup model->json->model",
        "models",
        strategies::seeded_backup(),
        model_round_trip,
    );
    check(
        "backup_streamed_progress model->json->model",
        "models",
        strategies::backup_streamed_progress(),
        model_round_trip,
    );
    check(
        "backups_streamed_progress model->json->model",
        "models",
        strategies::backups_streamed_progress(),
        model_round_trip,
    );
    check(
        "backup_status model->json->model",
        "models",
        strategies::backup_status(),
        model_round_trip,
    );
    check(
        "grouped_timestamp model->json->model",
        "models",
        strategies::grouped_timestamp(),
        model_round_trip,
    );
    check(
        "embedded_model_schema model->json->model",
        "models",
        strategies::embedded_model_schema(),
        model_round_trip,
    );
    check(
        "score model->json->model",
        "models",
        strategies::score(),
        model_round_trip,
    );
    check(
        "platform model->json->model",
        "models",
        strategies::platform(),
        model_round_trip,
    );
    check(
        "progress_status model->json->model",
        "models",
        strategies::progress_status(),
        model_round_trip,
    );
    check(
        "semantic_version model->json->model",
        "models",
        strategies::semantic_version(),
        model_round_trip,
    );
}

/// A JSON object's values, in the order they were written (`serde_json::Value` sorts keys).
struct ValuesInOrder(Vec<Value>);

impl<'de> Deserialize<'de> for ValuesInOrder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Values;
        impl<'de> Visitor<'de> for Values {
            type Value = ValuesInOrder;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ValuesInOrder, A::Error> {
                let mut values = Vec::new();
                while let Some((_, value)) = map.next_entry::<String, Value>()? {
                    values.push(value);
                }
                Ok(ValuesInOrder(values))
            }
        }
        deserializer.deserialize_map(Values)
    }
}

/// The model's JSON object round-trips, and the array of its values in the order written (what
/// serde's derived `Deserialize` would read as the struct's fields in order) is refused.
fn objects_only<T>(value: T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_string(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(json.starts_with('{'), "not an object: {}", json);
    let ValuesInOrder(values) =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    let array = Value::Array(values);
    let from_value = serde_json::from_value::<T>(array.clone());
    prop_assert!(from_value.is_err(), "{} read as {:?}", array, from_value);
    let from_text = serde_json::from_str::<T>(&array.to_string());
    prop_assert!(from_text.is_err(), "{} read as {:?}", array, from_text);
    model_round_trip(value)
}

#[test]
fn models_read_objects_only() {
    check(
        "backup array refused",
        "models",
        strategies::backup(),
        objects_only::<Backup>,
    );
    check(
        "backups array refused",
        "models",
        strategies::backups(),
        objects_only::<Backups>,
    );
    check(
        "seeded_backup array refused",
        "models",
        strategies::seeded_backup(),
        objects_only::<SeededBackup>,
    );
    check(
        "backup_streamed_progress array refused",
        "models",
        strategies::backup_streamed_progress(),
        objects_only::<BackupStreamedProgress>,
    );
    check(
        "backups_streamed_progress array refused",
        "models",
        strategies::backups_streamed_progress(),
        objects_only::<BackupsStreamedProgress>,
    );
    check(
        "backup_status array refused",
        "models",
        strategies::backup_status(),
        objects_only::<BackupStatus>,
    );
    check(
        "grouped_timestamp array refused",
        "models",
        strategies::grouped_timestamp(),
        objects_only::<GroupedTimestamp>,
    );
    check(
        "embedded_model_schema array refused",
        "models",
        strategies::embedded_model_schema(),
        objects_only::<EmbeddedModelSchema>,
    );
    check(
        "score array refused",
        "models",
        strategies::score(),
        objects_only::<Score>,
    );
}

#[test]
fn the_array_check_bites_on_a_plain_derived_struct() {
    // serde's derived Deserialize reads a struct from the array of its fields in order: the
    // property above must catch a model that still does.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Plain {
        id: String,
        bytes: u64,
    }
    let plain = Plain {
        id: "b1".into(),
        bytes: 7,
    };
    let err = objects_only(plain).unwrap_err().to_string();
    assert!(err.contains(r#"["b1",7] read as Ok"#), "{err}");
}

#[test]
fn canonical_json_round_trips_through_models() {
    check(
        "backup json->model->json",
        "models",
        strategies::backup_json(),
        |json| json_round_trip::<Backup>(&json, &json),
    );
    check(
        "backups json->model->json",
        "models",
        strategies::backups_json(),
        |json| json_round_trip::<Backups>(&json, &json),
    );
    check(
        "progress json->model->json",
        "models",
        strategies::progress_json(),
        |json| json_round_trip::<BackupStreamedProgress>(&json, &json),
    );
}

#[test]
fn nulls_and_unknown_fields_are_accepted_and_dropped() {
    let noisy =
        strategies::backups_json().prop_flat_map(|json| (Just(json.clone()), with_noise(json)));
    check(
        "backups json+noise->model->canonical json",
        "models",
        noisy,
        |(canonical, noisy)| {
            prop_assert_ne!(&canonical, &noisy);
            json_round_trip::<Backups>(&noisy, &canonical)
        },
    );
}

#[test]
fn unknown_enum_values_are_kept() {
    check(
        "unknown enum values kept",
        "models",
        "[A-Z][A-Z0-9_-]{0,10}",
        |raw| {
            for (json, back) in [
                (
                    Value::from(raw.clone()),
                    serde_json::to_value(Platform::from_wire(&raw)),
                ),
                (
                    Value::from(raw.clone()),
                    serde_json::to_value(ProgressStatus::from_wire(&raw)),
                ),
                (
                    Value::from(raw.clone()),
                    serde_json::to_value(SemanticVersion::from_wire(&raw)),
                ),
            ] {
                prop_assert_eq!(back.unwrap(), json);
            }
            let platform: Platform = serde_json::from_value(Value::from(raw.clone())).unwrap();
            prop_assert_eq!(platform.as_str(), raw.as_str());
            Ok(())
        },
    );
}

/// Checks what every request shares: the operation in the extensions, the headers, the body.
fn check_common(
    request: &http::Request<bytes::Bytes>,
    accept: &str,
    body: Option<Value>,
) -> Result<(), TestCaseError> {
    let headers = request.headers();
    prop_assert_eq!(headers.get_all("accept").iter().count(), 1);
    prop_assert_eq!(&headers["accept"], accept);
    prop_assert!(headers.contains_key("user-agent"));
    if request.method() == http::Method::POST {
        prop_assert_eq!(&headers["content-type"], "application/json");
        let length: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
        prop_assert_eq!(length, request.body().len());
    } else {
        prop_assert!(!headers.contains_key("content-type"));
        prop_assert!(request.body().is_empty());
    }
    match body {
        None => prop_assert!(request.body().is_empty()),
        Some(expected) => {
            let sent: Value = serde_json::from_slice(request.body()).unwrap();
            prop_assert_eq!(sent, expected);
        }
    }
    Ok(())
}

fn base_url() -> impl Strategy<Value = String> {
    (
        1024u16..,
        prop_oneof![Just(""), Just("/pieces"), Just("/a/b")],
    )
        .prop_map(|(port, prefix)| format!("http://127.0.0.1:{port}{prefix}"))
}

fn percent_decode(segment: &str) -> Vec<u8> {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&segment[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Backup ids, the awkward ones often: dot-segments, reserved characters, anything.
fn ids() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => Just("..".to_owned()),
        1 => Just(".".to_owned()),
        1 => "[./%?#&=+ ]{1,6}",
    ]
    .prop_filter("not empty", |id| !id.is_empty())
}

/// The id segment of `path`, which must be `template` (with `{backup}`) under `prefix`.
fn id_segment<'a>(path: &'a str, prefix: &str, template: &str) -> Option<&'a str> {
    let (before, after) = template.split_once("{backup}")?;
    path.strip_prefix(prefix)?
        .strip_prefix(before)?
        .strip_suffix(after)
}

#[test]
fn requests_of_one_backup_satisfy_the_wire_contract() {
    // BackupApi's seven: any id is one encoded path segment; method, Accept, Content-Type and
    // body as their row of lifecycle.md says.
    // (`/backup/asset` is BackupApi's too, but names no backup.)
    let ops =
        Operation::http().filter(|op| op.path_template().starts_with("/backup/") && op.takes_id());
    let mut checked = 0;
    for op in ops {
        checked += 1;
        let takes_backup = op.spec().request == RequestBody::Backup;
        let backup = proptest::option::of(strategies::backup())
            .prop_map(move |backup| backup.filter(|_| takes_backup));
        check(
            &format!("{op} id is one encoded segment"),
            op.name(),
            (base_url(), ids(), backup),
            |(base, id, backup)| {
                let endpoint = Endpoint::new(base.parse().unwrap());
                let body = backup.as_ref().map(|b| serde_json::to_vec(b).unwrap());
                let request = AnyOperation::from_parts(
                    op,
                    Some(BackupId::new(id.clone()).unwrap()),
                    body.as_deref(),
                )
                .unwrap()
                .request(&endpoint)
                .unwrap();
                prop_assert_eq!(request.method(), op.method());
                prop_assert_eq!(request.extensions().get(), Some(&op));
                let prefix = endpoint.base_url().prefix().to_owned();
                let path = request.uri().path();
                let segment = id_segment(path, &prefix, op.path_template());
                prop_assert!(segment.is_some(), "{} is not {}", path, op.path_template());
                let segment = segment.unwrap_or_default();
                prop_assert!(
                    segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_~%".contains(&b)),
                    "{}",
                    segment
                );
                prop_assert_eq!(percent_decode(segment), id.as_bytes());
                prop_assert!(request.uri().query().is_none());
                let headers = request.headers();
                prop_assert_eq!(headers.get_all("accept").iter().count(), 1);
                prop_assert_eq!(&headers["accept"], op.spec().accept);
                prop_assert!(headers.contains_key("user-agent"));
                if takes_backup {
                    // An optional JSON Backup: Content-Type even when it is absent.
                    prop_assert_eq!(&headers["content-type"], "application/json");
                    let length: usize =
                        headers["content-length"].to_str().unwrap().parse().unwrap();
                    prop_assert_eq!(length, request.body().len());
                } else {
                    // The GETs and the creation cancel: no body, no Content-Type.
                    prop_assert!(!headers.contains_key("content-type"));
                }
                match backup {
                    None => prop_assert!(request.body().is_empty()),
                    Some(backup) => {
                        let sent: Value = serde_json::from_slice(request.body()).unwrap();
                        prop_assert_eq!(sent, serde_json::to_value(backup).unwrap());
                    }
                }
                Ok(())
            },
        );
    }
    assert_eq!(checked, 7, "BackupApi has seven operations on one backup");
}

#[test]
fn requests_satisfy_the_wire_contract() {
    let ids = ids();
    check(
        "delete id is one encoded segment",
        "delete",
        (base_url(), ids, proptest::option::of(strategies::backup())),
        |(base, id, backup)| {
            let endpoint = Endpoint::new(base.parse().unwrap());
            let mut delete = Delete::new(BackupId::new(id.clone()).unwrap());
            delete.backup = backup.clone();
            let request = delete.request(&endpoint).unwrap();
            prop_assert_eq!(request.method(), http::Method::POST);
            prop_assert_eq!(
                request.extensions().get(),
                Some(&backups_proto::Operation::Delete)
            );
            let prefix = endpoint.base_url().prefix().to_owned();
            let path = request.uri().path();
            let segment = path
                .strip_prefix(&format!("{prefix}/backups/"))
                .and_then(|rest| rest.strip_suffix("/delete"))
                .unwrap_or_else(|| panic!("path {path}"));
            // Only unreserved characters and escapes: no `/`, no `.` that could form a dot-segment.
            prop_assert!(
                segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_~%".contains(&b)),
                "{}",
                segment
            );
            prop_assert_eq!(percent_decode(segment), id.as_bytes());
            prop_assert!(request.uri().query().is_none());
            check_common(
                &request,
                "text/plain",
                backup.map(|b| serde_json::to_value(b).unwrap()),
            )
        },
    );
    check(
        "create request",
        "create",
        (
            base_url(),
            proptest::option::of(strategies::seeded_backup()),
        ),
        |(base, seed)| {
            let endpoint = Endpoint::new(base.parse().unwrap());
            let request = Create { seed: seed.clone() }.request(&endpoint).unwrap();
            prop_assert_eq!(request.uri().to_string(), format!("{base}/backups/create"));
            prop_assert_eq!(
                request.extensions().get(),
                Some(&backups_proto::Operation::Create)
            );
            check_common(
                &request,
                "application/json",
                seed.map(|s| serde_json::to_value(s).unwrap()),
            )
        },
    );
    check(
        "create_streamed request",
        "create_streamed",
        (
            base_url(),
            proptest::option::of(strategies::seeded_backup()),
        ),
        |(base, seed)| {
            let endpoint = Endpoint::new(base.parse().unwrap());
            let op = CreateStreamed { seed: seed.clone() };
            let request = op.request(&endpoint).unwrap();
            prop_assert_eq!(
                request.uri().to_string(),
                format!("{base}/backups/create/streamed")
            );
            // The stream is asked for by name, with a single JSON object understood too.
            check_common(
                &request,
                "application/x-ndjson, application/json",
                seed.map(|s| serde_json::to_value(s).unwrap()),
            )
        },
    );
    check("list request", "list", base_url(), |base| {
        let endpoint = Endpoint::new(base.parse().unwrap());
        let request = List.request(&endpoint).unwrap();
        prop_assert_eq!(request.method(), http::Method::GET);
        prop_assert_eq!(request.uri().to_string(), format!("{base}/backups"));
        prop_assert!(!request.headers().contains_key("content-length"));
        check_common(&request, "application/json", None)
    });
}

/// How a stream separates its events.
#[derive(Debug, Clone, Copy)]
enum Framing {
    Ndjson,
    JsonSeq,
    Whitespace,
}

fn frame(events: &[BackupStreamedProgress], framing: Framing) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let json = serde_json::to_vec(event).unwrap();
        match framing {
            Framing::Ndjson => {
                out.extend_from_slice(&json);
                out.push(b'\n');
            }
            Framing::JsonSeq => {
                out.push(0x1e);
                out.extend_from_slice(&json);
                out.push(b'\n');
            }
            Framing::Whitespace => {
                if i > 0 {
                    out.extend_from_slice([&b" "[..], b"\r\n", b"\t "][i % 3]);
                }
                out.extend_from_slice(&json);
            }
        }
    }
    out
}

fn decode(chunks: &[&[u8]]) -> Result<Vec<BackupStreamedProgress>, backups_proto::Error> {
    let mut decoder = ProgressDecoder::new();
    for chunk in chunks {
        decoder.push(chunk);
    }
    decoder.finish();
    decoder.collect()
}

#[test]
fn the_decoder_is_indifferent_to_chunking() {
    let streams = (
        strategies::progress_events(),
        prop_oneof![
            Just(Framing::Ndjson),
            Just(Framing::JsonSeq),
            Just(Framing::Whitespace)
        ],
    )
        .prop_flat_map(|(events, framing)| {
            let bytes = frame(&events, framing);
            let len = bytes.len();
            (
                Just(events),
                Just(bytes),
                proptest::collection::vec(0..=len, 0..12),
            )
        });
    check(
        "same events for every chunking",
        "create_streamed",
        streams,
        |(events, bytes, mut cuts)| {
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut at = 0;
            for cut in cuts {
                chunks.push(&bytes[at..cut]);
                at = cut;
            }
            chunks.push(&bytes[at..]);
            let decoded = decode(&chunks).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&decoded, &events);
            prop_assert_eq!(decode(&[&bytes]).unwrap(), events);
            Ok(())
        },
    );
    check(
        "a cut stream is an error, never silence",
        "create_streamed",
        strategies::progress_events().prop_flat_map(|events| {
            let bytes = frame(&events, Framing::Ndjson);
            // Cut strictly inside the last event (its last byte is the closing brace).
            let last_start = bytes[..bytes.len() - 1]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            (Just(bytes.clone()), (last_start + 1)..(bytes.len() - 1))
        }),
        |(bytes, cut)| {
            prop_assert!(decode(&[&bytes[..cut]]).is_err());
            Ok(())
        },
    );
}

#[test]
fn the_decoder_never_panics() {
    check(
        "arbitrary bytes never panic",
        "create_streamed",
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
        |chunks| {
            let chunks: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
            let _ = decode(&chunks);
            Ok(())
        },
    );
    let almost_json = proptest::collection::vec(
        prop_oneof![
            Just(&b"{"[..]),
            Just(&b"}"[..]),
            Just(&b"\""[..]),
            Just(&b"\\"[..]),
            Just(&b"\n"[..]),
            Just(&b"\x1e"[..]),
            Just(&b"\"status\":"[..]),
            Just(&b"\"COMPLETED\""[..]),
            Just(&b"\xc3"[..]),
            Just(&b","[..]),
        ],
        0..40,
    );
    check(
        "JSON-like bytes never panic",
        "create_streamed",
        (almost_json, 1usize..8),
        |(parts, every)| {
            let bytes = parts.concat();
            let chunks: Vec<&[u8]> = bytes.chunks(every).collect();
            let _ = decode(&chunks);
            Ok(())
        },
    );
}
