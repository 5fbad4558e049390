//! Inside an async runtime, the blocking client refuses with a typed error rather than stalling
//! or deadlocking the runtime.

use backups_blocking::{Client, Error};
use backups_testkit::BlockingServer;

fn assert_refused<T: std::fmt::Debug>(result: Result<T, Error>) {
    let err = result.expect_err("refused inside a runtime");
    let Error::InvalidRequest { reason } = &err else {
        panic!("not InvalidRequest: {err:?}");
    };
    assert!(reason.contains("async (Tokio) runtime"), "{reason}");
    assert!(reason.contains("backups_hyper::BackupsClient"), "{reason}");
}

#[test]
fn calls_refuse_inside_a_current_thread_runtime_and_work_again_outside() {
    let server = BlockingServer::start(&[("notes.txt", b"hello")], |_| {});
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // Building is allowed anywhere.
    let client = runtime
        .block_on(async { Client::builder().base_url(server.base_url()).build() })
        .expect("a client");
    runtime.block_on(async {
        assert_refused(client.list());
        assert_refused(client.create());
        assert_refused(client.create_streamed());
        assert_refused(client.watch_progress());
    });

    // An iterator opened outside refuses inside, once, then ends.
    let mut progress = client.create_streamed().expect("create_streamed");
    let mut progress = runtime.block_on(async move {
        assert_refused(progress.next().expect("an item"));
        assert!(progress.next().is_none());
        progress
    });
    assert!(progress.next().is_none());
    let progress = client.create_streamed().expect("create_streamed");
    runtime.block_on(async { assert_refused(progress.follow(|_| {})) });

    // Outside again, the same client works.
    client.list().expect("list");
    // Dropping it inside a runtime is fine too.
    runtime.block_on(async move { drop(client) });
}

#[test]
fn calls_refuse_on_a_multi_thread_worker_and_in_spawn_blocking() {
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("a client");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let on_worker = client.clone();
    runtime
        .block_on(runtime.spawn(async move { assert_refused(on_worker.list()) }))
        .expect("no panic");
    runtime
        .block_on(runtime.spawn_blocking(move || assert_refused(client.list())))
        .expect("no panic");
}

#[test]
fn discovery_refuses_inside_a_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let err = runtime
        .block_on(async { Client::discover() })
        .expect_err("refused");
    let backups_blocking::DiscoveryError::Client(err) = err else {
        panic!("not refused: {err}");
    };
    assert_refused::<()>(Err(err));
}
