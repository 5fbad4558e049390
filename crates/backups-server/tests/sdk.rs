//! Every endpoint driven through the SDK's own hyper client, over TCP: the path users take.

use std::time::Duration;

use backups_hyper::BackupsClient;
use backups_models::ProgressStatus;
use backups_proto::{BackupId, Error};
use backups_server::{Fault, ServerConfig, verify_store};
use backups_testkit::{TempServer, start_server};

async fn start(configure: impl FnOnce(&mut ServerConfig)) -> (TempServer, BackupsClient) {
    let big = vec![42u8; 3 * 1024 * 1024];
    let files: [(&str, &[u8]); 2] = [("one.txt", b"first file"), ("nested/two.bin", &big)];
    let server = start_server(&files, configure).await;
    let client = BackupsClient::builder()
        .base_url(server.base_url().as_str())
        .build()
        .unwrap();
    (server, client)
}

#[tokio::test]
async fn create_list_stream_delete_through_the_sdk() {
    let (server, client) = start(|_| {}).await;
    assert!(client.list().await.unwrap().is_empty());

    let first = client.create().await.unwrap();
    assert!(first.bytes.as_u64().unwrap() >= 3 * 1024 * 1024);
    assert_eq!(first.platform, backups_models::Platform::current());
    assert_eq!(first.version, env!("CARGO_PKG_VERSION"));

    let mut stream = client.create_streamed().await.unwrap();
    let mut statuses = Vec::new();
    let mut percentages = Vec::new();
    let mut second = None;
    while let Some(event) = stream.next_event().await {
        let event = event.unwrap();
        statuses.push(event.status.clone().unwrap());
        percentages.push(event.percentage.unwrap().as_f64());
        second = event.backup.or(second);
    }
    assert_eq!(statuses.first(), Some(&ProgressStatus::Initialized));
    assert_eq!(statuses.last(), Some(&ProgressStatus::Completed));
    assert!(
        statuses.contains(&ProgressStatus::InProgress),
        "{statuses:?}"
    );
    assert!(
        percentages.windows(2).all(|w| w[0] <= w[1]),
        "{percentages:?}"
    );
    assert_eq!(percentages.last(), Some(&100.0));
    let second = second.unwrap();

    let listing = client.list().await.unwrap();
    let ids: Vec<&str> = listing.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, [second.id.as_str(), first.id.as_str()], "newest first");
    assert_eq!(listing.indices.as_ref().unwrap()[&second.id], 0);

    client
        .delete(&BackupId::try_from(&first).unwrap())
        .await
        .unwrap();
    let listing = client.list().await.unwrap();
    assert_eq!(listing.len(), 1);
    assert!(listing.get(&first.id).is_none());

    let err = client
        .delete(&BackupId::new(first.id.clone()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err}");

    let err = client
        .delete(&BackupId::new("../..").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err}");

    let dirs = server.shutdown().await.unwrap();
    assert!(verify_store(dirs.store()).unwrap().is_ok());
}

#[tokio::test]
async fn simulated_faults_reach_the_sdk_as_typed_errors() {
    for fault in Fault::ALL {
        let (server, client) = start(|config| config.simulate = Some(fault)).await;
        let errors = [
            client.list().await.unwrap_err(),
            client.create().await.unwrap_err(),
            client.create_streamed().await.unwrap_err(),
            client
                .delete(&BackupId::new("x").unwrap())
                .await
                .unwrap_err(),
        ];
        for err in errors {
            let expected = match fault {
                Fault::Unauthenticated => matches!(err, Error::Unauthenticated { .. }),
                Fault::Outdated => matches!(err, Error::OsOutdated { .. }),
                _ => matches!(err, Error::Internal { .. }),
            };
            assert!(expected, "{fault:?}: {err:?}");
        }
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_slow_stream_hits_the_idle_timeout_not_a_total_deadline() {
    let (server, _) = start(|config| config.progress_delay = Duration::from_millis(200)).await;
    // The stream lasts several delays, far longer than the request timeout, and completes: the
    // request timeout bounds the wait for headers, never the whole stream. (The idle timeout is
    // generous because the final fsync may take a while on a busy machine.)
    let patient = BackupsClient::builder()
        .base_url(server.base_url().as_str())
        .idle_timeout(Duration::from_secs(10))
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let backup = patient
        .create_streamed()
        .await
        .unwrap()
        .finish(|_| {})
        .await
        .unwrap();
    assert!(!backup.id.is_empty());
    assert!(
        started.elapsed() > Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );

    // Idle timeout below the delay: a typed timeout.
    let impatient = BackupsClient::builder()
        .base_url(server.base_url().as_str())
        .idle_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let err = impatient
        .create_streamed()
        .await
        .unwrap()
        .finish(|_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: backups_proto::TimeoutKind::Idle,
                ..
            }
        ),
        "{err:?}"
    );
    server.shutdown().await.unwrap();
}
