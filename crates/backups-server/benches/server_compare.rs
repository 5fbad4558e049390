//! Server create versus `cp -r`, for `cargo xtask bench`.
//!
//! A data directory of mixed file sizes (1 GiB; `--quick`: 256 MiB) is generated once under the
//! target directory, so the store, the copy and the data share one disk and the data is in the
//! page cache for both. Each round, in alternating order:
//!
//! - the floor: `cp -r data dst` followed by `sync`, from a clean, synced state;
//! - ours: a fresh store, a server started in-process, `POST /backups/create` timed until the
//!   response (the store syncs before answering); then a second create with nothing changed,
//!   timed, and the bytes it added to the store counted; then a server over an empty data
//!   directory and the same store, and `POST /backup/{id}/restore` of the first backup timed
//!   until the response (the restored tree is synced and swapped in before it answers).
//!
//! Prints one JSON object per comparison on stdout.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use backups_server::{Server, ServerConfig};
use backups_testkit::PseudoRandom;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

#[path = "../../../xtask/bench-support/emit.rs"]
mod emit;
use emit::emit;

const MIB: u64 = 1024 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    // The three comparisons come from the same runs: all or none, by `--only`.
    let names = [
        "server-create",
        "server-create-unchanged",
        "server-create-unchanged-bytes",
        "server-restore",
    ];
    if let Some(at) = args.iter().position(|a| a == "--only") {
        let only = args.get(at + 1).map_or("", String::as_str);
        if !names.iter().any(|name| name.contains(only)) {
            return;
        }
    }
    let total = if quick { 256 * MIB } else { 1024 * MIB };
    let rounds = if quick { 2 } else { 3 };

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    let root = std::path::absolute(target.join("bench-create")).expect("absolute");
    let data = root.join(format!("data-{}m", total / MIB));
    if !data.join(".complete").exists() {
        let _ = std::fs::remove_dir_all(&root);
        eprintln!(
            "server-create: generating {} MiB in {}",
            total / MIB,
            data.display()
        );
        generate(&data, total);
        std::fs::write(data.join(".complete"), b"").expect("marker");
    }
    let (files, bytes) = tree_size(&data);
    eprintln!(
        "server-create: {files} files, {:.0} MiB",
        bytes as f64 / MIB as f64
    );
    // Warm the page cache with the data, as it is for both sides in every round.
    run("cat", &[], &data, true);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut cp_s = Vec::new();
    let mut first_s = Vec::new();
    let mut second_s = Vec::new();
    let mut added = Vec::new();
    let mut restore_s = Vec::new();
    for round in 0..rounds {
        for ours in [round % 2 == 1, round % 2 == 0] {
            if ours {
                let timed = runtime.block_on(server_round(&root, &data));
                first_s.push(timed.first);
                second_s.push(timed.second);
                added.push(timed.added as f64);
                restore_s.push(timed.restore);
            } else {
                cp_s.push(cp_round(&root, &data));
            }
        }
        eprintln!(
            "server-create: round {round}: cp {:.2}s, create {:.2}s, unchanged {:.2}s, restore {:.2}s",
            cp_s[round], first_s[round], second_s[round], restore_s[round]
        );
    }
    let _ = std::fs::remove_dir_all(root.join("cp"));
    let _ = std::fs::remove_dir_all(root.join("store"));
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

/// What one round of ours measured.
struct Timed {
    /// The first create, in seconds.
    first: f64,
    /// The second create, nothing changed, in seconds.
    second: f64,
    /// The bytes the second create added to the store.
    added: u64,
    /// The restore of the first backup, in seconds.
    restore: f64,
}

async fn server_round(root: &Path, data: &Path) -> Timed {
    let store = root.join("store");
    let restored = root.join("restored");
    let _ = std::fs::remove_dir_all(&store);
    let _ = std::fs::remove_dir_all(&restored);
    sync();
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let config = ServerConfig::new(data, &store).with_listen(listen);
    let server = Server::start(config).await.expect("server");
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HyperClient<_, Full<Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build(connector);
    // A create is sent `{}` (an empty SeededBackup), a restore no body, as the Python SDK does.
    let post = |uri: String, body: &'static [u8]| {
        let client = client.clone();
        async move {
            let request = Request::post(uri.as_str())
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(body)))
                .expect("request");
            let start = Instant::now();
            let response = client.request(request).await.expect("request");
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            assert!(status.is_success(), "{status}: {body:?}");
            (start.elapsed().as_secs_f64(), body)
        }
    };
    let create = format!("{}/backups/create", server.base_url());
    let (first, made) = post(create.clone(), b"{}").await;
    let before = tree_size(&store).1;
    sync();
    let (second, _) = post(create, b"{}").await;
    let after = tree_size(&store).1;
    server.shutdown().await.expect("shutdown");

    // The restore: into an empty data directory beside the data set, as `cp -r` copies into a
    // new one; the restored tree is the data set again.
    let made: serde_json::Value = serde_json::from_slice(&made).expect("a Backup");
    let id = made["id"].as_str().expect("id");
    std::fs::create_dir(&restored).expect("mkdir");
    let config = ServerConfig::new(&restored, &store).with_listen(listen);
    let server = Server::start(config).await.expect("server");
    sync();
    let (restore, _) = post(format!("{}/backup/{id}/restore", server.base_url()), b"").await;
    server.shutdown().await.expect("shutdown");
    assert_eq!(
        tree_size(&restored),
        tree_size(data),
        "the whole tree restored"
    );

    drop(client);
    let _ = std::fs::remove_dir_all(&store);
    let _ = std::fs::remove_dir_all(&restored);
    sync();
    Timed {
        first,
        second,
        added: after.saturating_sub(before),
        restore,
    }
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
    run("sync", &[], Path::new("/"), false);
}

/// Runs a command; with `cat_tree`, reads every file under `dir` (to warm the page cache).
fn run(program: &str, args: &[&str], dir: &Path, cat_tree: bool) {
    if cat_tree {
        let status = Command::new("sh")
            .arg("-c")
            .arg("find . -type f -exec cat {} + > /dev/null")
            .current_dir(dir)
            .status()
            .expect("warm");
        assert!(status.success());
        return;
    }
    let status = Command::new(program).args(args).status().expect(program);
    assert!(status.success(), "{program} failed");
}
