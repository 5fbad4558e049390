//! The reference server against `cp -r` and against restic, for `cargo xtask bench`.
//!
//! A data directory of mixed file sizes (1 GiB; `--quick`: 128 MiB) is generated once under the
//! target directory, so the data, the store, the copy and restic's repository share one disk and
//! the data is in the page cache for every side. Three rounds (`--quick`: one), each running three
//! sides in an order that rotates from round to round:
//!
//! - the floor: `cp -r data dst` followed by `sync`, from a clean, synced state;
//! - ours: a fresh store and the `backups-server` binary as a child process (so that its peak
//!   memory is its own, not the bench's data generation's); `POST /backups/create` timed until
//!   the response (the store syncs before answering), then the server's peak resident set
//!   (VmHWM) read from `/proc/<pid>/status`; a second create with nothing changed, timed, and the
//!   bytes it added to the store counted; then a fresh server process over an empty data
//!   directory and the same store, `POST /backup/{id}/restore` of the first backup timed until
//!   the response (the restored tree is synced and swapped in before it answers) and that
//!   process's peak read;
//! - restic (when installed): a fresh repository beside the store (`restic init`, untimed),
//!   `restic backup` of the data timed with a `sync` after it, a second backup with nothing
//!   changed, timed the same way, and `restic restore` of the first snapshot into an empty
//!   directory, timed with a `sync`. Options: `--no-cache` (the repository is on the local disk:
//!   a cache would be a second copy of its metadata on the same disk, written outside the
//!   repository, and without the flag restic would write it under the user's home) and
//!   `--compression off` on the backups (the data is incompressible; compressing it would only
//!   cost restic time, and ours does not compress). Restic also encrypts, which ours does not.
//!
//! The rows (targets on ours / baseline): `server-create` (≤ 1.5), `server-create-unchanged`
//! (reported), `server-restore` (≤ 1.5) against `cp`; `server-create-unchanged-bytes` against the
//! data size (≤ 0.01); `create-first-restic` (≤ 0.9), `create-unchanged-restic` (≤ 0.2),
//! `restore-restic` (≤ 1.0) against restic's same operation, whose note gives what any restic
//! command costs before its work (`restic cat config`: opening the repository, key derivation),
//! which ours, a running server, does not pay per call; `server-create-rss`,
//! `server-restore-rss` (≤ 1.0): the server's peak against the 64 MiB bound of issue #14 (a
//! constant, not a measurement; restic's own peak, polled every 10 ms, is in the note).
//!
//! Small edits to a large file (64 MiB; `--quick`: 16 MiB), generated in memory and written into a
//! directory of its own, in three rounds (`--quick`: one), alternating which side goes first.
//! Each round backs it up with ours (a fresh store and server process) and with restic (a fresh
//! repository, so a fresh random chunker polynomial), changes one byte in its middle and backs up
//! again, then inserts 1 MiB at its start and backs up again, counting the bytes each backup added
//! under the store and under the repository (manifests, indexes and snapshots included). Rows:
//! `edit-byte-bytes` against the file size (≤ 0.01, the issue's bound), `edit-byte-bytes-restic`
//! (reported: restic's number moves with its random chunk boundaries) and
//! `edit-insert-bytes-restic` (≤ 1.5) against restic's bytes.
//!
//! Without restic, its rows are printed as skipped, with the reason. `--only TEXT` runs the round
//! comparisons, the edit comparisons, both or neither, by whether any of their names contains
//! TEXT; each group's rows come from the same runs, so a group prints all of its rows.
//!
//! Prints one JSON object per comparison on stdout.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use backups_testkit::PseudoRandom;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

#[path = "../../../xtask/bench-support/emit.rs"]
mod emit;
#[path = "../../../xtask/bench-support/memory.rs"]
mod memory;
use emit::{Options, emit, skip};

const MIB: u64 = 1024 * 1024;

/// Issue #14's bound on the server's peak resident set during a create or a restore.
const RSS_BOUND_MIB: f64 = 64.0;

/// The comparisons that come from the rounds over the generated data set.
const ROUND_ROWS: &[&str] = &[
    "server-create",
    "server-create-unchanged",
    "server-create-unchanged-bytes",
    "server-restore",
    "server-create-rss",
    "server-restore-rss",
    "create-first-restic",
    "create-unchanged-restic",
    "restore-restic",
];

/// The comparisons that come from the edits of one large file.
const EDIT_ROWS: &[&str] = &[
    "edit-byte-bytes",
    "edit-byte-bytes-restic",
    "edit-insert-bytes-restic",
];

type Client = HyperClient<HttpConnector, Full<Bytes>>;

fn main() {
    let options = Options::from_env();
    let quick = options.quick;
    let (run_rounds, run_edits) = (options.wants_any(ROUND_ROWS), options.wants_any(EDIT_ROWS));
    if !run_rounds && !run_edits {
        return;
    }

    // `cargo bench` runs this binary in the package directory: without CARGO_TARGET_DIR the data
    // set goes under the workspace's target directory, never into the source tree.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
    let root = std::path::absolute(target.join("bench-create")).expect("absolute");
    let restic = Restic::find(root.join("restic-repo"));
    if let Err(why) = &restic {
        eprintln!("server-create: restic rows skipped: {why}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client = HyperClient::builder(TokioExecutor::new()).build(connector);
    let bench = Bench {
        runtime,
        client,
        root,
        restic,
    };

    if run_rounds {
        let total = if quick { 128 * MIB } else { 1024 * MIB };
        bench.rounds(total, if quick { 1 } else { 3 });
    }
    if run_edits {
        let size = if quick { 16 * MIB } else { 64 * MIB };
        bench.edits(size, if quick { 1 } else { 3 });
    }
}

/// What every comparison shares: the HTTP client for ours, the bench directory, restic.
struct Bench {
    runtime: tokio::runtime::Runtime,
    client: Client,
    root: PathBuf,
    /// restic, or why it cannot run.
    restic: Result<Restic, String>,
}

/// The three sides of a round.
#[derive(Clone, Copy)]
enum Side {
    Cp,
    Ours,
    Restic,
}

impl Bench {
    /// The comparisons over the generated data set of `total` bytes, in `rounds` rounds.
    fn rounds(&self, total: u64, rounds: usize) {
        let root = &self.root;
        let data = root.join(format!("data-{}m", total / MIB));
        if !data.join(".complete").exists() {
            // One data set at a time: the other size's data, stores and repository go.
            let _ = std::fs::remove_dir_all(root);
            eprintln!(
                "server-create: generating {} MiB in {}",
                total / MIB,
                data.display()
            );
            generate(&data, total);
            std::fs::write(data.join(".complete"), b"").expect("marker");
        }
        settle(&data.join(".complete"));
        let (files, bytes) = tree_size(&data);
        eprintln!(
            "server-create: {files} files, {:.0} MiB",
            bytes as f64 / MIB as f64
        );

        let mut cp_s = Vec::new();
        let mut ours = Vec::new();
        let mut restic = Vec::new();
        for round in 0..rounds {
            // Re-read the data before each round: a no-op while it stays cached, and what keeps
            // it cached for every side if the writes of the round before pushed some of it out.
            warm(&data);
            let mut sides = [Side::Cp, Side::Ours, Side::Restic];
            sides.rotate_left(round % 3);
            for side in sides {
                match side {
                    Side::Cp => cp_s.push(cp_round(root, &data)),
                    Side::Ours => ours.push(self.ours_round(&data)),
                    Side::Restic => {
                        if let Ok(peer) = &self.restic {
                            restic.push(peer.round(root, &data));
                        }
                    }
                }
            }
            let them = restic.last().map_or_else(String::new, |r: &ResticRound| {
                format!(
                    "; restic backup {:.2}s, unchanged {:.2}s, restore {:.2}s, peak {:.0}/{:.0} MiB",
                    r.first,
                    r.second,
                    r.restore,
                    r.first_peak_mib,
                    r.restore_peak_mib
                )
            });
            let us = &ours[round];
            eprintln!(
                "server-create: round {round}: cp {:.2}s; create {:.2}s, unchanged {:.2}s, \
                 restore {:.2}s, peak {:.1}/{:.1} MiB{them}",
                cp_s[round],
                us.first,
                us.second,
                us.restore,
                us.create_peak_mib,
                us.restore_peak_mib
            );
        }
        let _ = std::fs::remove_dir_all(root.join("cp"));
        let _ = std::fs::remove_dir_all(root.join("store"));

        let pick = |f: fn(&OursRound) -> f64| ours.iter().map(f).collect::<Vec<_>>();
        let (first_s, second_s, restore_s) =
            (pick(|r| r.first), pick(|r| r.second), pick(|r| r.restore));
        let added = pick(|r| r.added as f64);
        let (create_peak, restore_peak) =
            (pick(|r| r.create_peak_mib), pick(|r| r.restore_peak_mib));
        let mib = bytes / MIB;
        emit(
            "server-create",
            "s",
            &first_s,
            &cp_s,
            "lower",
            Some(1.5),
            &format!("{mib} MiB, {files} files; baseline cp -r + sync"),
        );
        emit(
            "server-create-unchanged",
            "s",
            &second_s,
            &cp_s,
            "lower",
            None,
            "second backup, nothing changed; baseline cp -r + sync",
        );
        emit(
            "server-restore",
            "s",
            &restore_s,
            &cp_s,
            "lower",
            Some(1.5),
            &format!(
                "restore of the {mib} MiB backup into an empty data directory; baseline cp -r + sync"
            ),
        );
        emit(
            "server-create-unchanged-bytes",
            "bytes",
            &added,
            &[bytes as f64],
            "lower",
            Some(0.01),
            "bytes the unchanged backup added to the store; baseline the data size",
        );

        let restic_pick = |f: fn(&ResticRound) -> f64| restic.iter().map(f).collect::<Vec<_>>();
        let restic_peaks = match &self.restic {
            Ok(_) => format!(
                "; restic's peak (polled): backup {:.0} MiB, restore {:.0} MiB",
                emit::median(&restic_pick(|r| r.first_peak_mib)),
                emit::median(&restic_pick(|r| r.restore_peak_mib)),
            ),
            Err(_) => String::new(),
        };
        let rss_note = |what: &str| {
            format!(
                "VmHWM of the backups-server child process, read after the {what} of {mib} MiB \
                 answered; baseline: the 64 MiB bound of issue #14 (a constant){restic_peaks}"
            )
        };
        emit(
            "server-create-rss",
            "MiB",
            &create_peak,
            &[RSS_BOUND_MIB],
            "lower",
            Some(1.0),
            &rss_note("first create"),
        );
        emit(
            "server-restore-rss",
            "MiB",
            &restore_peak,
            &[RSS_BOUND_MIB],
            "lower",
            Some(1.0),
            &rss_note("restore"),
        );

        if let Err(why) = &self.restic {
            for (name, target) in [
                ("create-first-restic", 0.9),
                ("create-unchanged-restic", 0.2),
                ("restore-restic", 1.0),
            ] {
                skip(name, "s", "lower", Some(target), why);
            }
            return;
        }
        // Each restic command opens the repository (scrypt key derivation, the index) before any
        // work; ours is a running server. Shown so that a small data set's ratio can be read.
        let restic_fixed = format!(
            "; restic's fixed cost per command (opening the repository: restic cat config) {:.2}s",
            emit::median(&restic_pick(|r| r.open))
        );
        let restic_row =
            |name: &str, ours: &[f64], theirs: fn(&ResticRound) -> f64, target: f64, note: &str| {
                emit(
                    name,
                    "s",
                    ours,
                    &restic_pick(theirs),
                    "lower",
                    Some(target),
                    note,
                );
            };
        restic_row(
            "create-first-restic",
            &first_s,
            |r| r.first,
            0.9,
            &format!(
                "{mib} MiB, {files} files, a fresh store / repository; baseline restic backup \
                 --no-cache --compression off + sync{restic_fixed}"
            ),
        );
        restic_row(
            "create-unchanged-restic",
            &second_s,
            |r| r.second,
            0.2,
            &format!(
                "second backup, nothing changed; baseline the same restic backup + sync \
                 (restic added {:.0} bytes, ours {:.0}){restic_fixed}",
                emit::median(&restic_pick(|r| r.added as f64)),
                emit::median(&added)
            ),
        );
        restic_row(
            "restore-restic",
            &restore_s,
            |r| r.restore,
            1.0,
            &format!(
                "restore of the first backup into an empty directory; baseline restic \
                 restore --no-cache + sync{restic_fixed}"
            ),
        );
    }

    /// One round of ours over `data`.
    fn ours_round(&self, data: &Path) -> OursRound {
        let root = &self.root;
        let store = root.join("store");
        let restored = root.join("restored");
        let _ = std::fs::remove_dir_all(&store);
        let _ = std::fs::remove_dir_all(&restored);
        sync();
        let server = ServerProcess::start(root, data, &store);
        let create = format!("{}/backups/create", server.base_url);
        // A create is sent `{}` (an empty SeededBackup), a restore no body, as the Python SDK
        // does.
        let (first, made) = self.post(&create, b"{}");
        let create_peak_mib = server.peak_mib();
        let before = tree_size(&store).1;
        sync();
        let (second, _) = self.post(&create, b"{}");
        let after = tree_size(&store).1;
        server.stop();

        // The restore: into an empty data directory beside the data set, as `cp -r` copies into
        // a new one; the restored tree is the data set again. A server process of its own, so
        // its peak is the restore's.
        let made: serde_json::Value = serde_json::from_slice(&made).expect("a Backup");
        let id = made["id"].as_str().expect("id");
        std::fs::create_dir(&restored).expect("mkdir");
        let server = ServerProcess::start(root, &restored, &store);
        sync();
        let (restore, _) = self.post(&format!("{}/backup/{id}/restore", server.base_url), b"");
        let restore_peak_mib = server.peak_mib();
        server.stop();
        assert_eq!(
            tree_size(&restored),
            tree_size(data),
            "the whole tree restored"
        );

        let _ = std::fs::remove_dir_all(&store);
        let _ = std::fs::remove_dir_all(&restored);
        sync();
        OursRound {
            first,
            second,
            added: after.saturating_sub(before),
            restore,
            create_peak_mib,
            restore_peak_mib,
        }
    }

    /// The edits of one file of `size` bytes, in `rounds` rounds.
    fn edits(&self, size: u64, rounds: usize) {
        let dir = self.root.join("edit");
        let data = dir.join("data");
        let original = random_bytes(2, size as usize);
        let mut byte_ours = Vec::new();
        let mut insert_ours = Vec::new();
        let mut byte_restic = Vec::new();
        let mut insert_restic = Vec::new();
        for round in 0..rounds {
            let mut sides = [Side::Ours, Side::Restic];
            sides.rotate_left(round % 2);
            for side in sides {
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&data).expect("mkdir");
                std::fs::write(data.join("big.bin"), &original).expect("write");
                sync();
                match side {
                    Side::Ours => {
                        let store = dir.join("store");
                        let server = ServerProcess::start(&dir, &data, &store);
                        let create = format!("{}/backups/create", server.base_url);
                        let added = edit_backups(&data, &original, &store, || {
                            self.post(&create, b"{}");
                        });
                        server.stop();
                        byte_ours.push(added[0] as f64);
                        insert_ours.push(added[1] as f64);
                    }
                    Side::Restic => {
                        if self.restic.is_err() {
                            continue;
                        }
                        // A repository of its own in the edit directory, fresh each round.
                        let repo = dir.join("repo");
                        let restic = Restic { repo: repo.clone() };
                        restic.init();
                        let added = edit_backups(&data, &original, &repo, || {
                            restic.backup(&data);
                        });
                        byte_restic.push(added[0] as f64);
                        insert_restic.push(added[1] as f64);
                    }
                    Side::Cp => unreachable!("no cp side in the edits"),
                }
            }
            eprintln!(
                "edit: round {round}: one byte: ours +{:.0} KiB{}; 1 MiB inserted: ours +{:.0} KiB{}",
                byte_ours[round] / 1024.0,
                byte_restic
                    .get(round)
                    .map_or_else(String::new, |b| format!(", restic +{:.0} KiB", b / 1024.0)),
                insert_ours[round] / 1024.0,
                insert_restic
                    .get(round)
                    .map_or_else(String::new, |b| format!(", restic +{:.0} KiB", b / 1024.0)),
            );
        }
        let _ = std::fs::remove_dir_all(&dir);

        let mib = size / MIB;
        let percent = |added: &[f64]| 100.0 * emit::median(added) / size as f64;
        emit(
            "edit-byte-bytes",
            "bytes",
            &byte_ours,
            &[size as f64],
            "lower",
            Some(0.01),
            &format!(
                "bytes a backup added to the store after one byte changed in the middle of a \
                 {mib} MiB file: {:.2}% of it; baseline the file size (bound: 1%)",
                percent(&byte_ours)
            ),
        );
        match &self.restic {
            Ok(_) => {
                emit(
                    "edit-byte-bytes-restic",
                    "bytes",
                    &byte_ours,
                    &byte_restic,
                    "lower",
                    None,
                    &format!(
                        "one byte changed in the middle of a {mib} MiB file: bytes added to the \
                         store, ours {:.2}% of the file, restic's repository {:.2}%; no target \
                         (restic's chunk boundaries move with each repository's random \
                         polynomial; edit-byte-bytes holds the bound)",
                        percent(&byte_ours),
                        percent(&byte_restic)
                    ),
                );
                emit(
                    "edit-insert-bytes-restic",
                    "bytes",
                    &insert_ours,
                    &insert_restic,
                    "lower",
                    Some(1.5),
                    &format!(
                        "1 MiB inserted at the start of the {mib} MiB file: bytes added, ours \
                         {:.1}% of the file, restic {:.1}%; target 1.5 leaves room for another \
                         chunk size and restic's random boundaries, a whole-file copy misses it",
                        percent(&insert_ours),
                        percent(&insert_restic)
                    ),
                );
            }
            Err(why) => {
                skip("edit-byte-bytes-restic", "bytes", "lower", None, why);
                skip("edit-insert-bytes-restic", "bytes", "lower", Some(1.5), why);
            }
        }
    }

    /// A POST to ours; the time to the whole answer, and the answer. Panics on a failure status.
    fn post(&self, uri: &str, body: &'static [u8]) -> (f64, Bytes) {
        self.runtime.block_on(async {
            let request = Request::post(uri)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(body)))
                .expect("request");
            let start = Instant::now();
            let response = self.client.request(request).await.expect("request");
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            assert!(status.is_success(), "{status}: {body:?}");
            (start.elapsed().as_secs_f64(), body)
        })
    }
}

/// Backs up the file `data/big.bin` (now `original`) with `backup`, then changes one byte in its
/// middle and backs up, then inserts 1 MiB at its start and backs up: the bytes each of the last
/// two backups added under `counted`.
fn edit_backups(
    data: &Path,
    original: &[u8],
    counted: &Path,
    mut backup: impl FnMut(),
) -> [u64; 2] {
    let file = data.join("big.bin");
    backup();
    let start = tree_size(counted).1;

    // In place, as an application edits a record: the file keeps its size.
    let middle = original.len() as u64 / 2;
    let edited = File::options().write(true).open(&file).expect("open");
    edited
        .write_all_at(&[original[middle as usize] ^ 0xff], middle)
        .expect("edit");
    edited.sync_all().expect("sync");
    drop(edited);
    backup();
    let after_byte = tree_size(counted).1;

    let mut inserted = random_bytes(3, MIB as usize);
    inserted.extend_from_slice(&std::fs::read(&file).expect("read"));
    std::fs::write(&file, &inserted).expect("write");
    sync();
    backup();
    let after_insert = tree_size(counted).1;
    [
        after_byte.saturating_sub(start),
        after_insert.saturating_sub(after_byte),
    ]
}

/// What one round of ours measured.
struct OursRound {
    /// The first create, in seconds.
    first: f64,
    /// The second create, nothing changed, in seconds.
    second: f64,
    /// The bytes the second create added to the store.
    added: u64,
    /// The restore of the first backup, in seconds.
    restore: f64,
    /// The server's peak resident set after the first create, in MiB.
    create_peak_mib: f64,
    /// The peak of the server that restored, in MiB.
    restore_peak_mib: f64,
}

/// What one round of restic measured.
struct ResticRound {
    /// The first backup and its `sync`, in seconds.
    first: f64,
    /// The second backup, nothing changed, and its `sync`, in seconds.
    second: f64,
    /// The bytes the second backup added to the repository.
    added: u64,
    /// The restore of the first snapshot and its `sync`, in seconds.
    restore: f64,
    /// restic's peak resident set during the first backup (polled), in MiB.
    first_peak_mib: f64,
    /// restic's peak resident set during the restore (polled), in MiB.
    restore_peak_mib: f64,
    /// `restic cat config`: what any restic command costs before its work, in seconds.
    open: f64,
}

/// The reference server as a child process, over a data directory and a store.
struct ServerProcess {
    /// `None` once stopped.
    child: Option<Child>,
    base_url: String,
}

impl ServerProcess {
    /// Starts `backups-server` on a free port and waits until it listens; its port file and its
    /// log go under `dir`, outside the store, so they count in no store size.
    fn start(dir: &Path, data: &Path, store: &Path) -> Self {
        let port_file = dir.join("server.port");
        let log_path = dir.join("server.log");
        let _ = std::fs::remove_file(&port_file);
        let log = File::create(&log_path).expect("server log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_backups-server"))
            .arg("--data")
            .arg(data)
            .arg("--store")
            .arg(store)
            .args(["--listen", "127.0.0.1:0", "--port-file"])
            .arg(&port_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("backups-server");
        let deadline = Instant::now() + Duration::from_secs(30);
        // The server writes the port file atomically once it listens.
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|text| text.trim().parse::<u16>().ok())
            {
                break port;
            }
            if let Some(status) = child.try_wait().expect("wait") {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("backups-server exited ({status}) before listening: {log}");
            }
            assert!(Instant::now() < deadline, "backups-server did not start");
            std::thread::sleep(Duration::from_millis(5));
        };
        Self {
            child: Some(child),
            base_url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The process's peak resident set so far, in MiB.
    fn peak_mib(&self) -> f64 {
        let pid = self.child.as_ref().expect("running").id();
        memory::vm_hwm_kib_of(pid) as f64 / 1024.0
    }

    /// Stops the server with SIGTERM, as a user would, and waits for it to release the store.
    fn stop(mut self) {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for ServerProcess {
    /// A bench that panics does not leave its server running.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The restic command over one repository.
struct Restic {
    repo: PathBuf,
}

impl Restic {
    /// restic over `repo` when `restic version` runs and is 0.14 or later, else why not.
    fn find(repo: PathBuf) -> Result<Self, String> {
        match Command::new("restic").arg("version").output() {
            Ok(out) if out.status.success() => {
                // "restic 0.14.0 compiled with go1.19.8 on linux/amd64"
                let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                let version: Vec<u64> = text
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .split('.')
                    .map_while(|part| part.parse().ok())
                    .collect();
                // Repository format 2 and `--compression` came with 0.14; an older restic
                // (Ubuntu 22.04 ships 0.12) would fail the first command and the whole bench.
                if version.len() < 2 || (version[0], version[1]) < (0, 14) {
                    return Err(format!(
                        "{text}: restic 0.14 or later is needed (--compression, repository \
                         format 2)"
                    ));
                }
                eprintln!("server-create: {text}");
                Ok(Self { repo })
            }
            Ok(out) => Err(format!("`restic version` failed ({})", out.status)),
            Err(err) => Err(format!(
                "restic not found ({err}); install it (apt-get install restic) to compare"
            )),
        }
    }

    /// A restic command over the repository, with the bench's password and none of the
    /// caller's restic settings (a repository, a password source, a pack size) leaking in.
    fn command(&self) -> Command {
        let mut command = Command::new("restic");
        for var in [
            "RESTIC_REPOSITORY",
            "RESTIC_REPOSITORY_FILE",
            "RESTIC_PASSWORD_FILE",
            "RESTIC_PASSWORD_COMMAND",
            "RESTIC_PACK_SIZE",
            "RESTIC_COMPRESSION",
            "RESTIC_CACHE_DIR",
        ] {
            command.env_remove(var);
        }
        command
            .env("RESTIC_PASSWORD", "backups-server-bench")
            .arg("--repo")
            .arg(&self.repo)
            .arg("--no-cache")
            .stdin(Stdio::null());
        command
    }

    /// A fresh repository, format 2 (the one with the compression switch), whatever the
    /// installed restic's default; then a `sync`, so that no side pays for its writes.
    fn init(&self) {
        let _ = std::fs::remove_dir_all(&self.repo);
        let status = self
            .command()
            .args(["init", "--repository-version", "2"])
            .stdout(Stdio::null())
            .status()
            .expect("restic init");
        assert!(status.success(), "restic init failed");
        sync();
    }

    /// A backup of `data` followed by a `sync`: its time, its peak in MiB and its snapshot id.
    fn backup(&self, data: &Path) -> (f64, f64, String) {
        let mut command = self.command();
        command
            .args(["--compression", "off", "backup", "--json"])
            .arg(data);
        let (secs, peak_kib, stdout) = timed_child(&mut command);
        let snapshot = String::from_utf8_lossy(&stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|line| line["message_type"] == "summary")
            .and_then(|summary| summary["snapshot_id"].as_str().map(str::to_owned))
            .expect("restic backup prints a summary with the snapshot id");
        (secs, peak_kib as f64 / 1024.0, snapshot)
    }

    /// One round of restic over `data`, with a repository of its own beside the store.
    fn round(&self, root: &Path, data: &Path) -> ResticRound {
        let restored = root.join("restic-restored");
        let _ = std::fs::remove_dir_all(&restored);
        self.init();
        let start = Instant::now();
        let status = self
            .command()
            .args(["cat", "config"])
            .stdout(Stdio::null())
            .status()
            .expect("restic cat config");
        assert!(status.success(), "restic cat config failed");
        let open = start.elapsed().as_secs_f64();
        let (first, first_peak_mib, snapshot) = self.backup(data);
        let before = tree_size(&self.repo).1;
        sync();
        let (second, _, _) = self.backup(data);
        let after = tree_size(&self.repo).1;

        std::fs::create_dir(&restored).expect("mkdir");
        sync();
        let mut command = self.command();
        command
            .args(["restore", &snapshot, "--target"])
            .arg(&restored);
        let (restore, restore_peak_kib, _) = timed_child(&mut command);
        // restic restores the absolute path of the data under the target: the same files.
        assert_eq!(
            tree_size(&restored),
            tree_size(data),
            "restic restored the whole tree"
        );

        let _ = std::fs::remove_dir_all(&self.repo);
        let _ = std::fs::remove_dir_all(&restored);
        sync();
        ResticRound {
            first,
            second,
            added: after.saturating_sub(before),
            restore,
            first_peak_mib,
            restore_peak_mib: restore_peak_kib as f64 / 1024.0,
            open,
        }
    }
}

/// Runs `command` to its end, then `sync`: the seconds from the start to the end of the `sync`,
/// the command's peak resident set in KiB and its stdout. The peak is polled every 10 ms from
/// another thread (a child's VmHWM is readable only while it runs), so a last-moment rise can be
/// missed; the poll does not delay the timing.
fn timed_child(command: &mut Command) -> (f64, u64, Vec<u8>) {
    command.stdout(Stdio::piped());
    let start = Instant::now();
    let child = command.spawn().expect("spawn");
    let pid = child.id();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(memory::vm_hwm_kib_of(pid));
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        });
        let output = child.wait_with_output().expect("wait");
        assert!(output.status.success(), "{command:?} failed");
        sync();
        let secs = start.elapsed().as_secs_f64();
        done.store(true, Ordering::Relaxed);
        (secs, poller.join().expect("poller"), output.stdout)
    })
}

fn cp_round(root: &Path, data: &Path) -> f64 {
    let dst = root.join("cp");
    let _ = std::fs::remove_dir_all(&dst);
    sync();
    let start = Instant::now();
    let status = Command::new("cp")
        .arg("-r")
        .arg(data)
        .arg(&dst)
        .status()
        .expect("cp");
    assert!(status.success());
    sync();
    let secs = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dst);
    sync();
    secs
}

/// Files of mixed sizes in nested directories, with incompressible, distinct content:
/// about 5% of the bytes in files of 1 to 32 KiB, 25% in files of 64 KiB to 1 MiB, the rest
/// in files of 8 to 64 MiB.
fn generate(dir: &Path, total: u64) {
    // Seed 1 starts from the state the data set was first generated with, so it is unchanged.
    let mut rng = PseudoRandom::new(1);
    let mut next = move || rng.next_u64();
    let budgets = [
        (total / 20, 1024u64, 32 * 1024u64),
        (total / 4, 64 * 1024, MIB),
        (total - total / 20 - total / 4, 8 * MIB, 64 * MIB),
    ];
    let mut n = 0u64;
    for (class, (budget, min, max)) in budgets.into_iter().enumerate() {
        let mut left = budget;
        while left > 0 {
            let size = (min + next() % (max - min)).min(left);
            left -= size;
            let sub = dir.join(format!("c{class}/d{:03}", n / 100));
            std::fs::create_dir_all(&sub).expect("mkdir");
            let mut content = Vec::with_capacity(size as usize + 8);
            while (content.len() as u64) < size {
                content.extend_from_slice(&next().to_le_bytes());
            }
            content.truncate(size as usize);
            std::fs::write(sub.join(format!("f{n:06}.bin")), &content).expect("write");
            n += 1;
        }
    }
}

/// `len` incompressible bytes, fixed by `seed`.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = PseudoRandom::new(seed);
    let mut content = Vec::with_capacity(len + 8);
    while content.len() < len {
        content.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    content.truncate(len);
    content
}

/// Number of files and their total size under `dir`.
fn tree_size(dir: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                pending.push(entry.path());
            } else if meta.is_file() {
                files += 1;
                bytes += meta.len();
            }
        }
    }
    (files, bytes)
}

fn sync() {
    let status = Command::new("sync").status().expect("sync");
    assert!(status.success(), "sync failed");
}

/// Reads every file under `dir`, to bring it into the page cache.
/// Waits until the data set written before `marker` is more than 2 s old. The server trusts a
/// file's metadata only once both its times are that old (docs/server.md, "the metadata cache"),
/// so with a data set generated just now (as in every CI run) the unchanged create would read
/// every file again: the path of a file that may have changed, not the unchanged one its rows
/// measure.
fn settle(marker: &Path) {
    let settled = Duration::from_secs(3);
    let age = std::fs::metadata(marker)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|written| written.elapsed().ok())
        .unwrap_or(settled);
    if age < settled {
        std::thread::sleep(settled - age);
    }
}

fn warm(dir: &Path) {
    let status = Command::new("sh")
        .arg("-c")
        .arg("find . -type f -exec cat {} + > /dev/null")
        .current_dir(dir)
        .status()
        .expect("warm");
    assert!(status.success());
}
