//! A transport that is not hyper, checked by the conformance suite.
//!
//! `StdNetTransport` speaks HTTP/1.1 over a blocking `std::net::TcpStream` on a thread of its
//! own per request, and hands the body to the async side chunk by chunk through a channel
//! (decoding `Content-Length`, chunked and read-to-close bodies). It is about as small as a
//! correct transport gets; `check_transport` runs every recorded case through it against a local
//! replay server and prints the table.
//!
//! Run it with `cargo run -p backups-conformance --example std_net_transport`.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame};
use tokio::sync::{mpsc, oneshot};

use backups_proto::{Error, Operation, Transport, TransportKind};

/// A blocking HTTP/1.1 transport on `std::net`, one connection per request.
#[derive(Debug, Clone)]
pub struct StdNetTransport {
    timeout: Duration,
}

impl Default for StdNetTransport {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
        }
    }
}

/// The response body: chunks as the reading thread decodes them.
#[derive(Debug)]
pub struct StdNetBody {
    chunks: mpsc::Receiver<Result<Bytes, io::Error>>,
    operation: Operation,
}

impl Body for StdNetBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match self.chunks.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            // A body cut short is Truncated (docs/transports.md): never silent, never retried.
            Poll::Ready(Some(Err(err))) if err.kind() == io::ErrorKind::UnexpectedEof => {
                Poll::Ready(Some(Err(Error::Truncated {
                    operation: self.operation,
                    detail: format!("the connection closed before the body was complete: {err}"),
                })))
            }
            Poll::Ready(Some(Err(err))) => {
                Poll::Ready(Some(Err(Error::transport(TransportKind::Io, err))))
            }
        }
    }
}

type Head = Result<Response<()>, Error>;

impl Transport for StdNetTransport {
    type Body = StdNetBody;

    async fn send(&self, request: Request<Bytes>) -> Result<Response<StdNetBody>, Error> {
        let operation = request
            .extensions()
            .get::<Operation>()
            .copied()
            .unwrap_or(Operation::List);
        let (head_tx, head_rx) = oneshot::channel::<Head>();
        let (body_tx, body_rx) = mpsc::channel(16);
        let timeout = self.timeout;
        // Blocking IO belongs on a thread of its own, never on the runtime's workers.
        std::thread::spawn(move || exchange(request, timeout, head_tx, body_tx));
        let head = head_rx
            .await
            .map_err(|_| Error::transport(TransportKind::Io, "the connection thread died"))??;
        let (parts, ()) = head.into_parts();
        Ok(Response::from_parts(
            parts,
            StdNetBody {
                chunks: body_rx,
                operation,
            },
        ))
    }

    /// A thread sleeps, so that waiting needs nothing of the runtime either.
    fn sleep(&self, duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        let (done_tx, done_rx) = oneshot::channel::<()>();
        std::thread::spawn(move || {
            std::thread::sleep(duration);
            let _ = done_tx.send(());
        });
        Some(async move {
            let _ = done_rx.await;
        })
    }
}

fn exchange(
    request: Request<Bytes>,
    timeout: Duration,
    head_tx: oneshot::Sender<Head>,
    body_tx: mpsc::Sender<Result<Bytes, io::Error>>,
) {
    let authority = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let stream = match TcpStream::connect(&authority) {
        Ok(stream) => stream,
        Err(err) => {
            let _ = head_tx.send(Err(Error::transport(TransportKind::Connect, err)));
            return;
        }
    };
    let io = |err: io::Error| Error::transport(TransportKind::Io, err);
    let result = (|| {
        stream.set_read_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        write_request(&stream, &request, &authority)?;
        let mut reader = BufReader::new(stream);
        let (response, framing) = read_head(&mut reader)?;
        Ok::<_, io::Error>((reader, response, framing))
    })();
    let (mut reader, response, framing) = match result {
        Ok(parts) => parts,
        Err(err) => {
            let _ = head_tx.send(Err(io(err)));
            return;
        }
    };
    if head_tx.send(Ok(response)).is_err() {
        return;
    }
    if let Err(err) = read_body(&mut reader, framing, &body_tx) {
        let _ = body_tx.blocking_send(Err(err));
    }
}

fn write_request(
    mut stream: &TcpStream,
    request: &Request<Bytes>,
    authority: &str,
) -> io::Result<()> {
    let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let mut head = format!("{} {target} HTTP/1.1\r\n", request.method());
    // The SDK's requests carry `Host`; any other request gets one here.
    if !request.headers().contains_key(http::header::HOST) {
        head.push_str(&format!("host: {authority}\r\n"));
    }
    for (name, value) in request.headers() {
        let value = value
            .to_str()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a header is not text"))?;
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    // The request carries its own Content-Length (the SDK sets it on every POST).
    head.push_str("connection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(request.body())?;
    stream.flush()
}

enum Framing {
    Length(usize),
    Chunked,
    ToClose,
    None,
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

fn line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the connection closed",
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn read_head(reader: &mut impl BufRead) -> io::Result<(Response<()>, Framing)> {
    loop {
        let status_line = line(reader)?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("not a status line"))?;
        let mut response = Response::builder().status(status);
        let mut framing = Framing::ToClose;
        loop {
            let header = line(reader)?;
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').ok_or_else(|| bad("not a header"))?;
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("transfer-encoding") && value.contains("chunked") {
                framing = Framing::Chunked;
            } else if name.eq_ignore_ascii_case("content-length")
                && !matches!(framing, Framing::Chunked)
            {
                framing = Framing::Length(value.parse().map_err(|_| bad("bad content-length"))?);
            }
            response = response.header(name, value);
        }
        if (100..200).contains(&status) {
            continue;
        }
        if status == 204 || status == 304 {
            framing = Framing::None;
        }
        let response = response.body(()).map_err(|_| bad("bad response head"))?;
        return Ok((response, framing));
    }
}

fn read_body(
    reader: &mut impl BufRead,
    framing: Framing,
    tx: &mpsc::Sender<Result<Bytes, io::Error>>,
) -> io::Result<()> {
    let send = |chunk: Vec<u8>| {
        // The receiver is gone when the caller dropped the response: stop reading quietly.
        tx.blocking_send(Ok(chunk.into()))
            .map_err(|_| io::Error::other("body dropped"))
    };
    match framing {
        Framing::None => Ok(()),
        Framing::Length(mut left) => {
            while left > 0 {
                let mut buf = vec![0; left.min(64 * 1024)];
                let n = reader.read(&mut buf)?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the body ended early",
                    ));
                }
                buf.truncate(n);
                left -= n;
                send(buf)?;
            }
            Ok(())
        }
        Framing::Chunked => loop {
            let size_line = line(reader)?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                while !line(reader)?.is_empty() {}
                return Ok(());
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            if !line(reader)?.is_empty() {
                return Err(bad("a chunk does not end with CRLF"));
            }
            send(chunk)?;
        },
        Framing::ToClose => loop {
            let mut buf = vec![0; 64 * 1024];
            let n = reader.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            buf.truncate(n);
            send(buf)?;
        },
    }
}

#[tokio::main]
async fn main() {
    let report = backups_conformance::check_transport(StdNetTransport::default()).await;
    println!("{}", report.table());
    for failure in report.failures() {
        println!("FAILED {}: {}", failure.case, failure.detail);
    }
    std::process::exit(if report.passed() { 0 } else { 1 });
}
