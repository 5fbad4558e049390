//! The canned server of the list round-trip benches (included with `#[path]`): a hyper server on
//! a thread and runtime of its own answering every request with the same listing, so that
//! each transport is measured against the same peer.

use std::convert::Infallible;
use std::net::SocketAddr;

use backups_models::{
    Backup, BackupParts, Backups, EmbeddedModelSchema, GroupedTimestamp, Number, Platform,
    SemanticVersion,
};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Starts the canned server on its own thread and runtime; returns its address.
pub(crate) fn start_server(body: Bytes) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            loop {
                let (stream, _) = listener.accept().await.expect("accept");
                let _ = stream.set_nodelay(true);
                let body = body.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |_request: Request<Incoming>| {
                        let body = body.clone();
                        async move {
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .header(CONTENT_TYPE, "application/json")
                                    .body(Full::new(body))
                                    .expect("response"),
                            )
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("server address")
}

/// A listing of `count` backups, as JSON.
pub(crate) fn listing(count: usize) -> Bytes {
    Bytes::from(serde_json::to_vec(&Backups::new(listing_backups(count))).expect("json"))
}

/// `count` backups as a listing holds them.
pub(crate) fn listing_backups(count: usize) -> Vec<Backup> {
    let schema = EmbeddedModelSchema::new(0, SemanticVersion::Major0Minor0Patch1);
    (0..count)
        .map(|i| {
            let millis = 1_700_000_000_000i64 + i as i64 * 60_000;
            let created =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
                    .expect("time");
            Backup::from(BackupParts {
                id: format!("{millis}-{i:06}"),
                bytes: Number::from(1_000_000 + i as u64),
                created: GroupedTimestamp::new(created).with_readable("2023-11-14 22:13:20 UTC"),
                device_name: "workstation-7".into(),
                platform: Platform::Linux,
                timestamp: millis.to_string(),
                version: "11.2.4".into(),
            })
            .with_schema(schema.clone())
        })
        .collect()
}
