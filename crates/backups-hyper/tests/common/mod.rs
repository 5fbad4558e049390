//! A small, scriptable HTTP server for the integration tests: canned status, headers and body,
//! bodies in chunks with delays, stalls and aborts, and a record of every request.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part of it.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Response};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use backups_testkit::read_request;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    /// Path and query exactly as sent (still percent-encoded).
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One step of a response body.
#[derive(Debug, Clone)]
pub enum Part {
    /// Send these bytes as one chunk.
    Data(Bytes),
    /// Wait before the next step.
    Delay(Duration),
    /// Send nothing more, but keep the connection open (for a long while).
    Stall,
    /// Cut the connection.
    Abort,
}

/// A canned response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub parts: Vec<Part>,
    /// Wait this long before sending the head.
    pub head_delay: Option<Duration>,
}

impl Reply {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            parts: Vec::new(),
            head_delay: None,
        }
    }

    /// A whole JSON body with its Content-Length.
    pub fn json(status: u16, body: &str) -> Self {
        Self::new(status)
            .header("content-type", "application/json")
            .whole(body.as_bytes())
    }

    /// A whole `text/plain; charset=utf-8` body, as Pieces OS sends its errors.
    pub fn text(status: u16, body: &str) -> Self {
        Self::new(status)
            .header("content-type", "text/plain; charset=utf-8")
            .whole(body.as_bytes())
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The body in one chunk, with its Content-Length.
    pub fn whole(self, body: &[u8]) -> Self {
        let length = body.len().to_string();
        self.header("content-length", &length)
            .part(Part::Data(Bytes::copy_from_slice(body)))
    }

    pub fn part(mut self, part: Part) -> Self {
        self.parts.push(part);
        self
    }

    /// The body cut into chunks of the given sizes (the rest in a last chunk), `gap` apart,
    /// sent chunked (no Content-Length).
    pub fn chunked(mut self, body: &[u8], sizes: &[usize], gap: Duration) -> Self {
        let mut rest = body;
        for &size in sizes.iter().chain(std::iter::repeat(&usize::MAX)) {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at(size.min(rest.len()));
            self.parts.push(Part::Data(Bytes::copy_from_slice(chunk)));
            self.parts.push(Part::Delay(gap));
            rest = tail;
        }
        self
    }

    pub fn head_delay(mut self, delay: Duration) -> Self {
        self.head_delay = Some(delay);
        self
    }
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A hyper server on 127.0.0.1 answering every request with its handler's reply.
pub struct TestServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Starts on an ephemeral port.
    pub async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::on(listener, handler)
    }

    /// Serves on `listener`.
    pub fn on(
        listener: TcpListener,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let addr = listener.local_addr().expect("local addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = tokio::spawn({
            let seen = seen.clone();
            let connections = connections.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    let seen = seen.clone();
                    let handler = handler.clone();
                    let service =
                        service_fn(move |request: http::Request<hyper::body::Incoming>| {
                            let seen = seen.clone();
                            let handler = handler.clone();
                            async move {
                                let (parts, body) = request.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                let request = Seen {
                                    method: parts.method,
                                    path: parts
                                        .uri
                                        .path_and_query()
                                        .map_or_else(String::new, |p| p.to_string()),
                                    headers: parts.headers,
                                    body,
                                };
                                let reply = handler(&request);
                                seen.lock().expect("lock").push(request);
                                Ok::<_, Infallible>(respond(reply).await)
                            }
                        });
                    tokio::spawn(async move {
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        });
        Self {
            addr,
            seen,
            connections,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    pub fn request_count(&self) -> usize {
        self.seen.lock().expect("lock").len()
    }

    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn respond(reply: Reply) -> Response<ChannelBody> {
    if let Some(delay) = reply.head_delay {
        tokio::time::sleep(delay).await;
    }
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        for part in reply.parts {
            match part {
                Part::Data(data) => {
                    if tx.send(Ok(Frame::data(data))).await.is_err() {
                        return;
                    }
                }
                Part::Delay(delay) => tokio::time::sleep(delay).await,
                Part::Stall => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
                Part::Abort => {
                    let _ = tx.send(Err(io::Error::other("aborted by the test"))).await;
                    return;
                }
            }
        }
    });
    let mut response = Response::new(ChannelBody(rx));
    *response.status_mut() = http::StatusCode::from_u16(reply.status).expect("status");
    for (name, value) in reply.headers {
        response.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            http::HeaderValue::from_str(&value).expect("value"),
        );
    }
    response
}

/// A response body fed by a channel, so the test decides when each chunk goes out.
pub struct ChannelBody(mpsc::Receiver<Result<Frame<Bytes>, io::Error>>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.0.poll_recv(cx)
    }
}

/// A raw TCP server that reads each request whole, counts it, then closes the connection
/// without answering.
pub struct HangUpServer {
    pub addr: SocketAddr,
    count: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl HangUpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let count = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let count = count.clone();
            async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let count = count.clone();
                    tokio::spawn(async move {
                        if read_request(&mut stream).await.is_ok() {
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        let _ = stream.shutdown().await;
                    });
                }
            }
        });
        Self { addr, count, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn request_count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for HangUpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}
