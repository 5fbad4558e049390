//! The reference server answering `GET /backups` under load versus a canned hyper server, for
//! `cargo xtask bench`.
//!
//! - ours: the reference server in-process over a small data directory whose store holds 10
//!   backups (made through the API);
//! - the floor: a hyper 1 server (`http1::Builder::serve_connection`) answering every request
//!   with the same body bytes and the same headers the reference server sent for that listing:
//!   what answering costs in hyper alone.
//!
//! Each server runs on a runtime of its own with one worker thread; the load generator, on
//! another such runtime, holds 64 keep-alive connections to each (hyper's
//! `client::conn::http1`), each sending `GET /backups` one after another and reading the whole
//! body. Rounds alternate which server goes first, after a warm-up of each.
//!
//! - `list-serve-64`: requests per second over the 64 connections.
//!
//! Prints one JSON object per comparison on stdout.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use backups_hyper::BackupsClient;
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_LENGTH, DATE, HOST, USER_AGENT};
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

#[path = "../../../xtask/bench-support/emit.rs"]
mod emit;
#[path = "support/sample.rs"]
mod sample;
use emit::{Options, emit};
use sample::sample_dirs;

const NAME: &str = "list-serve-64";
const CONNECTIONS: usize = 64;

fn main() {
    let options = Options::from_env();
    let quick = options.quick;
    if !options.wants(NAME) {
        return;
    }
    let (rounds, per_connection) = if quick { (8, 200) } else { (30, 200) };

    // The reference server, started (and kept) on its own runtime.
    let server_runtime = one_thread_runtime();
    let dirs = sample_dirs();
    let server = server_runtime.block_on(dirs.start(|_| {})).expect("server");
    let ours_addr = server.local_addr();

    let load = one_thread_runtime();
    let (body, headers) = load.block_on(async {
        let client = BackupsClient::builder()
            .base_url(server.base_url().as_str())
            .build()
            .expect("client");
        for _ in 0..10 {
            client.create().await.expect("create");
        }
        assert_eq!(client.list().await.expect("list").len(), 10);
        // What the reference server sends for the listing, for the floor to send the same.
        let mut connection = connect(ours_addr).await;
        let response = connection
            .send_request(list_request(ours_addr))
            .await
            .expect("list");
        assert!(response.status().is_success());
        let mut headers = response.headers().clone();
        // hyper writes both itself, for each response, on either server.
        headers.remove(DATE);
        headers.remove(CONTENT_LENGTH);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (body, headers)
    });
    let floor_runtime = one_thread_runtime();
    let floor_addr = floor_runtime.block_on(start_floor(body.clone(), headers));

    let (ours_rps, floor_rps) = load.block_on(async {
        let mut ours = Load::open(ours_addr, body.len()).await;
        let mut floor = Load::open(floor_addr, body.len()).await;
        ours.round(per_connection).await;
        floor.round(per_connection).await;
        let mut ours_rps = Vec::new();
        let mut floor_rps = Vec::new();
        for round in 0..rounds {
            if round % 2 == 0 {
                ours_rps.push(ours.round(per_connection).await);
                floor_rps.push(floor.round(per_connection).await);
            } else {
                floor_rps.push(floor.round(per_connection).await);
                ours_rps.push(ours.round(per_connection).await);
            }
        }
        (ours_rps, floor_rps)
    });
    emit(
        NAME,
        "req/s",
        &ours_rps,
        &floor_rps,
        "higher",
        Some(0.8),
        &format!(
            "GET /backups (10 backups, {} bytes) over {CONNECTIONS} keep-alive connections; baseline a canned hyper server",
            body.len()
        ),
    );
    server_runtime
        .block_on(server.shutdown())
        .expect("shutdown");
}

fn one_thread_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn list_request(addr: SocketAddr) -> Request<Empty<Bytes>> {
    Request::get("/backups")
        .header(HOST, addr.to_string())
        .header(USER_AGENT, backups_proto::DEFAULT_USER_AGENT)
        .header(ACCEPT, "application/json")
        .body(Empty::new())
        .expect("request")
}

async fn connect(addr: SocketAddr) -> SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (send, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    send
}

/// The load generator's connections to one server.
struct Load {
    addr: SocketAddr,
    connections: Vec<SendRequest<Empty<Bytes>>>,
    body_len: usize,
}

impl Load {
    async fn open(addr: SocketAddr, body_len: usize) -> Load {
        let mut connections = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            connections.push(connect(addr).await);
        }
        Load {
            addr,
            connections,
            body_len,
        }
    }

    /// `per_connection` requests on each connection at once; requests per second.
    async fn round(&mut self, per_connection: usize) -> f64 {
        let start = Instant::now();
        let addr = self.addr;
        let body_len = self.body_len;
        let tasks: Vec<_> = self
            .connections
            .drain(..)
            .map(|mut send| {
                tokio::spawn(async move {
                    for _ in 0..per_connection {
                        let response = send.send_request(list_request(addr)).await.expect("send");
                        assert!(response.status().is_success());
                        let body = response.into_body().collect().await.expect("body");
                        assert_eq!(body.to_bytes().len(), body_len);
                    }
                    send
                })
            })
            .collect();
        for task in tasks {
            self.connections.push(task.await.expect("connection task"));
        }
        (CONNECTIONS * per_connection) as f64 / start.elapsed().as_secs_f64()
    }
}

/// The floor: hyper answering every request with `body` and `headers`, on the current runtime.
async fn start_floor(body: Bytes, headers: HeaderMap) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let headers = Arc::new(headers);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            // As the reference server does for every connection.
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            let headers = Arc::clone(&headers);
            tokio::spawn(async move {
                let service = service_fn(move |_request: Request<Incoming>| {
                    let mut response = Response::new(Full::new(body.clone()));
                    *response.headers_mut() = (*headers).clone();
                    async move { Ok::<_, Infallible>(response) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}
