//! Bad requests get the right status and a text/plain reason, and hostile backup ids cannot
//! reach any file outside the store.

mod common;

use common::{TestServer, request, send_raw, tree_contents};

#[tokio::test]
async fn malformed_json_is_400() {
    let t = TestServer::start().await;
    for (path, body) in [
        ("/backups/create", &b"{not json"[..]),
        ("/backups/create/streamed", b"[1,2"),
        ("/backups/create", b"\"a string\""),
        ("/backups/x/delete", b"{\"id\": 5}"),
        ("/backups/x/delete", b"\xff\xfe"),
    ] {
        let reply = t
            .post(path, &[("Content-Type", "application/json")], body)
            .await;
        reply.assert_text_error(400);
        assert!(reply.text().contains("JSON"), "{}", reply.text());
    }
    assert!(
        t.ids().await.is_empty(),
        "no backup was made by a bad request"
    );
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let t = TestServer::start_with(|c| c.max_body_bytes = 1024).await;
    let big = vec![b' '; 4096];
    t.post("/backups/create", &[], &big)
        .await
        .assert_text_error(413);

    // Without a Content-Length the limit is enforced while reading.
    let mut raw = b"POST /backups/create HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                    Transfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    for _ in 0..4 {
        raw.extend_from_slice(b"400\r\n");
        raw.extend_from_slice(&[b' '; 0x400]);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    send_raw(t.addr, &raw, false).await.assert_text_error(413);

    // At the limit it is fine.
    let ok = t.post("/backups/create", &[], &vec![b' '; 1024]).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let t = TestServer::start().await;
    for (method, path, allow) in [
        ("POST", "/backups", "GET, HEAD"),
        ("DELETE", "/backups", "GET, HEAD"),
        ("GET", "/backups/create", "POST"),
        ("PUT", "/backups/create/streamed", "POST"),
        ("GET", "/backups/abc/delete", "POST"),
        ("POST", "/.well-known/health", "GET, HEAD"),
    ] {
        let reply = request(t.addr, method, path, &[], b"").await;
        reply.assert_text_error(405);
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
    }
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let t = TestServer::start().await;
    for path in [
        "/",
        // (`/backup` itself is `POST /backup`, backing up assets.)
        "/backup/asset/more",
        "/backups/",
        "/backups/create/",
        "/backups/create/streamed/more",
        "/backups/a/b/delete",
        "/backups/abc",
        "/.well-known/healthz",
    ] {
        request(t.addr, "GET", path, &[], b"")
            .await
            .assert_text_error(404);
    }
}

#[tokio::test]
async fn too_many_headers_are_refused_without_harm() {
    let t = TestServer::start().await;
    let mut raw = String::from("GET /backups HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..200 {
        raw.push_str(&format!("X-Filler-{i}: {i}\r\n"));
    }
    raw.push_str("\r\n");
    let reply = send_raw(t.addr, raw.as_bytes(), false).await;
    assert_eq!(reply.status, 431);
    // The server still answers.
    assert_eq!(t.get("/backups").await.status, 200);
}

#[tokio::test]
async fn hostile_ids_touch_nothing() {
    let t = TestServer::start().await;
    let backup = t.create().await;
    let id = backup["id"].as_str().expect("id").to_owned();

    // Sentinels next to the store and data, named as an escaping id would reach them.
    let outside = tempfile::tempdir().expect("outside");
    let sentinel = outside.path().join("sentinel.json");
    std::fs::write(&sentinel, "keep me").expect("sentinel");
    std::fs::write(t.dirs.store().join("backups/..json"), "decoy").expect("decoy");
    let store_before = tree_contents(t.dirs.store());
    let outside_before = tree_contents(outside.path());
    let data_before = tree_contents(t.dirs.data());

    let outside_rel =
        format!("..%2F..%2F..%2F..%2F..%2F..%2F{}", outside.path().display()).replace('/', "%2F");
    let hostile = [
        "/backups//delete".to_owned(),
        "/backups/../delete".to_owned(),
        "/backups/./delete".to_owned(),
        "/backups/%2e%2e/delete".to_owned(),
        "/backups/%2E%2E/delete".to_owned(),
        "/backups/.%2e/delete".to_owned(),
        "/backups/%2F/delete".to_owned(),
        "/backups/..%2Fbackups%2F".to_owned() + &id + "/delete",
        "/backups/%2e%2e%2f%2e%2e%2fsentinel/delete".to_owned(),
        "/backups/".to_owned() + &outside_rel + "%2Fsentinel/delete",
        "/backups/%00/delete".to_owned(),
        "/backups/".to_owned() + &id + "%00/delete",
        "/backups/a%5C..%5Cb/delete".to_owned(),
        "/backups/%252e%252e/delete".to_owned(),
        "/backups/%ff%fe/delete".to_owned(),
        "/backups/".to_owned() + &id + ".json/delete",
        "/backups/".to_owned() + &"a".repeat(300) + "/delete",
    ];
    for path in &hostile {
        let reply = t.post(path, &[], b"").await;
        // No such backup (or no such path); never success, never a server error.
        assert_eq!(reply.status, 404, "{path}: {}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("text/plain; charset=utf-8"),
            "{path}"
        );
    }
    assert_eq!(tree_contents(outside.path()), outside_before);
    assert_eq!(tree_contents(t.dirs.store()), store_before);
    assert_eq!(tree_contents(t.dirs.data()), data_before);
    assert_eq!(t.ids().await, [id]);
}

#[tokio::test]
async fn garbage_requests_never_kill_the_server() {
    let t = TestServer::start().await;
    for raw in [
        &b"\x00\x01\x02\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"GET /backups HTTP/9.9\r\n\r\n",
        b"POST /backups/create HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"POST /backups/create HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
    ] {
        let mut stream = tokio::net::TcpStream::connect(t.addr)
            .await
            .expect("connect");
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let _ = stream.write_all(raw).await;
        let _ = stream.shutdown().await;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut sink),
        )
        .await;
    }
    assert_eq!(t.get("/.well-known/health").await.status, 200);
    assert!(t.ids().await.is_empty());
}
