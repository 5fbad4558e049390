//! A transport that is not hyper, checked by the conformance suite.
//!
//! `StdNetTransport` speaks HTTP/1.1 over a blocking `std::net::TcpStream` on a thread of its
//! own per request, and hands the body to the async side chunk by chunk through a channel
//! (decoding `Content-Length`, chunked and read-to-close bodies). It is about as small as a
//! correct transport gets; `check_transport` runs every recorded case through it against a local
//! replay server and prints the table.
//!
//! It implements the WebSocket channels too (`SocketTransport`): the handshake with the same
//! HTTP/1.1 code, then the `tungstenite` crate's blocking WebSocket on the connection, read on a
//! thread of its own with the transport's timeout as the idle timeout.
//!
//! Run it with `cargo run -p backups-conformance --example std_net_transport`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::Stream;
use http::{Request, Response};
use http_body::{Body, Frame};
use tokio::sync::{mpsc, oneshot};
use tungstenite::protocol::{Role, WebSocket};

use backups_proto::{
    Error, Handshake, Message, Operation, SocketTransport, TimeoutKind, Transport, TransportKind,
};

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

impl StdNetTransport {
    /// A transport whose reads, and WebSockets' silences, time out after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self { timeout }
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
    // The request carries its own Content-Length (the SDK sets it on every POST), and a
    // WebSocket handshake its own `Connection: Upgrade`.
    if !request.headers().contains_key(http::header::CONNECTION) {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
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
        // An interim answer (100 Continue) is skipped; 101 is the last one on this connection.
        if (100..200).contains(&status) && status != 101 {
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

/// A WebSocket: the messages the reading thread receives; dropping it closes the socket.
#[derive(Debug)]
pub struct StdNetSocket {
    messages: mpsc::Receiver<Result<Message, Error>>,
    closing: Arc<AtomicBool>,
}

impl Stream for StdNetSocket {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.messages.poll_recv(cx)
    }
}

impl Drop for StdNetSocket {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::SeqCst);
    }
}

/// How often the reading thread looks up from a silent socket (to see a drop or the timeout).
const TICK: Duration = Duration::from_millis(50);

impl SocketTransport for StdNetTransport {
    type Socket = StdNetSocket;

    async fn connect(
        &self,
        mut request: Request<Bytes>,
        first: Option<String>,
    ) -> Result<Handshake<StdNetSocket>, Error> {
        let operation = request
            .extensions()
            .get::<Operation>()
            .copied()
            .unwrap_or(Operation::WatchProgress);
        let key = tungstenite::handshake::client::generate_key();
        request.headers_mut().insert(
            "sec-websocket-key",
            key.parse()
                .map_err(|err| Error::transport(TransportKind::Io, err))?,
        );
        let (head_tx, head_rx) = oneshot::channel();
        let (messages_tx, messages) = mpsc::channel(16);
        let closing = Arc::new(AtomicBool::new(false));
        let idle = self.timeout;
        let flag = Arc::clone(&closing);
        std::thread::spawn(move || match handshake(&request, &key, first, idle) {
            Ok(Ok(ws)) => {
                if head_tx.send(Ok(None)).is_ok() {
                    read_socket(ws, operation, idle, &messages_tx, &flag);
                }
            }
            Ok(Err(refused)) => {
                let _ = head_tx.send(Ok(Some(refused)));
            }
            Err(err) => {
                let _ = head_tx.send(Err(err));
            }
        });
        let head = head_rx
            .await
            .map_err(|_| Error::transport(TransportKind::Io, "the connection thread died"))??;
        Ok(match head {
            Some(refused) => Handshake::Refused(refused),
            None => Handshake::Upgraded(StdNetSocket { messages, closing }),
        })
    }
}

/// Sends the handshake and reads its answer: the socket, its first message sent, or the whole
/// refusal.
fn handshake(
    request: &Request<Bytes>,
    key: &str,
    first: Option<String>,
    timeout: Duration,
) -> Result<Result<WebSocket<TcpStream>, Response<Bytes>>, Error> {
    let authority = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let stream = TcpStream::connect(&authority)
        .map_err(|err| Error::transport(TransportKind::Connect, err))?;
    let io = |err: io::Error| Error::transport(TransportKind::Io, err);
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_nodelay(true).map_err(io)?;
    write_request(&stream, request, &authority).map_err(io)?;
    let mut reader = BufReader::new(stream);
    let (head, framing) = read_head(&mut reader).map_err(io)?;
    if head.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        let body = match framing {
            Framing::Length(length) => {
                let mut body = vec![0; length];
                reader.read_exact(&mut body).map_err(io)?;
                body
            }
            Framing::None => Vec::new(),
            Framing::ToClose | Framing::Chunked => {
                let mut body = Vec::new();
                reader.read_to_end(&mut body).map_err(io)?;
                body
            }
        };
        let (parts, ()) = head.into_parts();
        return Ok(Err(Response::from_parts(parts, Bytes::from(body))));
    }
    let accept = head
        .headers()
        .get("sec-websocket-accept")
        .and_then(|v| v.to_str().ok());
    if accept != Some(&tungstenite::handshake::derive_accept_key(key.as_bytes())) {
        return Err(Error::transport(
            TransportKind::Io,
            format!("the 101 carries a wrong Sec-WebSocket-Accept: {accept:?}"),
        ));
    }
    let buffered = reader.buffer().to_vec();
    let stream = reader.into_inner();
    let mut ws = WebSocket::from_partially_read(stream, buffered, Role::Client, None);
    if let Some(first) = first {
        ws.send(tungstenite::Message::text(first))
            .map_err(|err| Error::transport(TransportKind::Io, err))?;
    }
    // From now on reads look up every tick, to notice a drop and count the silence.
    ws.get_ref().set_read_timeout(Some(TICK)).map_err(io)?;
    Ok(Ok(ws))
}

/// Hands each message over until the socket ends, is dropped, or stays silent for `idle`.
fn read_socket(
    mut ws: WebSocket<TcpStream>,
    operation: Operation,
    idle: Duration,
    tx: &mpsc::Sender<Result<Message, Error>>,
    closing: &AtomicBool,
) {
    let mut silent = Duration::ZERO;
    let close = |ws: &mut WebSocket<TcpStream>| {
        let _ = ws.close(None);
        // Read on until the peer's answer, briefly.
        for _ in 0..20 {
            if ws.read().is_err() {
                break;
            }
        }
    };
    loop {
        if closing.load(Ordering::SeqCst) || tx.is_closed() {
            return close(&mut ws);
        }
        let item = match ws.read() {
            Ok(tungstenite::Message::Text(text)) => {
                Ok(Message::Text(Bytes::copy_from_slice(text.as_bytes())))
            }
            Ok(tungstenite::Message::Binary(bytes)) => Ok(Message::Binary(bytes)),
            Ok(tungstenite::Message::Close(frame)) => {
                let code = frame.map(|frame| u16::from(frame.code));
                let _ = tx.blocking_send(Ok(Message::Close(code)));
                // tungstenite answers the close; read until it is done.
                while ws.read().is_ok() {}
                return;
            }
            Ok(_) => {
                // A ping: tungstenite queued the pong, send it.
                let _ = ws.flush();
                continue;
            }
            Err(tungstenite::Error::Io(err))
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                silent += TICK;
                if silent < idle {
                    continue;
                }
                let _ = tx.blocking_send(Err(Error::Timeout {
                    operation: Some(operation),
                    kind: TimeoutKind::Idle,
                }));
                return close(&mut ws);
            }
            Err(err) => {
                // The connection ended without a close frame: cut short, as a body would be.
                let _ = tx.blocking_send(Err(Error::Truncated {
                    operation,
                    detail: format!("the connection closed without a close frame: {err}"),
                }));
                return;
            }
        };
        silent = Duration::ZERO;
        if tx.blocking_send(item).is_err() {
            return close(&mut ws);
        }
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
