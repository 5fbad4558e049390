//! The crash test of restores: the real binary is killed (SIGKILL) at a random moment of a
//! streamed restore (slowed by `--progress-delay-ms`), then restarted on the same store. After
//! every restart the data directory is exactly the tree it held before the restore or exactly
//! the backup, nothing is left beside it or in the store's journal, and `verify` passes.
//!
//! At least 20 kill points per run; `BACKUPS_CRASH_KILLS=N` runs more, and
//! `BACKUPS_CRASH_SEED=S` replays a run (the seed is printed).

mod child;
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use backups_testkit::PseudoRandom;
use child::spawn;
use common::{EventStream, beside, pseudo_random, request, tree_contents};

const DELAY_MS: &str = "3";

/// A tree whose restore takes a few dozen progress steps.
fn write_data(root: &Path, seed: u64) {
    std::fs::create_dir_all(root.join("nested/empty")).expect("mkdir");
    for i in 0..12u64 {
        std::fs::write(
            root.join(format!("f{i:02}.bin")),
            pseudo_random(4096, seed + i),
        )
        .expect("write");
    }
    std::fs::write(
        root.join("nested/large.bin"),
        pseudo_random(2 * 1024 * 1024 + 3, seed),
    )
    .expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomized_kills_during_restores_leave_one_whole_tree() {
    let seed = child::seed("BACKUPS_CRASH_SEED");
    let kills = child::kill_count();
    let mut rng = PseudoRandom::new(seed);
    let root = tempfile::tempdir().expect("root");
    let data: PathBuf = root.path().join("data");
    let store: PathBuf = root.path().join("store");
    let port_file = child::port_file(root.path());
    std::fs::create_dir(&data).expect("mkdir");
    write_data(&data, 1);
    let args = ["--progress-delay-ms", DELAY_MS];

    let mut server = spawn(&data, &store, &port_file, &args).await;
    let reply = request(server.addr, "POST", "/backups/create", &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let id = reply.json()["id"].as_str().expect("id").to_owned();
    let backup = tree_contents(&data);
    let path = format!("/backup/{id}/restore/streamed");

    // How long a whole restore takes, over changed data.
    std::fs::write(data.join("f00.bin"), b"changed").expect("write");
    let started = Instant::now();
    let events = EventStream::open(server.addr, &path, b"")
        .await
        .rest()
        .await;
    let full = started.elapsed();
    assert_eq!(events.last().expect("last")["status"], "COMPLETED");
    assert_eq!(tree_contents(&data), backup);
    eprintln!("an uninterrupted restore takes {full:?}");

    let (mut old_trees, mut restored_trees) = (0, 0);
    for round in 0..kills {
        // Different content each round: some files changed, one added, one removed.
        write_data(&data, 100 + round as u64);
        std::fs::write(data.join(format!("extra-{round}.txt")), "extra").expect("write");
        let _ = std::fs::remove_file(data.join(format!("f{:02}.bin", round % 12)));
        let old = tree_contents(&data);
        assert_ne!(old, backup);

        let mut stream = EventStream::open(server.addr, &path, b"").await;
        // The kill falls anywhere in the restore, or just after it.
        let wait = Duration::from_micros(rng.below(full.as_micros() as u64 * 6 / 5));
        let reading = tokio::spawn(async move { while stream.next().await.is_some() {} });
        tokio::time::sleep(wait).await;
        server.kill();
        let _ = reading.await;

        server = spawn(&data, &store, &port_file, &args).await;
        let now = tree_contents(&data);
        if now == old {
            old_trees += 1;
        } else {
            assert_eq!(now, backup, "round {round} (seed {seed}): a mix of trees");
            restored_trees += 1;
        }
        assert_eq!(
            beside(&data, &["store", "port.txt"]),
            Vec::<String>::new(),
            "round {round}: leftovers beside the data directory"
        );
        assert!(
            !store.join("restore.json").exists(),
            "round {round}: journal"
        );
        assert_eq!(
            std::fs::read_dir(store.join("tmp")).expect("tmp").count(),
            0,
            "round {round}: tmp/"
        );
        child::verify_with_binary(&store);
    }
    // The server still restores after all that.
    write_data(&data, 7);
    let events = EventStream::open(server.addr, &path, b"")
        .await
        .rest()
        .await;
    assert_eq!(events.last().expect("last")["status"], "COMPLETED");
    assert_eq!(tree_contents(&data), backup);
    server.kill();
    eprintln!("{kills} kills: {old_trees} left the old tree, {restored_trees} the backup");
    assert!(
        old_trees > 0,
        "every kill came after the restore (seed {seed})"
    );
}
