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
//! - `list-round-trip-reqwest`, `list-concurrent-reqwest`: the same two against a plain
//!   `reqwest::Client` (keep-alive, the same request headers, `serde_json::from_slice` of
//!   `.bytes()` into the same `Backups`): the client most Rust users would otherwise write this
//!   with, where the floor is the least any client can do.
//! - `progress-socket-events` (the `websocket` feature): snapshots per second through
//!   `watch_progress` against a floor of tokio-tungstenite's own client and `serde_json` into the
//!   same `BackupsStreamedProgress`, both reading the same local WebSocket server (its own thread
//!   and runtime) that sends a fixed number of snapshots per connection, then closes (1000).
//! - `progress-socket-mem`: peak resident memory of a process reading 1,000,000 snapshots
//!   through `watch_progress` (`--quick`: 200,000) against one reading 10,000: flat is the goal.
//!
//! Prints one JSON object per comparison on stdout. `--serve` and `--work` run the server and
//! one side's calls in separate processes, for `cargo xtask bench`'s instruction counts.

use std::io::Read as _;
use std::sync::Arc;
use std::time::Instant;

use backups_hyper::BackupsClient;
use backups_models::Backups;
use bytes::Bytes;
use http::header::{ACCEPT, USER_AGENT};
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

#[path = "../../../xtask/bench-support/emit.rs"]
mod emit;
use emit::{Options, emit};
#[path = "../../../xtask/bench-support/memory.rs"]
mod memory;
use memory::vm_hwm_kib;
#[path = "../../../xtask/bench-support/canned.rs"]
mod canned;
use canned::{listing, start_server};

const TASKS: usize = 64;

fn main() {
    let options = Options::from_env();
    let (args, quick) = (&options.args, options.quick);
    let wanted = |name: &str| options.wants(name);
    // A child run that measures the memory of one long socket: `--mem socket <snapshots>`.
    #[cfg(feature = "websocket")]
    if let Some(at) = args.iter().position(|a| a == "--mem") {
        let count: u64 = args
            .get(at + 2)
            .and_then(|n| n.parse().ok())
            .expect("count");
        socket::memory_child(count);
        return;
    }
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
    let floor = Peer::Floor(Floor::new(&base));
    let reqwest = Peer::Reqwest(Reqwest::new(&base));

    // Both round trips before any concurrent row: once 64-task rounds have run, the round trip
    // of every client here (reqwest's, with a fresh pool, too) took 80 to 100 µs instead of 17
    // to 23, and each round-trip row is meant to see the same one-connection state.
    if wanted("list-round-trip") {
        runtime.block_on(round_trip(&ours, &floor, quick, ROUND_TRIP));
    }
    if wanted("list-round-trip-reqwest") {
        runtime.block_on(round_trip(&ours, &reqwest, quick, ROUND_TRIP_REQWEST));
    }
    if wanted("list-concurrent") {
        runtime.block_on(concurrent(&ours, &floor, quick, CONCURRENT));
    }
    if wanted("list-concurrent-reqwest") {
        runtime.block_on(concurrent(&ours, &reqwest, quick, CONCURRENT_REQWEST));
    }
    #[cfg(feature = "websocket")]
    {
        if wanted("progress-socket-events") {
            runtime.block_on(socket::events(quick));
        }
        if wanted("progress-socket-mem") {
            socket::memory(quick);
        }
    }
}

/// One row: its name, its target and its note.
struct RowSpec {
    name: &'static str,
    target: f64,
    note: &'static str,
}

const ROUND_TRIP: RowSpec = RowSpec {
    name: "list-round-trip",
    target: 1.05,
    note: "median latency, 10-backup listing",
};
const ROUND_TRIP_REQWEST: RowSpec = RowSpec {
    name: "list-round-trip-reqwest",
    target: 0.95,
    note: "median latency, 10-backup listing; baseline reqwest + serde_json",
};
const CONCURRENT: RowSpec = RowSpec {
    name: "list-concurrent",
    target: 0.95,
    note: "64 tasks",
};
const CONCURRENT_REQWEST: RowSpec = RowSpec {
    name: "list-concurrent-reqwest",
    target: 1.05,
    note: "64 tasks; baseline reqwest + serde_json",
};

/// The client a row compares ours with.
#[derive(Clone)]
enum Peer {
    Floor(Floor),
    Reqwest(Reqwest),
}

impl Peer {
    async fn list(&self) -> Backups {
        match self {
            Peer::Floor(floor) => floor.list().await,
            Peer::Reqwest(reqwest) => reqwest.list().await,
        }
    }
}

/// reqwest as its users write a JSON GET: a shared `Client` (keep-alive pool), the SDK's request
/// headers, `.bytes()` and `serde_json::from_slice` into the same model.
#[derive(Clone)]
struct Reqwest {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl Reqwest {
    fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            // As the SDK and the floor: a proxy from the environment would measure the proxy.
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .expect("reqwest client");
        let url = format!("{base}/backups").parse().expect("url");
        Self { client, url }
    }

    async fn list(&self) -> Backups {
        let response = self
            .client
            .get(self.url.clone())
            .header(USER_AGENT, backups_proto::DEFAULT_USER_AGENT)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .expect("send");
        assert!(response.status().is_success());
        let body = response.bytes().await.expect("body");
        serde_json::from_slice(&body).expect("parse")
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

async fn round_trip(ours: &BackupsClient, floor: &Peer, quick: bool, row: RowSpec) {
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
        row.name,
        "µs",
        &ours_us,
        &floor_us,
        "lower",
        Some(row.target),
        row.note,
    );
}

async fn concurrent(ours: &BackupsClient, floor: &Peer, quick: bool, row: RowSpec) {
    // Many short rounds (512 calls each), alternating, for the same reason as the round trip.
    let (rounds, per_task) = if quick { (30, 8) } else { (150, 8) };
    // Clones share one connection pool, as a clone of the client does in an application.
    let ours = Arc::new(ours.clone());
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
        row.name,
        "req/s",
        &ours_rps,
        &floor_rps,
        "higher",
        Some(row.target),
        row.note,
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

/// The WebSocket comparisons: a server sending snapshots, ours (`watch_progress`) and the floor
/// (tokio-tungstenite's client and `serde_json`).
#[cfg(feature = "websocket")]
mod socket {
    use std::hint::black_box;
    use std::net::SocketAddr;
    use std::process::Command;
    use std::time::Instant;

    use backups_hyper::BackupsClient;
    use backups_models::{
        BackupStreamedProgress, BackupsStreamedProgress, EmbeddedModelSchema, Number,
        ProgressStatus, SemanticVersion,
    };
    use futures_util::{SinkExt, StreamExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    use crate::emit::emit;

    /// One snapshot with one create under way, as JSON (about 400 bytes).
    fn snapshot() -> String {
        let schema = EmbeddedModelSchema::new(0, SemanticVersion::Major0Minor0Patch1);
        let backup = super::canned::listing_backups(1).remove(0);
        let mut event =
            BackupStreamedProgress::new(ProgressStatus::InProgress, Number::from(42u64))
                .with_backup(backup);
        event.schema = Some(schema.clone());
        let mut snapshot = BackupsStreamedProgress::default();
        snapshot.schema = Some(schema);
        snapshot.backups = Some(vec![event]);
        snapshot.restorations = Some(Vec::new());
        serde_json::to_string(&snapshot).expect("json")
    }

    pub(super) async fn events(quick: bool) {
        let (rounds, count) = if quick { (10, 20_000) } else { (40, 50_000) };
        let addr = start_server(count);
        let base = format!("http://{addr}");
        let ours = BackupsClient::builder()
            .base_url(base.as_str())
            .build()
            .expect("client");
        // Warm-up: both paths once.
        assert_eq!(watch(&ours).await, count);
        assert_eq!(floor(addr).await, count);
        let mut ours_eps = Vec::new();
        let mut floor_eps = Vec::new();
        for round in 0..rounds {
            for side in [round % 2 == 0, round % 2 != 0] {
                let start = Instant::now();
                let n = if side {
                    watch(&ours).await
                } else {
                    floor(addr).await
                };
                assert_eq!(n, count);
                let eps = n as f64 / start.elapsed().as_secs_f64();
                if side {
                    ours_eps.push(eps)
                } else {
                    floor_eps.push(eps)
                }
            }
        }
        emit(
            "progress-socket-events",
            "events/s",
            &ours_eps,
            &floor_eps,
            "higher",
            Some(0.8),
            &format!(
                "{count} snapshots of {} bytes per socket, watch_progress vs tokio-tungstenite + serde_json",
                snapshot().len()
            ),
        );
    }

    /// Reads a whole progress socket through the SDK; answers how many snapshots came.
    async fn watch(client: &BackupsClient) -> u64 {
        let mut snapshots = client.watch_progress().await.expect("upgraded");
        let mut n = 0;
        while let Some(snapshot) = snapshots.next_snapshot().await {
            black_box(snapshot.expect("snapshot"));
            n += 1;
        }
        n
    }

    /// The floor: tokio-tungstenite's client on a plain TCP stream, each text message through
    /// `serde_json` into the same model.
    ///
    /// It decodes with `from_str`, as a direct user of the crate would: the text is already
    /// checked UTF-8. The SDK decodes bytes (`from_slice`), which checks each string again;
    /// against a `from_slice` floor, ours measured 0.97.
    async fn floor(addr: SocketAddr) -> u64 {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let url = format!("ws://{addr}/backups/streamed/progress");
        let (mut socket, _) = tokio_tungstenite::client_async(url, tcp)
            .await
            .expect("handshake");
        let mut n = 0;
        while let Some(message) = socket.next().await {
            match message.expect("message") {
                Message::Text(text) => {
                    let snapshot: BackupsStreamedProgress =
                        serde_json::from_str(text.as_str()).expect("snapshot");
                    black_box(snapshot);
                    n += 1;
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        n
    }

    pub(super) fn memory(quick: bool) {
        let small = 10_000u64;
        let large = if quick { 200_000 } else { 1_000_000 };
        let small_mem = memory_in_child(small);
        let large_mem = memory_in_child(large);
        emit(
            "progress-socket-mem",
            "MiB",
            &[large_mem],
            &[small_mem],
            "lower",
            Some(1.1),
            &format!(
                "peak RSS over one progress socket of {large} snapshots (ours) vs {small} (baseline)"
            ),
        );
    }

    /// Runs one long socket in a fresh copy of this binary; its peak RSS in MiB.
    fn memory_in_child(count: u64) -> f64 {
        let exe = std::env::current_exe().expect("current exe");
        let out = Command::new(exe)
            .args(["--mem", "socket", &count.to_string()])
            .output()
            .expect("run child");
        assert!(out.status.success(), "memory child failed");
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim().parse::<f64>().expect("child prints MiB")
    }

    /// Reads `count` snapshots through `watch_progress` and prints the process's peak RSS.
    pub(super) fn memory_child(count: u64) {
        let addr = start_server(count);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = BackupsClient::builder()
            .base_url(format!("http://{addr}"))
            .build()
            .expect("client");
        assert_eq!(runtime.block_on(watch(&client)), count);
        println!("{:.1}", crate::vm_hwm_kib() as f64 / 1024.0);
    }

    /// A WebSocket server on its own thread and runtime that sends `count` snapshots on each
    /// connection, then closes it (1000); returns its address.
    fn start_server(count: u64) -> SocketAddr {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                tx.send(listener.local_addr().expect("addr")).expect("send");
                let snapshot = Message::text(snapshot());
                loop {
                    let (stream, _) = listener.accept().await.expect("accept");
                    let _ = stream.set_nodelay(true);
                    let snapshot = snapshot.clone();
                    tokio::spawn(async move {
                        let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                            return;
                        };
                        for _ in 0..count {
                            // Buffered: tungstenite writes out whenever its buffer fills.
                            if socket.feed(snapshot.clone()).await.is_err() {
                                return;
                            }
                        }
                        let frame = CloseFrame {
                            code: CloseCode::Normal,
                            reason: "".into(),
                        };
                        let _ = socket.close(Some(frame)).await;
                        // Read to the client's answering close.
                        while let Some(Ok(_)) = socket.next().await {}
                    });
                }
            });
        });
        rx.recv().expect("server address")
    }
}
