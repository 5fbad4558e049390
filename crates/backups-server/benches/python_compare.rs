//! `BackupsClient` versus the official Python SDK (pieces-os-client 5.0.1), both calling the
//! reference server, for `cargo xtask bench`.
//!
//! The server runs in this process, on a runtime of its own with one worker, over a small data
//! directory; its store is filled through the API with 10 backups (and, for the `-200` rows, a
//! second server's with 200). The Python side is `python_peer.py` beside this file, run once
//! per server by the interpreter of the SDK's virtual environment (`$BACKUPS_PY_VENV`, else
//! `$CARGO_TARGET_DIR/python-sdk-venv`, which `crates/backups-server/tests/python/run.sh`
//! creates): it reads one "OP COUNT CONCURRENCY" line per round and answers with the rate it
//! measured, so its start and imports are outside the timing. Rounds alternate which side goes
//! first, after a warm-up of each.
//!
//! - `list-sequential-python-{10,200}`: `list` calls per second, one after another: ours
//!   `BackupsClient::list()` on a current-thread runtime, theirs `BackupsApi.backups_snapshot()`.
//! - `list-concurrent-python-{10,200}`: ours from 64 tokio tasks sharing one client on tokio's
//!   default multi-threaded runtime, theirs from a `concurrent.futures.ThreadPoolExecutor(8)`
//!   sharing one `ApiClient`.
//! - `create-sequential-python`: creates per second, one after another, of the small data
//!   directory (the server's own work, the same for both, dominates: reported, no target).
//!
//! Without the virtual environment or its interpreter, each row is printed as skipped with the
//! reason. Prints one JSON object per comparison on stdout; on stderr, how busy the processors
//! were during each side's rounds (the Python side cannot use more than one for its own code).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use backups_hyper::BackupsClient;
use backups_server::temp::TempServer;
use tokio::runtime::Runtime;

#[path = "../../../xtask/bench-support/emit.rs"]
mod emit;
#[path = "support/sample.rs"]
mod sample;
use emit::{Options, emit, skip};
use sample::sample_dirs;

/// How many tasks our concurrent side runs, as the other list-concurrent rows do.
const TASKS: usize = 64;
/// The Python side's threads (`ThreadPoolExecutor(8)`).
const THREADS: usize = 8;

/// One comparison: name, unit and target.
struct Row {
    name: &'static str,
    unit: &'static str,
    target: Option<f64>,
}

const ROWS: [Row; 5] = [
    Row {
        name: "list-sequential-python-10",
        unit: "calls/s",
        target: Some(8.0),
    },
    Row {
        name: "list-concurrent-python-10",
        unit: "calls/s",
        target: Some(15.0),
    },
    Row {
        name: "list-sequential-python-200",
        unit: "calls/s",
        target: Some(8.0),
    },
    Row {
        name: "list-concurrent-python-200",
        unit: "calls/s",
        target: Some(15.0),
    },
    Row {
        name: "create-sequential-python",
        unit: "creates/s",
        target: None,
    },
];

fn main() {
    let options = Options::from_env();
    let quick = options.quick;
    let wanted: Vec<&Row> = ROWS.iter().filter(|row| options.wants(row.name)).collect();
    if wanted.is_empty() {
        return;
    }
    // Rows not printed yet: each is printed once, measured or skipped.
    let mut pending: Vec<&Row> = wanted;
    let python = match python() {
        Ok(python) => python,
        Err(why) => {
            skip_all(&pending, &why);
            return;
        }
    };

    // The server on a runtime of its own with one worker, as if it were the separate process
    // that it is for the Python side; ours on tokio's default multi-threaded runtime, as an
    // application's `#[tokio::main]` gives it.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for size in [10usize, 200] {
        let sequential = format!("list-sequential-python-{size}");
        let concurrent = format!("list-concurrent-python-{size}");
        // The create row reuses the 10-backup server once its lists are measured.
        let create = if size == 10 {
            "create-sequential-python"
        } else {
            ""
        };
        let here = |name: &str| pending.iter().any(|row| row.name == name);
        if !here(&sequential) && !here(&concurrent) && !here(create) {
            continue;
        }
        let started = Instant::now();
        let server = server_with(&server_runtime, &runtime, size);
        eprintln!(
            "python-compare: a server with {size} backups in {:.2}s",
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let mut peer = match Peer::start(&python, &server.base_url()) {
            Ok(peer) => peer,
            Err(why) => {
                skip_all(&pending, &why);
                return;
            }
        };
        eprintln!(
            "python-compare: the Python peer started in {:.2}s",
            started.elapsed().as_secs_f64()
        );
        let cases = [
            (
                sequential.as_str(),
                "list",
                Side::Sequential,
                Plan::list_sequential(size, quick),
                format!(
                    "{size}-backup listing from the reference server, one call after another; baseline pieces-os-client 5.0.1"
                ),
            ),
            (
                concurrent.as_str(),
                "list",
                Side::Concurrent,
                Plan::list_concurrent(size, quick),
                format!(
                    "{size}-backup listing; ours {TASKS} tokio tasks, baseline pieces-os-client 5.0.1 on ThreadPoolExecutor({THREADS})"
                ),
            ),
            (
                create,
                "create",
                Side::Sequential,
                Plan::create(quick),
                "creates of a 3-file data directory, one after another; baseline pieces-os-client 5.0.1"
                    .to_owned(),
            ),
        ];
        for (name, op, side, plan, note) in cases {
            let Some(at) = pending.iter().position(|row| row.name == name) else {
                continue;
            };
            let row = pending.remove(at);
            let base = server.base_url();
            let (ours_rates, peer_rates) = compare(&runtime, &base, &mut peer, op, plan, side);
            emit(
                row.name,
                row.unit,
                &ours_rates,
                &peer_rates,
                "higher",
                row.target,
                &note,
            );
        }
        peer.stop();
        server_runtime
            .block_on(server.shutdown())
            .expect("server shutdown");
    }
}

fn skip_all(rows: &[&Row], why: &str) {
    for row in rows {
        skip(row.name, row.unit, "higher", row.target, why);
    }
}

/// The virtual environment's interpreter, or why there is none to run.
fn python() -> Result<PathBuf, String> {
    let venv = match std::env::var_os("BACKUPS_PY_VENV") {
        Some(venv) => PathBuf::from(venv),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            // `cargo bench` runs this binary in the package directory.
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")))
            .join("python-sdk-venv"),
    };
    let python = venv.join("bin").join("python");
    if python.is_file() {
        Ok(python)
    } else {
        Err(format!(
            "no Python SDK venv at {} (crates/backups-server/tests/python/run.sh creates it; BACKUPS_PY_VENV overrides)",
            venv.display()
        ))
    }
}

/// A server over a fresh small data directory, and `count` backups made through the API.
fn server_with(server_runtime: &Runtime, runtime: &Runtime, count: usize) -> TempServer {
    let dirs = sample_dirs();
    let server = server_runtime.block_on(dirs.start(|_| {})).expect("server");
    let client = BackupsClient::builder()
        .base_url(server.base_url().as_str())
        .build()
        .expect("client");
    runtime.block_on(async {
        // Eight at a time: each create waits mostly on the disk's syncs.
        let client_ref = Arc::new(client.clone());
        let mut made = 0;
        while made < count {
            let batch = (count - made).min(8);
            let tasks: Vec<_> = (0..batch)
                .map(|_| {
                    let client = Arc::clone(&client_ref);
                    tokio::spawn(async move { client.create().await.expect("create") })
                })
                .collect();
            for task in tasks {
                task.await.expect("create task");
            }
            made += batch;
        }
        assert_eq!(client.list().await.expect("list").len(), count);
    });
    server
}

/// The Python SDK in a child process, answering one round per line.
struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    fn start(python: &PathBuf, base: &str) -> Result<Peer, String> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python_peer.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(base)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot run {}: {err}", python.display()))?;
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut peer = Peer {
            child,
            stdin,
            stdout,
        };
        // Imports the SDK and makes one call: a venv without it fails here, not mid-row.
        peer.run("list", 1, 1).map_err(|why| {
            format!("the Python SDK peer does not run ({why}; its stderr is above)")
        })?;
        Ok(peer)
    }

    /// One timed run in the child; its rate in calls per second.
    fn run(&mut self, op: &str, count: usize, concurrency: usize) -> Result<f64, String> {
        writeln!(self.stdin, "{op} {count} {concurrency}")
            .and_then(|()| self.stdin.flush())
            .map_err(|err| format!("writing to the peer: {err}"))?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|err| format!("reading the peer: {err}"))?;
        if line.is_empty() {
            return Err("the peer exited".into());
        }
        let answer: serde_json::Value =
            serde_json::from_str(&line).map_err(|err| format!("{err} in {line:?}"))?;
        answer["rate"]
            .as_f64()
            .ok_or_else(|| format!("no rate in {line:?}"))
    }

    fn stop(mut self) {
        // End of input ends its loop.
        drop(self.stdin);
        let _ = self.child.wait();
    }
}

/// How each side calls.
#[derive(Clone, Copy)]
enum Side {
    Sequential,
    Concurrent,
}

/// The rounds of one comparison and each side's calls per round: ours is much faster, so it
/// makes more calls for a round of similar length, and both report a rate.
struct Plan {
    rounds: usize,
    ours: usize,
    python: usize,
}

impl Plan {
    // Sizes for rounds of about 0.1 s a side on the 2-core development machine.
    fn rounds(quick: bool) -> usize {
        if quick { 4 } else { 16 }
    }

    fn list_sequential(size: usize, quick: bool) -> Plan {
        let rounds = Plan::rounds(quick);
        match size {
            10 => Plan {
                rounds,
                ours: 1500,
                python: 300,
            },
            _ => Plan {
                rounds,
                ours: 400,
                python: 60,
            },
        }
    }

    fn list_concurrent(size: usize, quick: bool) -> Plan {
        let rounds = Plan::rounds(quick);
        match size {
            10 => Plan {
                rounds,
                ours: TASKS * 64,
                python: 300,
            },
            _ => Plan {
                rounds,
                ours: TASKS * 16,
                python: 60,
            },
        }
    }

    fn create(quick: bool) -> Plan {
        Plan {
            rounds: Plan::rounds(quick),
            ours: 20,
            python: 20,
        }
    }
}

/// Runs `plan` rounds of `op`, alternating which side goes first, after one warm-up round of
/// each; answers ours and the peer's rates.
fn compare(
    runtime: &Runtime,
    base: &str,
    peer: &mut Peer,
    op: &str,
    plan: Plan,
    side: Side,
) -> (Vec<f64>, Vec<f64>) {
    let concurrency = match side {
        Side::Sequential => 1,
        Side::Concurrent => THREADS,
    };
    // One caller calling one call after another is one thread, as the Python side's is: a
    // current-thread runtime, whose tasks (the caller's and its connection's) never wait on a
    // wake-up from another worker. A client's connections belong to the runtime that opened
    // them, hence a client for each.
    let sequential;
    let runtime = match side {
        Side::Sequential => {
            sequential = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            &sequential
        }
        Side::Concurrent => runtime,
    };
    let ours = BackupsClient::builder()
        .base_url(base)
        .build()
        .expect("client");
    // Processor time beside the rates, to tell a side limited by the processors from one
    // waiting on something: (wall, this process) for ours, (wall, the child, this process,
    // which is the server then) for the peer.
    let mut ours_time = (0.0f64, 0.0f64);
    let mut peer_time = (0.0f64, 0.0f64, 0.0f64);
    let mut run_ours = |calls: usize| {
        let (start, before) = (Instant::now(), cpu_seconds(None));
        let rate = runtime.block_on(ours_rate(&ours, op, calls, side));
        ours_time.0 += start.elapsed().as_secs_f64();
        ours_time.1 += cpu_seconds(None) - before;
        rate
    };
    let started = Instant::now();
    let child = peer.child.id();
    let mut run_peer = |calls: usize| {
        let start = Instant::now();
        let before = (cpu_seconds(Some(child)), cpu_seconds(None));
        let rate = peer.run(op, calls, concurrency).expect("python peer");
        peer_time.0 += start.elapsed().as_secs_f64();
        peer_time.1 += cpu_seconds(Some(child)) - before.0;
        peer_time.2 += cpu_seconds(None) - before.1;
        rate
    };
    // Warm-up: connections open, the interpreter's and our caches hot.
    run_ours(plan.ours.div_ceil(4));
    run_peer(plan.python.div_ceil(4));
    let mut ours_rates = Vec::new();
    let mut peer_rates = Vec::new();
    for round in 0..plan.rounds {
        if round % 2 == 0 {
            ours_rates.push(run_ours(plan.ours));
            peer_rates.push(run_peer(plan.python));
        } else {
            peer_rates.push(run_peer(plan.python));
            ours_rates.push(run_ours(plan.ours));
        }
    }
    eprintln!(
        "python-compare: {op} x{concurrency}: {} rounds in {:.2}s; processors busy: ours {:.2} \
         (client and server), python {:.2} + server {:.2}",
        plan.rounds,
        started.elapsed().as_secs_f64(),
        ours_time.1 / ours_time.0,
        peer_time.1 / peer_time.0,
        peer_time.2 / peer_time.0,
    );
    (ours_rates, peer_rates)
}

/// User and system time of a process (this one for `None`) in seconds, from `/proc`; 0 where
/// there is none to read (the figure is only printed, never part of a row).
fn cpu_seconds(pid: Option<u32>) -> f64 {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // Fields after the command name, which may hold spaces: state is the first, utime the
    // 12th, stime the 13th; in clock ticks, 100 a second on Linux.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |at: usize| fields.get(at).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => 0.0,
    }
}

/// Our side of one round: `calls` calls of `op`, one after another or from [`TASKS`] tasks;
/// calls per second.
async fn ours_rate(client: &BackupsClient, op: &str, calls: usize, side: Side) -> f64 {
    let start = Instant::now();
    match side {
        Side::Sequential => {
            for _ in 0..calls {
                one_call(client, op).await;
            }
        }
        Side::Concurrent => {
            let per_task = calls.div_ceil(TASKS);
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let client = client.clone();
                    let op = op.to_owned();
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            one_call(&client, &op).await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task");
            }
            return (per_task * TASKS) as f64 / start.elapsed().as_secs_f64();
        }
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

async fn one_call(client: &BackupsClient, op: &str) {
    match op {
        // Parsed into the models, as the Python side's are.
        "list" => assert!(!client.list().await.expect("list").is_empty()),
        "create" => assert!(!client.create().await.expect("create").id.is_empty()),
        _ => unreachable!("no such operation {op}"),
    }
}
