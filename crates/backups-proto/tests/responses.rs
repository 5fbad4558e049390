//! How each operation reads responses: success, documented errors, and every kind of bad input.

use backups_proto::operations::{ApiOperation, Create, CreateStreamed, Delete, List};
use backups_proto::{Error, Operation};
use bytes::Bytes;
use http::Response;

const BACKUP: &str = r#"{"id":"b1","bytes":1.5,"created":{"value":"2026-11-26T21:00:00.123Z"},"device_name":"d","platform":"LINUX","timestamp":"t","version":"v"}"#;

fn response(status: u16, content_type: Option<&str>, body: &str) -> Response<Bytes> {
    let mut builder = Response::builder().status(status);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Bytes::from(body.to_owned())).unwrap()
}

fn json(body: &str) -> Response<Bytes> {
    response(200, Some("application/json; charset=utf-8"), body)
}

#[test]
fn list_parses_a_listing() {
    let body = format!(r#"{{"iterable":[{BACKUP}],"indices":{{"b1":0}}}}"#);
    let backups = List::parse_response(json(&body)).unwrap();
    assert_eq!(backups.len(), 1);
    assert_eq!(backups.get("b1").unwrap().bytes.as_f64(), 1.5);
}

#[test]
fn create_parses_a_backup() {
    let backup = Create::parse_response(json(BACKUP)).unwrap();
    assert_eq!(backup.id, "b1");
}

#[test]
fn delete_succeeds_on_204() {
    Delete::parse_response(response(204, None, "")).unwrap();
}

#[test]
fn documented_statuses_become_their_variants_with_the_server_text() {
    let text = "text/plain; charset=utf-8";
    type Case = (u16, fn(&Error) -> bool, &'static str);
    let cases: [Case; 3] = [
        (
            511,
            |e| matches!(e, Error::Unauthenticated { .. }),
            "sign in",
        ),
        (
            505,
            |e| matches!(e, Error::OsOutdated { .. }),
            "update Pieces OS",
        ),
        (500, |e| matches!(e, Error::Internal { .. }), "500"),
    ];
    for (status, is_variant, advice) in cases {
        let errors = [
            List::parse_response(response(status, Some(text), "server says no")).unwrap_err(),
            Create::parse_response(response(status, Some(text), "server says no")).unwrap_err(),
            CreateStreamed::parse_response(response(status, Some(text), "server says no"))
                .unwrap_err(),
            Delete::parse_response(response(status, Some(text), "server says no")).unwrap_err(),
        ];
        for err in errors {
            assert!(is_variant(&err), "{status}: {err:?}");
            assert_eq!(err.status().unwrap().as_u16(), status);
            let shown = err.to_string();
            assert!(shown.contains(advice), "{shown}");
            assert!(shown.contains("server says no"), "{shown}");
        }
    }
}

#[test]
fn an_undocumented_status_keeps_status_and_a_bounded_excerpt() {
    let long = "x".repeat(10_000);
    let err = List::parse_response(response(418, Some("text/plain"), &long)).unwrap_err();
    match &err {
        Error::UnexpectedStatus {
            status, excerpt, ..
        } => {
            assert_eq!(status.as_u16(), 418);
            assert!(excerpt.len() < 300, "{}", excerpt.len());
        }
        other => panic!("{other:?}"),
    }
    let err =
        Delete::parse_response(response(404, Some("text/plain"), "no such backup")).unwrap_err();
    assert!(err.to_string().contains("no such backup"), "{err}");
}

#[test]
fn an_empty_body_where_json_is_due_is_a_decode_error() {
    let err = List::parse_response(json("")).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn malformed_json_is_a_decode_error() {
    let err = Create::parse_response(json(r#"{"id": nope}"#)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Decode {
                operation: Operation::Create,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn truncated_json_is_reported_as_truncated() {
    let err = Create::parse_response(json(&BACKUP[..40])).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
}

#[test]
fn trailing_data_is_refused() {
    let err = Create::parse_response(json(&format!("{BACKUP}{BACKUP}"))).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[test]
fn a_missing_required_field_is_named_with_its_path() {
    let broken = BACKUP.replace(r#""value":"2026-11-26T21:00:00.123Z""#, r#""readable":"x""#);
    let body = format!(r#"{{"iterable":[{BACKUP},{BACKUP},{BACKUP},{broken}]}}"#);
    let err = List::parse_response(json(&body)).unwrap_err();
    match &err {
        Error::Decode { path, .. } => assert_eq!(path, "iterable[3].created.value"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_type_is_named_with_its_path() {
    let broken = BACKUP.replace(r#""bytes":1.5"#, r#""bytes":"big""#);
    let err = Create::parse_response(json(&broken)).unwrap_err();
    match &err {
        Error::Decode { path, .. } => assert_eq!(path, "bytes"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_content_type_is_refused() {
    let err = List::parse_response(response(200, Some("text/html"), "<html>")).unwrap_err();
    match &err {
        Error::UnexpectedContentType { content_type, .. } => assert_eq!(content_type, "text/html"),
        other => panic!("{other:?}"),
    }
    let err =
        CreateStreamed::parse_response(response(200, Some("text/html"), "<html>")).unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedContentType { .. }),
        "{err:?}"
    );
}

#[test]
fn media_types_are_matched_without_case_or_parameters() {
    for json in [
        "application/json",
        "Application/JSON; charset=utf-8",
        " application/json ;charset=UTF-8",
        "application/problem+JSON",
    ] {
        let parsed = Create::parse_response(response(200, Some(json), BACKUP));
        assert!(parsed.is_ok(), "{json}: {parsed:?}");
    }
    for stream in ["Application/X-NDJSON", "application/jsonl; charset=utf-8"] {
        let body = format!(r#"{{"status":"COMPLETED","percentage":100,"backup":{BACKUP}}}"#);
        let parsed = CreateStreamed::parse_response(response(200, Some(stream), &body));
        assert!(parsed.is_ok(), "{stream}: {parsed:?}");
    }
    for (not_json, named) in [
        ("Text/HTML; charset=utf-8", "text/html"),
        ("application/jsonx", "application/jsonx"),
        ("json", "json"),
    ] {
        match Create::parse_response(response(200, Some(not_json), BACKUP)) {
            Err(Error::UnexpectedContentType { content_type, .. }) => {
                assert_eq!(content_type, named)
            }
            other => panic!("{not_json}: {other:?}"),
        }
    }
}

#[test]
fn a_missing_content_type_is_read_as_json() {
    let backup = Create::parse_response(response(200, None, BACKUP)).unwrap();
    assert_eq!(backup.id, "b1");
}

#[test]
fn streamed_create_reads_the_single_object_the_official_servers_send() {
    let body = format!(r#"{{"status":"COMPLETED","percentage":100,"backup":{BACKUP}}}"#);
    let events = CreateStreamed::parse_response(json(&body)).unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].is_terminal());
    assert_eq!(events[0].backup.as_ref().unwrap().id, "b1");
}

#[test]
fn unknown_fields_and_enum_values_pass_through() {
    let body = BACKUP.replace(
        r#""platform":"LINUX""#,
        r#""platform":"VISIONOS","extra":[1]"#,
    );
    let backup = Create::parse_response(json(&body)).unwrap();
    assert_eq!(backup.platform.as_str(), "VISIONOS");
}
