//! Side-by-side comparisons of `BackupsClient` with a bare hyper-util client, for
//! `cargo xtask bench`.
//!
//! Both talk to the same local hyper server (its own thread and runtime) answering a canned
//! listing of 10 backups. The floor sends the same request (same headers) through a
//! `hyper_util` legacy client with the same connector settings, collects the body and parses it
//! with `serde_json` into the same `Backups` model.
//!
//! - `list-round-trip`: median latency of one `list` (µs), batches of ours and the floor
//!   alternating.
//! - `list-concurrent`: 64 tasks each issuing a fixed number of `list` calls (requests/s),
//!   rounds alternating.
//!
//! Prints one JSON object per comparison on stdout. `--serve` and `--work` run the server and
//! one side's calls in separate processes, for `cargo xtask bench`'s instruction counts.

use std::convert::Infallible;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use backups_hyper::BackupsClient;
use backups_models::{
    Backup, BackupParts, Backups, EmbeddedModelSchema, GroupedTimestamp, Number, Platform,
    SemanticVersion,
};
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

#[path = "../../../xtask/bench-support/emit.rs"]
mod emit;
use emit::emit;

const TASKS: usize = 64;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let filter = args
        .iter()
        .position(|a| a == "--only")
        .map(|at| args[at + 1].clone());
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    // Only the client work of one side, untimed, for an instruction counter:
    // `--work list <ours|floor> <calls>`, against the server at `BENCH_SERVER`.
    if let Some(at) = args.iter().position(|a| a == "--work") {
        assert_eq!(
            args.get(at + 1).map(String::as_str),
            Some("list"),
            "no such work case"
        );
        let sdk = args.get(at + 2).map(String::as_str) == Some("ours");
        let calls: usize = args
            .get(at + 3)
            .and_then(|n| n.parse().ok())
            .expect("calls");
        work(sdk, calls);
        return;
    }
    // The canned server alone, for `--work` runs in other processes: prints its base URL and
    // serves until its standard input closes.
    if args.iter().any(|a| a == "--serve") {
        println!("http://{}", start_server(listing(10)));
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        return;
    }

    let addr = start_server(listing(10));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let base = format!("http://{addr}");
    let ours = BackupsClient::builder()
        .base_url(base.as_str())
        .build()
        .expect("client");
    let floor = Floor::new(&base);

    if wanted("list-round-trip") {
        runtime.block_on(round_trip(&ours, &floor, quick));
    }
    if wanted("list-concurrent") {
        runtime.block_on(concurrent(ours, floor, quick));
    }
}

/// The floor: a bare hyper-util client and serde_json.
#[derive(Clone)]
struct Floor {
    client: HyperClient<HttpConnector, Full<Bytes>>,
    uri: Uri,
}

impl Floor {
    fn new(base: &str) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = HyperClient::builder(TokioExecutor::new()).build(connector);
        let uri = format!("{base}/backups").parse().expect("uri");
        Self { client, uri }
    }

    async fn list(&self) -> Backups {
        let request = Request::get(self.uri.clone())
            .header(USER_AGENT, backups_proto::DEFAULT_USER_AGENT)
            .header(ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = self.client.request(request).await.expect("send");
        assert!(response.status().is_success());
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        serde_json::from_slice(&body).expect("parse")
    }
}

async fn round_trip(ours: &BackupsClient, floor: &Floor, quick: bool) {
    // Short batches, the side going first alternating: this VM's speed drifts over seconds, and
    // fine interleaving lets both sides see the same drift.
    let (rounds, batch) = if quick { (60, 10) } else { (600, 10) };
    // Warm-up: connections open, caches hot.
    for _ in 0..200 {
        ours.list().await.expect("list");
        floor.list().await;
    }
    let mut ours_us = Vec::new();
    let mut floor_us = Vec::new();
    for round in 0..rounds {
        for side in [round % 2 == 0, round % 2 != 0] {
            for _ in 0..batch {
                let start = Instant::now();
                let n = if side {
                    ours.list().await.expect("list").len()
                } else {
                    floor.list().await.len()
                };
                let us = start.elapsed().as_secs_f64() * 1e6;
                assert_eq!(n, 10);
                if side {
                    ours_us.push(us)
                } else {
                    floor_us.push(us)
                }
            }
        }
    }
    emit(
        "list-round-trip",
        "µs",
        &ours_us,
        &floor_us,
        "lower",
        Some(1.05),
        "median latency, 10-backup listing",
    );
}

async fn concurrent(ours: BackupsClient, floor: Floor, quick: bool) {
    // Many short rounds (512 calls each), alternating, for the same reason as the round trip.
    let (rounds, per_task) = if quick { (30, 8) } else { (150, 8) };
    let ours = Arc::new(ours);
    let run = |sdk: bool| {
        let ours = Arc::clone(&ours);
        let floor = floor.clone();
        async move {
            let start = Instant::now();
            let mut tasks = Vec::with_capacity(TASKS);
            for _ in 0..TASKS {
                let ours = Arc::clone(&ours);
                let floor = floor.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in 0..per_task {
                        let n = if sdk {
                            ours.list().await.expect("list").len()
                        } else {
                            floor.list().await.len()
                        };
                        assert_eq!(n, 10);
                    }
                }));
            }
            for task in tasks {
                task.await.expect("task");
            }
            (TASKS * per_task) as f64 / start.elapsed().as_secs_f64()
        }
    };
    run(true).await;
    run(false).await;
    let mut ours_rps = Vec::new();
    let mut floor_rps = Vec::new();
    for round in 0..rounds {
        for side in [round % 2 == 0, round % 2 != 0] {
            let rps = run(side).await;
            if side {
                ours_rps.push(rps)
            } else {
                floor_rps.push(rps)
            }
        }
    }
    emit(
        "list-concurrent",
        "req/s",
        &ours_rps,
        &floor_rps,
        "higher",
        Some(0.95),
        "64 tasks",
    );
}

/// `calls` sequential `list` calls from one side against the server at `BENCH_SERVER`, in
/// another process, so that an instruction counter sees the client alone.
fn work(sdk: bool, calls: usize) {
    let base = std::env::var("BENCH_SERVER").expect("BENCH_SERVER");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ours = BackupsClient::builder()
        .base_url(base.as_str())
        .build()
        .expect("client");
    let floor = Floor::new(&base);
    runtime.block_on(async move {
        for _ in 0..calls {
            let n = if sdk {
                ours.list().await.expect("list").len()
            } else {
                floor.list().await.len()
            };
            assert_eq!(n, 10);
        }
    });
}

/// Starts the canned server on its own thread and runtime; returns its address.
fn start_server(body: Bytes) -> SocketAddr {
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

fn listing(count: usize) -> Bytes {
    let schema = EmbeddedModelSchema::new(0, SemanticVersion::Major0Minor0Patch1);
    let backups = (0..count)
        .map(|i| {
            let millis = 1_700_000_000_000i64 + i as i64 * 60_000;
            let created =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
                    .expect("time");
            Backup::new(BackupParts {
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
        .collect();
    Bytes::from(serde_json::to_vec(&Backups::new(backups)).expect("json"))
}
