//! The crash test with randomized kill points: the real binary is killed (SIGKILL) at a random
//! moment of a create (streamed, slowed down by `--progress-delay-ms`) or of a delete, then
//! restarted on the same store. After every restart: each backup the client saw completed is
//! listed, each delete the client saw answered is gone, nothing else is listed but the one call
//! in flight, `tmp/` and `trash/` are empty, and `verify_store` passes.
//!
//! At least 20 kill points per run; `BACKUPS_CRASH_KILLS=N` runs more, and
//! `BACKUPS_CRASH_SEED=S` replays a run (the seed is printed).

mod child;
mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use backups_testkit::PseudoRandom;
use child::{Running, spawn};
use common::{listed, pseudo_random};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DELAY_MS: &str = "4";
const STREAMED_CREATE: &[u8] = b"POST /backups/create/streamed HTTP/1.1\r\nHost: x\r\n\
    Accept: application/x-ndjson\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

fn write_data(root: &Path) {
    for i in 0..16u64 {
        std::fs::write(root.join(format!("f{i:02}.bin")), pseudo_random(4096, i)).expect("write");
    }
    std::fs::create_dir_all(root.join("nested")).expect("mkdir");
    std::fs::write(
        root.join("nested/large.bin"),
        pseudo_random(2 * 1024 * 1024 + 5, 1),
    )
    .expect("write");
}

/// Sends `raw` and reads the answer until the connection ends (the server was killed, or it
/// answered and closed). Returns what arrived.
async fn exchange(addr: SocketAddr, raw: Vec<u8>) -> Vec<u8> {
    // The kill may come first.
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return Vec::new();
    };
    if stream.write_all(&raw).await.is_err() {
        return Vec::new();
    }
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut seen)).await;
    seen
}

/// The id of the backup in a `COMPLETED` event, if the stream got that far.
fn completed_id(stream: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stream);
    let line = text.lines().find(|line| line.contains("\"COMPLETED\""))?;
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    Some(event["backup"]["id"].as_str()?.to_owned())
}

fn delete_request(id: &str) -> Vec<u8> {
    format!(
        "POST /backups/{id}/delete HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn assert_clean(store: &Path, round: usize) {
    for dir in ["tmp", "trash"] {
        let left = std::fs::read_dir(store.join(dir))
            .map(|entries| entries.count())
            .unwrap_or(0);
        assert_eq!(left, 0, "round {round}: {dir}/ emptied at restart");
    }
    let report = backups_server::verify_store(store).expect("verify runs");
    assert!(report.is_ok(), "round {round}: {:?}", report.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomized_kills_during_create_and_delete_lose_nothing() {
    let seed = child::seed("BACKUPS_CRASH_SEED");
    let kills = child::kill_count();
    let mut rng = PseudoRandom::new(seed);
    let data = tempfile::tempdir().expect("data");
    let store = tempfile::tempdir().expect("store");
    let ports = tempfile::tempdir().expect("ports");
    let port_file = child::port_file(ports.path());
    write_data(data.path());
    let args = ["--progress-delay-ms", DELAY_MS];

    // The backups that must be listed: completed and not deleted, as far as the client knows.
    let mut known: BTreeSet<String> = BTreeSet::new();
    let mut server: Running = spawn(data.path(), store.path(), &port_file, &args).await;
    // One create that runs to its end: a backup to delete, and how long a create takes.
    let answer = exchange(server.addr, STREAMED_CREATE.to_vec()).await;
    known.insert(completed_id(&answer).expect("a whole create completes"));
    std::fs::write(data.path().join("f00.bin"), b"changed").expect("write");
    let started = std::time::Instant::now();
    let answer = exchange(server.addr, STREAMED_CREATE.to_vec()).await;
    let full = started.elapsed();
    let id = completed_id(&answer).expect("a whole create completes");
    // And how long a delete takes.
    let started = std::time::Instant::now();
    let answer = exchange(server.addr, delete_request(&id)).await;
    let full_delete = started.elapsed();
    assert!(answer.starts_with(b"HTTP/1.1 204"), "{answer:?}");
    eprintln!("an uninterrupted create takes {full:?}, a delete {full_delete:?}");
    let (mut creates, mut deletes, mut completed_before_kill, mut deleted_before_kill) =
        (0, 0, 0, 0);
    let mut deleted_unanswered = 0;
    for round in 0..kills {
        let addr = server.addr;
        // Every third kill point is in a delete.
        let delete = round % 3 == 2;
        let mut in_flight: Option<String> = None;
        if delete {
            deletes += 1;
            if known.is_empty() {
                let answer = exchange(server.addr, STREAMED_CREATE.to_vec()).await;
                known.insert(completed_id(&answer).expect("a whole create completes"));
            }
            let victims: Vec<&String> = known.iter().collect();
            let victim = victims[rng.below(victims.len() as u64) as usize].clone();
            let call = tokio::spawn(exchange(addr, delete_request(&victim)));
            let wait = rng.below(full_delete.as_micros() as u64 * 3 / 2);
            tokio::time::sleep(Duration::from_micros(wait)).await;
            server.kill();
            let answer = call.await.expect("call");
            if answer.starts_with(b"HTTP/1.1 204") {
                deleted_before_kill += 1;
                known.remove(&victim);
            } else {
                in_flight = Some(victim);
            }
        } else {
            creates += 1;
            // Change some content so that each create writes new objects.
            let file = rng.below(16);
            std::fs::write(
                data.path().join(format!("f{file:02}.bin")),
                pseudo_random(4096, seed ^ round as u64),
            )
            .expect("write");
            let call = tokio::spawn(exchange(addr, STREAMED_CREATE.to_vec()));
            // The kill falls anywhere in the create, or just after it.
            let wait = rng.below(full.as_micros() as u64 * 6 / 5);
            tokio::time::sleep(Duration::from_micros(wait)).await;
            server.kill();
            let answer = call.await.expect("call");
            if let Some(id) = completed_id(&answer) {
                completed_before_kill += 1;
                known.insert(id);
            }
        }

        server = spawn(data.path(), store.path(), &port_file, &args).await;
        let now: BTreeSet<String> = listed(server.addr).await.into_iter().collect();
        let unknown: Vec<String> = now.difference(&known).cloned().collect();
        match (&in_flight, delete) {
            // A delete that was not answered may or may not have happened.
            (Some(victim), true) => {
                assert!(unknown.is_empty(), "round {round}: {unknown:?}");
                if !now.contains(victim) {
                    deleted_unanswered += 1;
                    known.remove(victim);
                }
            }
            // A create that was not answered may have finished: at most that one is new.
            _ => {
                assert!(unknown.len() <= 1, "round {round}: {unknown:?}");
                known.extend(unknown);
            }
        }
        assert!(
            known.is_subset(&now),
            "round {round} (seed {seed}): lost {:?}",
            known.difference(&now).collect::<Vec<_>>()
        );
        assert_eq!(now, known, "round {round}");
        assert_clean(store.path(), round);
    }
    server.kill();
    eprintln!(
        "{kills} kills survived: {creates} during a create ({completed_before_kill} had \
         completed), {deletes} during a delete ({deleted_before_kill} had answered, \
         {deleted_unanswered} more had taken effect); {} backups left",
        known.len()
    );
    assert_eq!(creates + deletes, kills);
    assert!(creates >= kills / 2 && deletes >= 1);
    // Some creates were cut before they finished: the kill points are not all too late.
    assert!(
        completed_before_kill < creates,
        "every create finished first"
    );
}
