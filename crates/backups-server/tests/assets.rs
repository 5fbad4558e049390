//! `POST /backup` and `POST /backup/asset`: 204 for no body or a well-formed `Assets`/`Asset`,
//! 400 with the reason for anything else, the simulated faults, and nothing made or kept.

mod common;

use backups_server::{Fault, ServerConfig};
use common::TestServer;
use serde_json::{Value, json};

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn asset(id: &str) -> Value {
    json!({
        "id": id, "creator": "u1", "mechanism": "MANUAL",
        "created": {"value": "2026-11-26T21:00:00+00:00"},
        "updated": {"value": "2026-11-26T21:00:00Z"},
        "formats": {"iterable": []}, "original": {"id": "f1"},
        "preview": {"base": {"id": "f1"}}, "a_later_field": 1
    })
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

#[tokio::test]
async fn well_formed_bodies_and_none_are_204_and_make_no_backup() {
    let t = TestServer::start().await;
    let assets = json!({"iterable": [asset("a1"), asset("a2")], "indices": {"a1": 0}});
    for (path, body) in [
        ("/backup", Vec::new()),
        ("/backup", b"  \n".to_vec()),
        ("/backup", bytes(&assets)),
        ("/backup", bytes(&json!({"iterable": []}))),
        ("/backup/asset", Vec::new()),
        ("/backup/asset", bytes(&asset("a1"))),
    ] {
        let reply = t.post(path, &[JSON, ("Accept", "text/plain")], &body).await;
        assert_eq!(reply.status, 204, "{path}: {}", reply.text());
        assert!(reply.body.is_empty(), "{path}");
    }
    // Without a content type too, as create's seed is read.
    assert_eq!(
        t.post("/backup/asset", &[], &bytes(&asset("a1")))
            .await
            .status,
        204
    );
    assert!(t.ids().await.is_empty(), "the assets made no backup");
}

#[tokio::test]
async fn bodies_that_are_not_the_model_are_400_with_the_reason() {
    let t = TestServer::start().await;
    let mut no_id = asset("a1");
    no_id.as_object_mut().unwrap().remove("id");
    let cases: [(&str, Vec<u8>, &str); 8] = [
        ("/backup", b"{not json".to_vec(), "malformed JSON"),
        ("/backup", b"[]".to_vec(), "a JSON object (Assets)"),
        (
            "/backup",
            bytes(&json!({})),
            "iterable: expected this required field",
        ),
        ("/backup", bytes(&json!({"iterable": [1]})), "iterable[0]"),
        ("/backup", bytes(&asset("a1")), "iterable"),
        (
            "/backup/asset",
            bytes(&no_id),
            "id: expected this required field",
        ),
        ("/backup/asset", bytes(&json!({"iterable": []})), "expected"),
        ("/backup/asset", b"\xff\xfe".to_vec(), "malformed JSON"),
    ];
    for (path, body, reason) in cases {
        let reply = t.post(path, &[JSON], &body).await;
        reply.assert_text_error(400);
        assert!(reply.text().contains(reason), "{path}: {}", reply.text());
    }
}

#[tokio::test]
async fn other_methods_are_405_and_other_paths_404() {
    let t = TestServer::start().await;
    for path in ["/backup", "/backup/asset"] {
        let reply = t.get(path).await;
        reply.assert_text_error(405);
        assert_eq!(reply.header("allow"), Some("POST"));
    }
    t.post("/backup/asset/x", &[], b"")
        .await
        .assert_text_error(404);
}

#[tokio::test]
async fn simulated_faults_answer_them() {
    for (fault, status) in [
        (Fault::Unauthenticated, 511),
        (Fault::Outdated, 505),
        (Fault::InternalError, 500),
    ] {
        let t = TestServer::start_with(|c: &mut ServerConfig| c.simulate = Some(fault)).await;
        t.post("/backup", &[JSON], b"")
            .await
            .assert_text_error(status);
        t.post("/backup/asset", &[JSON], &bytes(&asset("a1")))
            .await
            .assert_text_error(status);
    }
}
