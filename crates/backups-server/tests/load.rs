//! Load: 32 concurrent SDK clients mix list, create, create-streamed and delete against the real
//! binary on loopback for a bounded time. Every request must succeed, every created id must be
//! new, the final listing must hold exactly the backups created and not deleted, and the
//! server's resident memory, once warm, must not keep growing from one third of the run to the
//! next.
//!
//! `BACKUPS_LOAD_SECS=N` runs longer (default 4 s in all); `BACKUPS_LOAD_SEED=S` replays a mix.

mod child;
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use backups_hyper::{BackupId, BackupsClient};
use backups_testkit::PseudoRandom;

const CLIENTS: usize = 32;

#[derive(Debug, Default)]
struct Tally {
    lists: usize,
    creates: usize,
    streamed: usize,
    deletes: usize,
    failures: Vec<String>,
    created: Vec<String>,
    deleted: Vec<String>,
}

/// One client's loop: runs until `stop`, deleting only backups it created itself.
async fn client_loop(url: String, seed: u64, stop: Arc<AtomicBool>) -> Tally {
    let client = BackupsClient::builder()
        .base_url(url.as_str())
        .request_timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let mut rng = PseudoRandom::new(seed);
    let mut tally = Tally::default();
    let mut mine: Vec<String> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match rng.below(10) {
            0 | 1 => match client.list().await {
                Ok(_) => tally.lists += 1,
                Err(err) => tally.failures.push(format!("list: {err}")),
            },
            2 | 3 => match client.create().await {
                Ok(backup) => {
                    tally.creates += 1;
                    tally.created.push(backup.id.clone());
                    mine.push(backup.id);
                }
                Err(err) => tally.failures.push(format!("create: {err}")),
            },
            4 | 5 => {
                let result = match client.create_streamed().await {
                    Ok(stream) => stream.finish(|_| {}).await,
                    Err(err) => Err(err),
                };
                match result {
                    Ok(backup) => {
                        tally.streamed += 1;
                        tally.created.push(backup.id.clone());
                        mine.push(backup.id);
                    }
                    Err(err) => tally.failures.push(format!("create_streamed: {err}")),
                }
            }
            _ => {
                if mine.is_empty() {
                    continue;
                }
                let id = mine.swap_remove(rng.below(mine.len() as u64) as usize);
                match client.delete(&BackupId::new(id.clone()).expect("id")).await {
                    Ok(()) => {
                        tally.deletes += 1;
                        tally.deleted.push(id);
                    }
                    Err(err) => tally.failures.push(format!("delete {id}: {err}")),
                }
            }
        }
    }
    tally
}

/// Runs every client for `length` and returns their tallies.
async fn phase(url: &str, seed: u64, length: Duration) -> Vec<Tally> {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..CLIENTS as u64)
        .map(|i| tokio::spawn(client_loop(url.to_owned(), seed ^ (i + 1), stop.clone())))
        .collect();
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    let mut tallies = Vec::new();
    for task in tasks {
        tallies.push(task.await.expect("client task"));
    }
    tallies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_clients_lose_nothing_and_memory_stays_flat() {
    let seed = child::seed("BACKUPS_LOAD_SEED");
    let total: f64 = std::env::var("BACKUPS_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4.0);
    let third = Duration::from_secs_f64(total / 3.0);
    let data = tempfile::tempdir().expect("data");
    let store = tempfile::tempdir().expect("store");
    let ports = tempfile::tempdir().expect("ports");
    for i in 0..8u64 {
        std::fs::write(
            data.path().join(format!("f{i}.bin")),
            common::pseudo_random(2048, i),
        )
        .expect("write");
    }
    let server = child::spawn(
        data.path(),
        store.path(),
        &child::port_file(ports.path()),
        &[],
    )
    .await;
    let url = server.url();

    let started = Instant::now();
    // A warm-up third (allocator arenas, pools, caches), then two thirds compared.
    let warmup = phase(&url, seed, third).await;
    let rss_warm = server.rss_kib();
    let first = phase(&url, seed.rotate_left(17), third).await;
    let rss_first = server.rss_kib();
    let second = phase(&url, seed.rotate_left(34), third).await;
    let rss_second = server.rss_kib();
    let elapsed = started.elapsed();

    let all: Vec<&Tally> = warmup.iter().chain(&first).chain(&second).collect();
    let failures: Vec<&String> = all.iter().flat_map(|t| &t.failures).collect();
    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}",
        failures.len()
    );

    // No id was handed out twice, and the store holds exactly what was created and not deleted.
    let created: Vec<&String> = all.iter().flat_map(|t| &t.created).collect();
    let unique: BTreeSet<&String> = created.iter().copied().collect();
    assert_eq!(unique.len(), created.len(), "duplicate ids");
    let deleted: BTreeSet<&String> = all.iter().flat_map(|t| &t.deleted).collect();
    let expected: BTreeSet<String> = unique
        .difference(&deleted)
        .map(|id| (*id).clone())
        .collect();
    let client = BackupsClient::builder()
        .base_url(url.as_str())
        .build()
        .expect("client");
    let listed: BTreeSet<String> = client
        .list()
        .await
        .expect("final list")
        .iterable
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(listed, expected, "lost or extra backups");
    let report = backups_server::verify_store(store.path()).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.backups, expected.len());

    let sum = |f: fn(&Tally) -> usize| all.iter().map(|t| f(t)).sum::<usize>();
    let (lists, creates, streamed, deletes) = (
        sum(|t| t.lists),
        sum(|t| t.creates),
        sum(|t| t.streamed),
        sum(|t| t.deletes),
    );
    let requests = lists + creates + streamed + deletes;
    eprintln!(
        "{CLIENTS} clients for {elapsed:.1?}: {requests} requests ({lists} lists, {creates} \
         creates, {streamed} streamed creates, {deletes} deletes), 0 failed, {} backups kept; \
         server RSS in KiB {rss_warm:?} after warm-up, {rss_first:?} after the second third, \
         {rss_second:?} after the last",
        expected.len()
    );
    // Every kind of call ran, under real concurrency.
    assert!(lists > CLIENTS && creates > 0 && streamed > 0 && deletes > 0);

    if let (Some(first), Some(second)) = (rss_first, rss_second) {
        // The last third does as much work as the one before: it may not need much more memory.
        assert!(
            second <= first + first / 4 + 8 * 1024,
            "server memory grew from {first} KiB to {second} KiB"
        );
    }
    server.kill();
}
