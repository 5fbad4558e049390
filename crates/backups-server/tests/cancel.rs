//! Cancel at a random point of a create and of a restore (slowed by `progress_delay`): a canceled
//! create leaves no backup listed and no object in the store, a canceled restore leaves the data
//! directory exactly as it was and nothing beside it. `BACKUPS_CANCEL_SEED=S` replays a run.

mod child;
mod common;

use std::time::{Duration, Instant};

use backups_models::{BackupStatus, ProgressStatus};
use backups_testkit::PseudoRandom;
use common::{EventStream, TestServer, beside, objects, pseudo_random, tree_contents};

const ROUNDS: usize = 6;
const DELAY: Duration = Duration::from_millis(15);

fn status(reply: &common::Reply) -> BackupStatus {
    assert_eq!(reply.status, 200, "{}", reply.text());
    serde_json::from_slice(&reply.body).expect("BackupStatus")
}

/// Runs a streamed operation at `path` and cancels it through `cancel` (with `{id}` for the id
/// from its first event) after `wait`. Returns the id, whether the cancel was accepted, and the
/// last event's status.
async fn cancel_after(
    t: &TestServer,
    path: &str,
    cancel: &str,
    wait: Duration,
) -> (String, bool, String) {
    let mut stream = EventStream::open(t.addr, path, b"").await;
    let first = stream.next().await.expect("first event");
    let id = first["backup"]["id"].as_str().expect("id").to_owned();
    tokio::time::sleep(wait).await;
    let reply = t.post(&cancel.replace("{id}", &id), &[], b"").await;
    let accepted = match reply.status {
        204 => true,
        500 => false,
        other => panic!("cancel answered {other}: {}", reply.text()),
    };
    let events = stream.rest().await;
    let last = events.last().expect("a last event")["status"]
        .as_str()
        .expect("status")
        .to_owned();
    (id, accepted, last)
}

/// How long an uninterrupted streamed operation at `path` takes.
async fn duration_of(t: &TestServer, path: &str) -> Duration {
    let started = Instant::now();
    let events = EventStream::open(t.addr, path, b"").await.rest().await;
    assert_eq!(events.last().expect("last")["status"], "COMPLETED");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canceled_create_leaves_nothing() {
    let seed = child::seed("BACKUPS_CANCEL_SEED");
    let mut rng = PseudoRandom::new(seed);
    let t = TestServer::start_with(|c| c.progress_delay = DELAY).await;
    let full = duration_of(&t, "/backups/create/streamed").await;
    let mut canceled = 0;
    for round in 0..ROUNDS {
        // New content, so that a create that got through would add objects.
        std::fs::write(
            t.dirs.data().join("big.bin"),
            pseudo_random(3 * 1024 * 1024, seed ^ round as u64),
        )
        .expect("write");
        let listed = t.ids().await;
        let stored = objects(t.dirs.store());
        let wait = Duration::from_micros(rng.below(full.as_micros() as u64 * 3 / 4));
        let (id, accepted, last) = cancel_after(
            &t,
            "/backups/create/streamed",
            "/backup/{id}/creation/cancel",
            wait,
        )
        .await;
        let final_status = status(&t.get(&format!("/backup/{id}/creation/status")).await);
        if accepted {
            canceled += 1;
            assert_eq!(last, "CANCELED", "round {round} (seed {seed})");
            assert_eq!(final_status.value, Some(ProgressStatus::Canceled));
            assert!(final_status.percentage.is_some());
            assert_eq!(t.ids().await, listed, "round {round}: nothing listed");
            assert_eq!(
                objects(t.dirs.store()),
                stored,
                "round {round}: no object kept"
            );
            assert_eq!(
                std::fs::read_dir(t.dirs.store().join("tmp"))
                    .expect("tmp")
                    .count(),
                0,
                "round {round}: no temporary file left"
            );
        } else {
            // Too late: it had committed, and completes.
            assert_eq!(last, "COMPLETED", "round {round}");
            assert_eq!(final_status.value, Some(ProgressStatus::Completed));
            assert_eq!(t.ids().await.first(), Some(&id));
        }
    }
    assert!(canceled > 0, "every cancel came too late (seed {seed})");
    assert!(
        backups_server::verify_store(t.dirs.store())
            .expect("verify")
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canceled_restore_leaves_the_data_directory_as_it_was() {
    let seed = child::seed("BACKUPS_CANCEL_SEED");
    let mut rng = PseudoRandom::new(seed);
    let t = TestServer::start_with(|c| c.progress_delay = DELAY).await;
    let backup = t.create().await;
    let id = backup["id"].as_str().expect("id").to_owned();
    let expected = tree_contents(t.dirs.data());
    let path = format!("/backup/{id}/restore/streamed");
    let full = duration_of(&t, &path).await;
    let mut canceled = 0;
    for round in 0..ROUNDS {
        std::fs::write(
            t.dirs.data().join(format!("round-{round}.txt")),
            pseudo_random(1000, seed ^ round as u64),
        )
        .expect("write");
        std::fs::write(t.dirs.data().join("a.txt"), format!("round {round}")).expect("write");
        let before = tree_contents(t.dirs.data());
        let wait = Duration::from_micros(rng.below(full.as_micros() as u64 * 3 / 4));
        let (_, accepted, last) =
            cancel_after(&t, &path, "/backup/{id}/restoration/cancel", wait).await;
        let final_status = status(&t.get(&format!("/backup/{id}/restoration/status")).await);
        if accepted {
            canceled += 1;
            assert_eq!(last, "CANCELED", "round {round} (seed {seed})");
            assert_eq!(final_status.value, Some(ProgressStatus::Canceled));
            assert_eq!(
                tree_contents(t.dirs.data()),
                before,
                "round {round}: untouched"
            );
        } else {
            assert_eq!(last, "COMPLETED", "round {round}");
            assert_eq!(
                tree_contents(t.dirs.data()),
                expected,
                "round {round}: restored"
            );
        }
        assert_eq!(beside(t.dirs.data(), &["store"]), Vec::<String>::new());
        assert!(!t.dirs.store().join("restore.json").exists());
    }
    assert!(canceled > 0, "every cancel came too late (seed {seed})");
    assert_eq!(t.ids().await, [id]);
}
