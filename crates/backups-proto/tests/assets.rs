//! `POST /backup` and `POST /backup/asset`: their requests as the official client sends them, the
//! bodies refused before any IO, and their answers.

use std::sync::{Arc, Mutex};

use backups_models::{Asset, Assets};
use backups_proto::operations::{AnyOperation, ApiOperation, BackupAsset, BackupAssets};
use backups_proto::{Client, Endpoint, Error, ErrorKind, Operation, transport_fn};
use bytes::Bytes;
use http::Method;
use http_body_util::Full;
use serde_json::{Value, json};

fn endpoint() -> Endpoint {
    Endpoint::new("http://127.0.0.1:39300".parse().unwrap())
}

fn asset_json(id: &str) -> Value {
    json!({
        "id": id, "creator": "u1", "mechanism": "MANUAL",
        "created": {"value": "2026-11-26T21:00:00+00:00"},
        "updated": {"value": "2026-11-26T21:00:00.5+02:00"},
        "formats": {"iterable": []}, "original": {"id": "f1"},
        "preview": {"base": {"id": "f1"}}, "later": [1, null]
    })
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[track_caller]
fn header<'a>(request: &'a http::Request<Bytes>, name: &str) -> Option<&'a str> {
    request.headers().get(name).map(|v| v.to_str().unwrap())
}

#[test]
fn without_a_body_both_send_nothing_with_a_json_content_type() {
    let requests = [
        BackupAssets::default().request(&endpoint()).unwrap(),
        BackupAsset::default().request(&endpoint()).unwrap(),
    ];
    for (request, path) in requests.iter().zip(["/backup", "/backup/asset"]) {
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri().path(), path);
        assert_eq!(header(request, "accept"), Some("text/plain"));
        assert_eq!(header(request, "content-type"), Some("application/json"));
        assert_eq!(header(request, "content-length"), Some("0"));
        assert!(request.body().is_empty());
    }
    assert!(!Operation::BackupAssets.is_idempotent());
    assert_eq!(
        Operation::BackupAssets.spec().documented_errors,
        &[505, 511]
    );
    assert_eq!(Operation::BackupAsset.spec().official_name, "backup_asset");
}

#[test]
fn a_body_goes_as_it_was_read() {
    let asset = Asset::from_value(asset_json("a1")).unwrap();
    let request = BackupAsset::new(asset).request(&endpoint()).unwrap();
    let sent: Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(sent, asset_json("a1"));
    assert_eq!(
        header(&request, "content-length"),
        Some(request.body().len().to_string().as_str())
    );

    let assets_json = json!({"iterable": [asset_json("a1"), asset_json("a2")], "x": {}});
    let assets = Assets::from_value(assets_json.clone()).unwrap();
    let request = BackupAssets::new(assets).request(&endpoint()).unwrap();
    let sent: Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(sent, assets_json);
}

#[test]
fn a_body_that_is_not_the_model_is_refused_before_any_io() {
    let asset = serde_json::to_vec(&asset_json("a1")).unwrap();
    let cases: [(Operation, &[u8], &str); 5] = [
        (Operation::BackupAssets, b"[]", "expected a JSON object"),
        (Operation::BackupAssets, br#"{"iterable": 3}"#, "iterable"),
        (Operation::BackupAssets, &asset, "iterable"),
        (
            Operation::BackupAsset,
            br#"{"id": 7}"#,
            "id: expected a string",
        ),
        (Operation::BackupAsset, b"{", "EOF"),
    ];
    for (op, body, why) in cases {
        let err = AnyOperation::from_parts(op, None, Some(body)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{op}");
        assert!(err.to_string().contains(why), "{op}: {err}");
    }
    let id = backups_proto::BackupId::new("b1").unwrap();
    assert!(AnyOperation::from_parts(Operation::BackupAsset, Some(id), None).is_err());
    let any = AnyOperation::from_parts(Operation::BackupAsset, None, Some(&asset)).unwrap();
    assert_eq!(any.operation(), Operation::BackupAsset);
}

#[test]
fn the_client_sends_them_and_reads_their_answers() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let status = Arc::new(Mutex::new(204u16));
    let transport = {
        let (seen, status) = (Arc::clone(&seen), Arc::clone(&status));
        transport_fn(move |request: http::Request<Bytes>| {
            let (seen, status) = (Arc::clone(&seen), Arc::clone(&status));
            async move {
                seen.lock()
                    .unwrap()
                    .push((request.uri().path().to_owned(), request.body().clone()));
                let status = *status.lock().unwrap();
                let text = if status == 204 { "" } else { "sign in" };
                let mut response = http::Response::new(Full::new(Bytes::from(text)));
                *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                Ok::<_, Error>(response)
            }
        })
    };
    let client = Client::new(transport, endpoint());
    let asset = Asset::from_value(asset_json("a1")).unwrap();
    block_on(client.backup_asset(Some(&asset))).unwrap();
    block_on(client.backup_assets(None)).unwrap();
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0, "/backup/asset");
        assert_eq!(
            serde_json::from_slice::<Value>(&seen[0].1).unwrap(),
            asset_json("a1")
        );
        assert_eq!(seen[1], ("/backup".to_owned(), Bytes::new()));
    }
    for (code, kind) in [
        (511, ErrorKind::Unauthenticated),
        (505, ErrorKind::OsOutdated),
    ] {
        *status.lock().unwrap() = code;
        let err = block_on(client.backup_assets(None)).unwrap_err();
        assert_eq!(err.kind(), kind, "{code}");
    }
}
