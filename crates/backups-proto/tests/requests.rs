//! The requests each operation builds, checked against the wire facts in wire.md.

use backups_models::{Backup, SeededBackup};
use backups_proto::operations::{ApiOperation, Create, CreateStreamed, Delete, List};
use backups_proto::{BackupId, Endpoint, Error, Operation};
use http::{HeaderName, HeaderValue, Method};
use proptest::prelude::*;

fn endpoint() -> Endpoint {
    Endpoint::new("http://127.0.0.1:39300".parse().unwrap())
}

#[track_caller]
fn header<'a>(request: &'a http::Request<bytes::Bytes>, name: &str) -> Option<&'a str> {
    request.headers().get(name).map(|v| v.to_str().unwrap())
}

#[test]
fn list_is_a_bare_get() {
    let request = List.request(&endpoint()).unwrap();
    assert_eq!(request.method(), Method::GET);
    assert_eq!(request.uri(), "http://127.0.0.1:39300/backups");
    assert_eq!(header(&request, "accept"), Some("application/json"));
    assert!(header(&request, "content-type").is_none());
    assert!(request.body().is_empty());
    assert_eq!(
        request.extensions().get::<Operation>(),
        Some(&Operation::List)
    );
    let user_agent = header(&request, "user-agent").unwrap();
    assert!(user_agent.starts_with("pieces-backups-rs/"), "{user_agent}");
    assert_eq!(header(&request, "host"), Some("127.0.0.1:39300"));
    let names: Vec<&str> = request.headers().keys().map(|k| k.as_str()).collect();
    assert_eq!(names, ["host", "user-agent", "accept"]);
}

#[test]
fn host_is_written_as_http_clients_write_it() {
    for (base, host) in [
        ("http://localhost:1000", "localhost:1000"),
        ("http://localhost", "localhost"),
        ("http://localhost:80/x", "localhost"),
        ("https://pieces.local:443", "pieces.local"),
        ("https://pieces.local:8443/os/", "pieces.local:8443"),
        ("http://[::1]:39300", "[::1]:39300"),
        ("http://user@h:39301", "h:39301"),
    ] {
        let endpoint = Endpoint::new(base.parse().unwrap());
        let request = List.request(&endpoint).unwrap();
        assert_eq!(header(&request, "host"), Some(host), "{base}");
    }
}

#[test]
fn endpoint_headers_replace_host_but_not_the_operation_headers() {
    let mut endpoint = endpoint();
    endpoint.insert_header(http::header::HOST, HeaderValue::from_static("proxy.test"));
    endpoint.insert_header(http::header::ACCEPT, HeaderValue::from_static("text/html"));
    let request = Create::default().request(&endpoint).unwrap();
    assert_eq!(header(&request, "host"), Some("proxy.test"));
    assert_eq!(header(&request, "accept"), Some("application/json"));
    assert_eq!(request.headers().get_all("host").iter().count(), 1);
    assert_eq!(request.headers().get_all("accept").iter().count(), 1);
}

#[test]
fn create_without_seed_sends_an_empty_json_request() {
    let request = Create::default().request(&endpoint()).unwrap();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri().path(), "/backups/create");
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    assert_eq!(header(&request, "content-length"), Some("0"));
    assert_eq!(header(&request, "accept"), Some("application/json"));
    assert!(request.body().is_empty());
}

#[test]
fn create_with_seed_sends_its_json() {
    let op = Create {
        seed: Some(SeededBackup::new()),
    };
    let request = op.request(&endpoint()).unwrap();
    assert_eq!(&request.body()[..], b"{}");
    assert_eq!(header(&request, "content-length"), Some("2"));
}

#[test]
fn streamed_create_asks_for_ndjson_and_accepts_json() {
    let request = CreateStreamed::default().request(&endpoint()).unwrap();
    assert_eq!(request.uri().path(), "/backups/create/streamed");
    let accept = header(&request, "accept").unwrap();
    assert!(accept.contains("application/x-ndjson"), "{accept}");
    assert!(accept.contains("application/json"), "{accept}");
    assert_eq!(
        request.extensions().get::<Operation>(),
        Some(&Operation::CreateStreamed)
    );
}

#[test]
fn delete_accepts_text_and_encodes_the_id_as_one_segment() {
    let id = BackupId::new("a/b c?d#e%f").unwrap();
    let request = Delete::new(id).request(&endpoint()).unwrap();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(
        request.uri().path(),
        "/backups/a%2Fb%20c%3Fd%23e%25f/delete"
    );
    assert_eq!(request.uri().query(), None);
    assert_eq!(header(&request, "accept"), Some("text/plain"));
    assert_eq!(header(&request, "content-type"), Some("application/json"));
}

#[test]
fn dot_segments_cannot_change_the_path() {
    for id in [".", "..", "../..", "./x"] {
        let request = Delete::new(BackupId::new(id).unwrap())
            .request(&endpoint())
            .unwrap();
        let path = request.uri().path();
        let segments: Vec<&str> = path.split('/').collect();
        assert_eq!(segments.len(), 4, "{path}");
        assert!(!segments.iter().any(|s| *s == "." || *s == ".."), "{path}");
    }
}

#[test]
fn an_empty_id_is_refused_before_any_io() {
    let err = BackupId::new("").unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }));
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn delete_may_carry_the_backup() {
    let backup: Backup = serde_json::from_value(serde_json::json!({
        "id": "b1", "bytes": 1, "created": {"value": "2026-11-26T21:00:00Z"},
        "device_name": "d", "platform": "LINUX", "timestamp": "t", "version": "v"
    }))
    .unwrap();
    let op = Delete {
        id: BackupId::try_from(&backup).unwrap(),
        backup: Some(backup),
    };
    let request = op.request(&endpoint()).unwrap();
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(body["id"], "b1");
}

#[test]
fn base_url_prefix_and_extra_headers_apply_to_every_request() {
    let mut endpoint = Endpoint::new("https://pieces.local:8443/os/".parse().unwrap());
    endpoint.insert_header(
        HeaderName::from_static("x-application-id"),
        HeaderValue::from_static("app-1"),
    );
    endpoint.set_user_agent("my-tool/2").unwrap();
    let requests = [
        List.request(&endpoint).unwrap(),
        Create::default().request(&endpoint).unwrap(),
        CreateStreamed::default().request(&endpoint).unwrap(),
        Delete::new(BackupId::new("x").unwrap())
            .request(&endpoint)
            .unwrap(),
    ];
    for request in &requests {
        assert!(
            request.uri().path().starts_with("/os/backups"),
            "{}",
            request.uri()
        );
        assert_eq!(request.uri().scheme_str(), Some("https"));
        assert_eq!(header(request, "x-application-id"), Some("app-1"));
        assert_eq!(header(request, "user-agent"), Some("my-tool/2"));
    }
}

#[test]
fn bad_base_urls_are_refused() {
    for bad in [
        "",
        "localhost:1000",
        "ftp://h/",
        "http://h/?q=1",
        "http:///x",
        "not a url",
    ] {
        assert!(bad.parse::<backups_proto::BaseUrl>().is_err(), "{bad:?}");
    }
}

proptest! {
    #[test]
    fn every_id_travels_as_one_segment_and_decodes_back(id in "\\PC{1,40}|[./%?#\\\\ ]{1,10}") {
        let request = Delete::new(BackupId::new(id.clone()).unwrap())
            .request(&endpoint())
            .unwrap();
        let path = request.uri().path();
        let segment = path
            .strip_prefix("/backups/")
            .and_then(|rest| rest.strip_suffix("/delete"))
            .expect("path shape");
        prop_assert!(!segment.contains('/'));
        prop_assert!(segment != "." && segment != "..");
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8().unwrap();
        prop_assert_eq!(decoded, id);
    }

    #[test]
    fn any_string_id_is_accepted_or_refused_without_panic(id in any::<String>()) {
        match BackupId::new(id.clone()) {
            Ok(id) => {
                let request = Delete::new(id).request(&endpoint());
                prop_assert!(request.is_ok());
            }
            Err(_) => prop_assert!(id.is_empty()),
        }
    }
}

/// Every operation's value builds the request its row of the table describes, and
/// `AnyOperation` names the operation it was built for.
#[test]
fn every_operation_builds_the_request_of_its_table_row() {
    use backups_proto::RequestBody;
    use backups_proto::operations::AnyOperation;

    let endpoint = Endpoint::new("http://127.0.0.1:39300/prefix".parse().unwrap());
    for operation in Operation::http() {
        let spec = operation.spec();
        let id = operation.takes_id().then(|| BackupId::new("b 1").unwrap());
        let any = AnyOperation::from_parts(operation, id, None).unwrap();
        assert_eq!(any.operation(), operation);
        let request = any.request(&endpoint).unwrap();
        assert_eq!(request.method(), spec.method, "{operation}");
        let path = format!("/prefix{}", spec.path.replace("{backup}", "b%201"));
        assert_eq!(request.uri().path(), path, "{operation}");
        assert_eq!(request.headers()["accept"], spec.accept, "{operation}");
        assert_eq!(
            request.headers().contains_key("content-type"),
            spec.request != RequestBody::None,
            "{operation}"
        );
        assert_eq!(request.extensions().get::<Operation>(), Some(&operation));
        if operation.takes_id() {
            assert!(AnyOperation::from_parts(operation, None, None).is_err());
        }
    }
}
