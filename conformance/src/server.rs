//! [`ReplayServer`]: the recorded responses served over real HTTP/1.1 on `127.0.0.1`, so that a
//! transport that is a whole HTTP stack can be checked end to end.

use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocket};

use crate::case::{Case, Exchange, ReplayMessage, SocketScript, SocketStep};
use crate::http1;
use crate::matching::{Mismatch, SeenMessage, SeenRequest, differences, message_difference};
use crate::replay::ReplayError;

/// How long the server waits for a message the client must send, or for the client to close a
/// socket the server is done with (a stalled one included).
const SOCKET_WAIT: Duration = Duration::from_secs(20);
/// The pause between two TCP segments of a split frame, so that the client reads them apart.
const SEGMENT_PAUSE: Duration = Duration::from_millis(20);
/// How long [`ReplayServer::finish_case`] waits for the case's sockets to end.
const FINISH_WAIT: Duration = Duration::from_secs(30);

/// A blocking HTTP/1.1 server on `127.0.0.1:0` that answers with a case's recorded responses.
///
/// Load a case with [`play`](Self::play), point a client at [`base_url`](Self::base_url), then
/// call [`finish_case`](Self::finish_case) to learn whether every request matched. Each recorded
/// chunk goes out as its own HTTP chunk, flushed, so the client's transport sees the recorded
/// boundaries (as far as TCP keeps them). A request that does not match is answered with
/// `400 Bad Request` carrying the diff, and remembered. Connections are kept alive, one thread
/// each, so a pooling client works. The server stops when dropped.
#[derive(Debug)]
pub struct ReplayServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when a socket session ends.
    ended: Condvar,
    stop: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    case: String,
    /// Bumped by every `play`, so that a socket of an earlier case reports nothing into this one.
    generation: u64,
    exchanges: Vec<Exchange>,
    next: usize,
    mismatches: Vec<Mismatch>,
    /// The WebSocket sessions of this case still running.
    sessions: usize,
}

impl ReplayServer {
    /// Starts the server on an ephemeral port of `127.0.0.1`.
    pub fn start() -> io::Result<ReplayServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("replay-server".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept_shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = Arc::clone(&accept_shared);
                    // A connection error only ends that connection; the case report shows any
                    // exchange it left unused.
                    let _ = std::thread::Builder::new()
                        .name("replay-conn".into())
                        .spawn(move || {
                            let _ = serve(stream, &shared);
                        });
                }
            })?;
        Ok(ReplayServer {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `case` from now on, forgetting any earlier one.
    pub fn play(&self, case: &Case) {
        let mut state = self.shared.lock();
        *state = State {
            case: case.name.clone(),
            generation: state.generation + 1,
            exchanges: case.served(),
            next: 0,
            mismatches: Vec::new(),
            sessions: 0,
        };
    }

    /// Reports the requests that did not match and the exchanges not requested, for the case
    /// being played. It first waits for the case's WebSockets to end (the server reads a
    /// socket until the client closes it), so that a message checked late is not lost.
    pub fn finish_case(&self) -> Result<(), ReplayError> {
        let deadline = Instant::now() + FINISH_WAIT;
        let mut state = self.shared.lock();
        while state.sessions > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let mismatch = Mismatch {
                    case: state.case.clone(),
                    exchange: state.next.saturating_sub(1),
                    differences: vec![format!(
                        "the client kept a WebSocket open {FINISH_WAIT:?} after the case"
                    )],
                };
                state.mismatches.push(mismatch);
                break;
            }
            state = self
                .shared
                .ended
                .wait_timeout(state, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poison| poison.into_inner().0);
        }
        let unused: Vec<String> = state.exchanges[state.next.min(state.exchanges.len())..]
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    e.call.operation(),
                    e.request.method,
                    e.request.path_and_query
                )
            })
            .collect();
        if state.mismatches.is_empty() && unused.is_empty() {
            Ok(())
        } else {
            Err(ReplayError {
                case: state.case.clone(),
                mismatches: state.mismatches.clone(),
                unused,
            })
        }
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// What the server does with one request.
enum Answer {
    Replay(crate::case::RecordedResponse),
    Refuse(String),
    Upgrade(Session),
}

/// A WebSocket exchange whose handshake matched: what to play after the `101`.
struct Session {
    key: String,
    headers: Vec<(String, String)>,
    script: SocketScript,
    exchange: usize,
    generation: u64,
}

fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = http1::read_request(&mut reader)? {
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        match answer(shared, &request) {
            Answer::Upgrade(session) => {
                // The client sends nothing before the `101`, but keep whatever was read.
                let buffered = reader.buffer().to_vec();
                let stream = reader.into_inner();
                let result = play_socket(stream, buffered, &session, shared);
                let mut state = shared.lock();
                if state.generation == session.generation {
                    state.sessions -= 1;
                }
                drop(state);
                shared.ended.notify_all();
                return result;
            }
            Answer::Replay(recorded) => {
                http1::write_response(
                    &mut writer,
                    recorded.status,
                    &recorded.headers,
                    &recorded.chunks,
                    recorded.abort,
                )?;
                if recorded.abort {
                    // As a dropped connection does: no end of body, nothing more on this socket.
                    let _ = writer.shutdown(std::net::Shutdown::Both);
                    return Ok(());
                }
            }
            Answer::Refuse(text) => {
                let headers = [(
                    "content-type".to_owned(),
                    "text/plain; charset=utf-8".to_owned(),
                )];
                http1::write_response(
                    &mut writer,
                    http::StatusCode::BAD_REQUEST,
                    &headers,
                    &[Bytes::from(text)],
                    false,
                )?;
            }
        }
    }
    Ok(())
}

fn answer(shared: &Shared, request: &http1::RawRequest) -> Answer {
    let mut state = shared.lock();
    let index = state.next;
    let found = match state.exchanges.get(index) {
        None => vec![format!(
            "unexpected request {} {}: every recorded exchange has been used",
            request.method, request.target
        )],
        Some(exchange) => {
            let seen = SeenRequest {
                method: &request.method,
                path_and_query: &request.target,
                headers: &request.headers,
                body: &request.body,
            };
            differences(&exchange.request, &seen)
        }
    };
    let exchange = state.exchanges.get(index).cloned();
    if index < state.exchanges.len() {
        state.next += 1;
    }
    let mut found = found;
    let upgrade = exchange
        .as_ref()
        .filter(|e| e.response.status == http::StatusCode::SWITCHING_PROTOCOLS)
        .and_then(|e| e.socket.clone());
    let key = request
        .headers
        .get("sec-websocket-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if upgrade.is_some() && key.is_none() {
        found.push("header sec-websocket-key: missing, so no handshake can complete".into());
    }
    match (exchange, upgrade, key) {
        (Some(exchange), Some(script), Some(key)) if found.is_empty() => {
            state.sessions += 1;
            Answer::Upgrade(Session {
                key,
                headers: exchange.response.headers,
                script,
                exchange: index,
                generation: state.generation,
            })
        }
        (Some(exchange), _, _) if found.is_empty() => Answer::Replay(exchange.response),
        _ => {
            let mismatch = Mismatch {
                case: state.case.clone(),
                exchange: index,
                differences: found,
            };
            let text = mismatch.to_string();
            state.mismatches.push(mismatch);
            Answer::Refuse(text)
        }
    }
}

/// Plays a socket's script after its handshake: the `101`, then each message the server sends
/// (split across TCP segments where the case says so) and each message the client must send
/// (checked), then a close, a stall or a dropped connection.
fn play_socket(
    stream: TcpStream,
    buffered: Vec<u8>,
    session: &Session,
    shared: &Shared,
) -> io::Result<()> {
    let mut head = String::from(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n",
    );
    head.push_str(&format!(
        "sec-websocket-accept: {}\r\n",
        tungstenite::handshake::derive_accept_key(session.key.as_bytes())
    ));
    for (name, value) in &session.headers {
        let lower = name.to_ascii_lowercase();
        if !matches!(
            lower.as_str(),
            "upgrade" | "connection" | "sec-websocket-accept" | "content-length"
        ) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    (&stream).write_all(head.as_bytes())?;
    stream.set_read_timeout(Some(SOCKET_WAIT))?;
    let segmented = Segmented {
        tcp: stream,
        plan: Vec::new(),
        held: Vec::new(),
    };
    let mut ws = WebSocket::from_partially_read(segmented, buffered, Role::Server, None);
    let report = |difference: String| {
        let mut state = shared.lock();
        if state.generation == session.generation {
            let case = state.case.clone();
            state.mismatches.push(Mismatch {
                case,
                exchange: session.exchange,
                differences: vec![difference],
            });
        }
    };
    for step in &session.script.steps {
        match step {
            SocketStep::Receive(message, split) => {
                ws.get_mut().plan = split.clone();
                let sent = match message {
                    ReplayMessage::Text(text) => ws.send(tungstenite::Message::text(text.clone())),
                    ReplayMessage::Binary(bytes) => {
                        ws.send(tungstenite::Message::binary(bytes.clone()))
                    }
                    ReplayMessage::Close(code) => ws
                        .close(code.map(|code| CloseFrame {
                            code: CloseCode::from(code),
                            reason: "".into(),
                        }))
                        .and_then(|()| ws.flush()),
                };
                ws.get_mut().plan.clear();
                if let Err(err) = sent {
                    // The client went away early: whatever it had to send is missing.
                    if let Some(expected) = session
                        .script
                        .steps
                        .iter()
                        .skip_while(|s| *s != step)
                        .find_map(|s| match s {
                            SocketStep::Send(m) => Some(m),
                            SocketStep::Receive(..) => None,
                        })
                    {
                        report(format!(
                            "{}: the socket failed first ({err})",
                            message_difference(Some(expected), None).unwrap_or_default()
                        ));
                    }
                    return Ok(());
                }
            }
            SocketStep::Send(expected) => {
                let seen = next_data(&mut ws);
                let difference = match &seen {
                    Ok(tungstenite::Message::Text(text)) => {
                        message_difference(Some(expected), Some(SeenMessage::Text(text.as_str())))
                    }
                    Ok(tungstenite::Message::Binary(bytes)) => {
                        message_difference(Some(expected), Some(SeenMessage::Binary(bytes)))
                    }
                    Ok(_) | Err(_) => message_difference(Some(expected), None).map(|d| {
                        let why = match &seen {
                            Err(err) => format!("the socket ended first: {err}"),
                            Ok(other) => format!("it closed first: {other:?}"),
                        };
                        format!("{d} ({why})")
                    }),
                };
                if let Some(difference) = difference {
                    report(difference);
                }
                if !matches!(
                    seen,
                    Ok(tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))
                ) {
                    return Ok(());
                }
            }
        }
    }
    if !session.script.stall && !session.script.closes() {
        // As a dropped connection does: no close frame, nothing more.
        let _ = ws.get_mut().tcp.shutdown(std::net::Shutdown::Both);
        return Ok(());
    }
    // Stalled or closed: read until the client closes; any data message it sends is one the
    // recording does not have.
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Text(text)) => report(
                message_difference(None, Some(SeenMessage::Text(text.as_str())))
                    .unwrap_or_default(),
            ),
            Ok(tungstenite::Message::Binary(bytes)) => report(
                message_difference(None, Some(SeenMessage::Binary(&bytes))).unwrap_or_default(),
            ),
            Ok(_) => {}
            Err(tungstenite::Error::Io(err))
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                report(format!(
                    "the client kept the socket open {SOCKET_WAIT:?} after the server was done"
                ));
                return Ok(());
            }
            Err(_) => return Ok(()),
        }
    }
}

/// The next text or binary message, pings and pongs skipped; a close or an error otherwise.
fn next_data(ws: &mut WebSocket<Segmented>) -> Result<tungstenite::Message, tungstenite::Error> {
    loop {
        if let message @ (tungstenite::Message::Text(_)
        | tungstenite::Message::Binary(_)
        | tungstenite::Message::Close(_)) = ws.read()?
        {
            return Ok(message);
        }
    }
}

/// The TCP stream under a replayed socket: with a `plan`, what tungstenite writes is held until
/// its flush, then written in segments of the planned lengths, each flushed after a pause.
struct Segmented {
    tcp: TcpStream,
    plan: Vec<usize>,
    held: Vec<u8>,
}

impl Read for Segmented {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tcp.read(buf)
    }
}

impl Write for Segmented {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.plan.is_empty() {
            self.tcp.write(buf)
        } else {
            self.held.extend_from_slice(buf);
            Ok(buf.len())
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let held = std::mem::take(&mut self.held);
        let mut rest = &held[..];
        for &length in &self.plan {
            if rest.is_empty() {
                break;
            }
            let (segment, after) = rest.split_at(length.min(rest.len()));
            self.tcp.write_all(segment)?;
            self.tcp.flush()?;
            std::thread::sleep(SEGMENT_PAUSE);
            rest = after;
        }
        self.tcp.write_all(rest)?;
        self.tcp.flush()
    }
}
