//! The blocking client works from any thread, inside async runtimes too: a `spawn_blocking`
//! closure (how async code calls blocking code), a thread with an entered runtime handle, and
//! even a runtime's own worker (which it blocks for the call, as `std::fs` would). It has no
//! runtime of its own to clash with.

use std::time::Duration;

use backups_blocking::Client;
use backups_testkit::BlockingServer;

fn client(server: &BlockingServer) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .build()
        .expect("a client")
}

/// Every kind of call: plain, a plain create (its own thread and the status polls' timers),
/// a stream read to its end, a socket.
fn every_kind_of_call(client: &Client) {
    let before = client.list().expect("list").len();
    let made = client.create().expect("create");
    let streamed = client
        .create_streamed()
        .expect("create_streamed")
        .follow(|_| {})
        .expect("followed");
    let over_socket = client
        .restore_over_websocket(&made)
        .expect("restore_over_websocket")
        .finish(|_| {})
        .expect("restored");
    assert_eq!(over_socket.id, made.id);
    let listed = client.list().expect("list");
    assert_eq!(listed.len(), before + 2);
    assert!(listed.iter().any(|backup| backup.id == streamed.id));
}

#[test]
fn calls_work_in_spawn_blocking_of_a_multi_thread_runtime() {
    let server = BlockingServer::start(&[("notes.txt", b"hello")], |_| {});
    let client = client(&server);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime
        .block_on(runtime.spawn_blocking(move || every_kind_of_call(&client)))
        .expect("no panic");
}

#[test]
fn calls_work_on_a_thread_with_an_entered_runtime() {
    let server = BlockingServer::start(&[("notes.txt", b"hello")], |_| {});
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let _entered = runtime.enter();
    every_kind_of_call(&client(&server));
}

#[test]
fn calls_work_inside_block_on_and_on_a_worker_blocking_it_meanwhile() {
    let server = BlockingServer::start(&[("notes.txt", b"hello")], |_| {});
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // A current-thread runtime cannot deadlock the call: nothing of the call runs on it.
    let blocking = client(&server);
    current.block_on(async move { every_kind_of_call(&blocking) });

    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let on_worker = client(&server);
    let ticks = multi.spawn(async {
        // Another task goes on on the other worker meanwhile.
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    multi
        .block_on(multi.spawn(async move { every_kind_of_call(&on_worker) }))
        .expect("no panic");
    multi.block_on(ticks).expect("the other task ran");
}
