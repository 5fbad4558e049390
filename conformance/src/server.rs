//! [`ReplayServer`]: the recorded responses served over real HTTP/1.1 on `127.0.0.1`, so that a
//! transport that is a whole HTTP stack can be checked end to end.

use std::io::{self, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use bytes::Bytes;

use crate::case::{Case, Exchange};
use crate::http1;
use crate::matching::{Mismatch, SeenRequest, differences};
use crate::replay::ReplayError;

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
    stop: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    case: String,
    exchanges: Vec<Exchange>,
    next: usize,
    mismatches: Vec<Mismatch>,
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
            exchanges: case.exchanges.clone(),
            next: 0,
            mismatches: Vec::new(),
        };
    }

    /// Reports the requests that did not match and the exchanges not requested, for the case
    /// being played.
    pub fn finish_case(&self) -> Result<(), ReplayError> {
        let state = self.shared.lock();
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
    let recorded = state.exchanges.get(index).map(|e| e.response.clone());
    if index < state.exchanges.len() {
        state.next += 1;
    }
    match recorded {
        Some(recorded) if found.is_empty() => Answer::Replay(recorded),
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
