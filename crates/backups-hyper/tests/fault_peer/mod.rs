//! A fault-injecting HTTP peer over raw TCP (deliberately not hyper): it reads each request,
//! counts it, and answers with exactly the bytes, pauses and cuts that a [`Fault`] names.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use backups_testkit::{backup_json, read_request};

/// What the peer does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Accepts, then resets the connection (SO_LINGER 0) before reading anything.
    ResetBeforeRead,
    /// Reads the request, then closes without a byte of answer.
    CloseBeforeAnswer,
    /// Sends the head and half the body, then resets the connection.
    ResetMidBody,
    /// Reads the request and never answers (the connection stays open).
    StallBeforeHeaders,
    /// Sends the head and half the body, then goes silent with the connection open.
    StallMidStream,
    /// Sends the whole answer, head included, one byte at a time.
    DripHead,
    /// Sends the head at once, then the body one byte at a time.
    DripBody,
    /// Declares half the body's length in `Content-Length`, sends all of it and closes.
    ShortContentLength,
    /// Declares twice the body's length in `Content-Length`, sends the body and closes.
    LongContentLength,
    /// A chunked body whose second chunk size line is not hexadecimal.
    BrokenChunked,
    /// Declares a 1 GiB body and writes until the client hangs up.
    OverLimitDeclared,
    /// A chunked body that never ends, written until the client hangs up.
    OverLimitChunked,
    /// An HTTP/1.0 answer without `Content-Length`: the body ends when the connection closes.
    Http10Complete,
    /// The same, with the connection closed halfway through the body.
    Http10Cut,
}

impl Fault {
    pub const ALL: [Fault; 14] = [
        Fault::ResetBeforeRead,
        Fault::CloseBeforeAnswer,
        Fault::ResetMidBody,
        Fault::StallBeforeHeaders,
        Fault::StallMidStream,
        Fault::DripHead,
        Fault::DripBody,
        Fault::ShortContentLength,
        Fault::LongContentLength,
        Fault::BrokenChunked,
        Fault::OverLimitDeclared,
        Fault::OverLimitChunked,
        Fault::Http10Complete,
        Fault::Http10Cut,
    ];
}

/// The pause between two bytes of a drip.
pub const DRIP_GAP: Duration = Duration::from_millis(2);

/// Counters shared with the connection tasks.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections accepted.
    pub connections: AtomicUsize,
    /// Request heads (and their `Content-Length` bodies) read whole, by path.
    pub requests: std::sync::Mutex<Vec<String>>,
    /// Response bytes written, body and head.
    pub written: AtomicU64,
    /// Whether a write failed because the client went away.
    pub write_failed: AtomicBool,
}

/// The peer. Dropping it stops it and every connection it holds.
pub struct FaultPeer {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl FaultPeer {
    pub async fn start(fault: Fault) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::on(listener, fault)
    }

    pub fn on(listener: TcpListener, fault: Fault) -> Self {
        let addr = listener.local_addr().expect("addr");
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn({
            let counters = counters.clone();
            async move {
                // Owned here, so aborting this task aborts every connection too.
                let mut connections = JoinSet::new();
                while let Ok((stream, _)) = listener.accept().await {
                    counters.connections.fetch_add(1, Ordering::SeqCst);
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve(stream, fault, counters.clone()));
                    while connections.try_join_next().is_some() {}
                }
            }
        });
        Self {
            addr,
            counters,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<String> {
        self.counters.requests.lock().expect("lock").clone()
    }

    pub fn requests_to(&self, path: &str) -> usize {
        self.requests().iter().filter(|p| *p == path).count()
    }

    pub fn written(&self) -> u64 {
        self.counters.written.load(Ordering::SeqCst)
    }

    pub fn write_failed(&self) -> bool {
        self.counters.write_failed.load(Ordering::SeqCst)
    }
}

impl Drop for FaultPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A progress stream of three events, the last one finished.
fn progress_stream(id: &str) -> Vec<u8> {
    format!(
        "{}\n{}\n{}\n",
        r#"{"status":"INITIALIZED","percentage":0}"#,
        r#"{"status":"IN-PROGRESS","percentage":50}"#,
        format_args!(
            r#"{{"status":"COMPLETED","percentage":100,"backup":{}}}"#,
            backup_json(id)
        )
    )
    .into_bytes()
}

/// Whether `path` answers a progress stream.
pub fn is_streamed(path: &str) -> bool {
    path.ends_with("/streamed")
}

/// What a well-behaved server would answer to `path`: status, content type, body.
pub fn good_answer(path: &str) -> (u16, &'static str, Vec<u8>) {
    let json = |body: String| (200, "application/json", body.into_bytes());
    match path {
        "/backups" => json(format!(
            r#"{{"iterable":[{},{}],"indices":{{"a":0,"b":1}}}}"#,
            backup_json("a"),
            backup_json("b")
        )),
        "/backups/create" => json(backup_json("new")),
        path if is_streamed(path) => (200, "application/x-ndjson", progress_stream("streamed")),
        path if path.ends_with("/status") => json(format!(
            r#"{{"backup":{},"value":"COMPLETED","percentage":100}}"#,
            backup_json("a")
        )),
        // `/backup/asset` is no backup's path: it answers 204, as `/backup` does.
        path if path.starts_with("/backup/")
            && !path.ends_with("/cancel")
            && path != "/backup/asset" =>
        {
            json(backup_json("a"))
        }
        // A delete, a cancel or an asset backup answers 204 without a body; an error answer
        // gives the faults a body to spoil.
        _ => (
            500,
            "text/plain",
            format!("Internal error: {}", "the store is unavailable; ".repeat(8)).into_bytes(),
        ),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        _ => "Internal Server Error",
    }
}

struct Writer<'a> {
    stream: &'a mut TcpStream,
    counters: &'a Counters,
}

impl Writer<'_> {
    async fn put(&mut self, bytes: &[u8]) -> bool {
        match self.stream.write_all(bytes).await {
            Ok(()) => {
                self.counters
                    .written
                    .fetch_add(bytes.len() as u64, Ordering::SeqCst);
                true
            }
            Err(_) => {
                self.counters.write_failed.store(true, Ordering::SeqCst);
                false
            }
        }
    }

    async fn drip(&mut self, bytes: &[u8]) -> bool {
        for byte in bytes {
            if !self.put(std::slice::from_ref(byte)).await {
                return false;
            }
            tokio::time::sleep(DRIP_GAP).await;
        }
        true
    }

    /// Writes `fill` until the client stops reading.
    async fn flood(&mut self, fill: &[u8], chunked: bool) {
        let mut framed = Vec::new();
        if chunked {
            framed.extend_from_slice(format!("{:x}\r\n", fill.len()).as_bytes());
        }
        framed.extend_from_slice(fill);
        if chunked {
            framed.extend_from_slice(b"\r\n");
        }
        // Ends when the client has hung up; the bound only stops a client that reads forever.
        for _ in 0..(1u64 << 30) / fill.len() as u64 {
            if !self.put(&framed).await {
                return;
            }
        }
    }
}

fn head(version: &str, status: u16, content_type: &str, framing: &str) -> Vec<u8> {
    format!(
        "{version} {status} {}\r\nContent-Type: {content_type}\r\n{framing}\r\n",
        reason(status)
    )
    .into_bytes()
}

/// Drops the connection with a RST instead of a FIN.
// A zero linger time resets at once: the blocking on drop that the deprecation warns of is for a
// non-zero time.
#[allow(deprecated)]
fn reset(stream: TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

async fn serve(mut stream: TcpStream, fault: Fault, counters: Arc<Counters>) {
    if fault == Fault::ResetBeforeRead {
        reset(stream);
        return;
    }
    let Ok(request) = read_request(&mut stream).await else {
        return;
    };
    let path = request.path;
    counters.requests.lock().expect("lock").push(path.clone());
    let (status, content_type, body) = good_answer(&path);
    let half = body.len() / 2;
    let close = "Connection: close\r\n";
    let mut w = Writer {
        stream: &mut stream,
        counters: &counters,
    };
    match fault {
        Fault::ResetBeforeRead => unreachable!(),
        Fault::CloseBeforeAnswer => {}
        Fault::ResetMidBody => {
            let framing = format!("Content-Length: {}\r\n", body.len());
            w.put(&head("HTTP/1.1", status, content_type, &framing))
                .await;
            w.put(&body[..half]).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            reset(stream);
            return;
        }
        Fault::StallBeforeHeaders => tokio::time::sleep(Duration::from_secs(60)).await,
        Fault::StallMidStream => {
            let framing = format!("Content-Length: {}\r\n", body.len());
            w.put(&head("HTTP/1.1", status, content_type, &framing))
                .await;
            w.put(&body[..half]).await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Fault::DripHead => {
            // A head long enough that dripping it outlasts any test bound: even a client starved
            // of CPU for a while cannot find it whole in its socket buffer before its deadline.
            let padding = "x".repeat(2000);
            let framing = format!(
                "X-Padding: {padding}\r\nContent-Length: {}\r\n{close}",
                body.len()
            );
            let mut all = head("HTTP/1.1", status, content_type, &framing);
            all.extend_from_slice(&body);
            w.drip(&all).await;
        }
        Fault::DripBody => {
            let framing = format!("Content-Length: {}\r\n{close}", body.len());
            w.put(&head("HTTP/1.1", status, content_type, &framing))
                .await;
            w.drip(&body).await;
        }
        Fault::ShortContentLength => {
            let framing = format!("Content-Length: {half}\r\n");
            w.put(&head("HTTP/1.1", status, content_type, &framing))
                .await;
            w.put(&body).await;
        }
        Fault::LongContentLength => {
            let framing = format!("Content-Length: {}\r\n", body.len() * 2);
            w.put(&head("HTTP/1.1", status, content_type, &framing))
                .await;
            w.put(&body).await;
        }
        Fault::BrokenChunked => {
            let framing = "Transfer-Encoding: chunked\r\n";
            w.put(&head("HTTP/1.1", status, content_type, framing))
                .await;
            let mut chunk = format!("{half:x}\r\n").into_bytes();
            chunk.extend_from_slice(&body[..half]);
            chunk.extend_from_slice(b"\r\nzz-not-hex\r\n");
            chunk.extend_from_slice(&body[half..]);
            w.put(&chunk).await;
            // Keep the connection open: the client must fail on the bytes, not on a close.
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Fault::OverLimitDeclared | Fault::OverLimitChunked => {
            let chunked = fault == Fault::OverLimitChunked;
            let framing = if chunked {
                "Transfer-Encoding: chunked\r\n".to_owned()
            } else {
                format!("Content-Length: {}\r\n", 1u64 << 30)
            };
            w.put(&head("HTTP/1.1", status, content_type, &framing))
                .await;
            if is_streamed(&path) {
                // One progress event that never ends.
                w.put(if chunked {
                    b"b\r\n{\"status\":\"\r\n"
                } else {
                    b"{\"status\":\""
                })
                .await;
            }
            w.flood(&[b'x'; 16 * 1024], chunked).await;
        }
        Fault::Http10Complete => {
            let (status, body) = if status == 500 {
                (204, Vec::new())
            } else {
                (status, body)
            };
            w.put(&head("HTTP/1.0", status, content_type, "")).await;
            w.put(&body).await;
        }
        Fault::Http10Cut => {
            w.put(&head("HTTP/1.0", status, content_type, "")).await;
            w.put(&body[..half]).await;
        }
    }
    let _ = stream.shutdown().await;
}
