//! `GET /backups` serves a listing kept between requests (`src/listing.rs`): these check that it
//! is rebuilt whenever the store's index changes, including while lists and creates race.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use backups_hyper::BackupsClient;
use backups_models::Backups;
use backups_proto::BackupId;
use backups_testkit::{TempServer, start_server};
use http_body_util::BodyExt;

async fn start() -> (TempServer, BackupsClient) {
    let files: [(&str, &[u8]); 2] = [("one.txt", b"first file"), ("nested/two.txt", b"second")];
    let server = start_server(&files, |_| {}).await;
    let client = BackupsClient::builder()
        .base_url(server.base_url().as_str())
        .build()
        .unwrap();
    (server, client)
}

fn ids(listing: &Backups) -> Vec<String> {
    listing.iter().map(|backup| backup.id.clone()).collect()
}

/// The raw body of `GET /backups`, through a plain hyper client.
async fn raw_listing(base: &str) -> bytes::Bytes {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let uri: http::Uri = format!("{base}/backups").parse().unwrap();
    let response = client.get(uri).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn a_create_or_a_delete_changes_the_next_listing() {
    let (server, client) = start().await;
    assert!(client.list().await.unwrap().is_empty());
    // Served twice from the cache: still empty.
    assert!(client.list().await.unwrap().is_empty());

    let first = client.create().await.unwrap();
    assert_eq!(ids(&client.list().await.unwrap()), [first.id.as_str()]);
    let second = client.create().await.unwrap();
    assert_eq!(
        ids(&client.list().await.unwrap()),
        [second.id.as_str(), first.id.as_str()]
    );

    // The cached bytes are what encoding the listing anew gives, and stay so on a hit.
    let raw = raw_listing(&server.base_url()).await;
    let parsed: Backups = serde_json::from_slice(&raw).unwrap();
    assert_eq!(serde_json::to_vec(&parsed).unwrap(), raw.as_ref());
    assert_eq!(raw_listing(&server.base_url()).await, raw);

    client
        .delete(&BackupId::try_from(&first).unwrap())
        .await
        .unwrap();
    let listing = client.list().await.unwrap();
    assert_eq!(ids(&listing), [second.id.as_str()]);
    assert_eq!(listing.indices.as_ref().unwrap()[&second.id], 0);

    client
        .delete(&BackupId::try_from(&second).unwrap())
        .await
        .unwrap();
    assert!(client.list().await.unwrap().is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_restarted_server_lists_what_the_store_holds() {
    let (server, client) = start().await;
    let made = client.create().await.unwrap();
    assert_eq!(ids(&client.list().await.unwrap()), [made.id.as_str()]);
    let dirs = server.shutdown().await.unwrap();

    // A new server (generation 0 again) over the same store: its cache starts empty.
    let server = dirs.start(|_| {}).await.unwrap();
    let client = BackupsClient::builder()
        .base_url(server.base_url().as_str())
        .build()
        .unwrap();
    assert_eq!(ids(&client.list().await.unwrap()), [made.id.as_str()]);
    server.shutdown().await.unwrap();
}

/// Listers hammer `GET /backups` while creates and deletes go on: every list made after a
/// change was answered shows it, however the cache rebuilds raced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_racing_creates_never_serve_a_stale_listing() {
    let (server, client) = start().await;
    let done = Arc::new(AtomicBool::new(false));
    let listers: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let mut lists = 0u64;
                while !done.load(Ordering::Relaxed) {
                    client.list().await.unwrap();
                    lists += 1;
                }
                lists
            })
        })
        .collect();

    let mut made = Vec::new();
    for _ in 0..12 {
        let backup = client.create().await.unwrap();
        made.push(backup.id.clone());
        let listed = ids(&client.list().await.unwrap());
        let mut expected = made.clone();
        expected.reverse();
        assert_eq!(listed, expected, "a list after the create's answer");
    }
    for _ in 0..4 {
        let gone = made.remove(0);
        client
            .delete(&BackupId::new(gone.clone()).unwrap())
            .await
            .unwrap();
        let listed = ids(&client.list().await.unwrap());
        assert!(!listed.contains(&gone), "{gone} still listed: {listed:?}");
        assert_eq!(listed.len(), made.len());
    }

    done.store(true, Ordering::Relaxed);
    let mut lists = 0;
    for lister in listers {
        lists += lister.await.unwrap();
    }
    assert!(lists > 0);
    server.shutdown().await.unwrap();
}
