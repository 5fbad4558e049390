//! A TCP proxy on 127.0.0.1 that breaks chosen connections on purpose, so that integration
//! tests can check that the SDK follows a backup or restore through to its end when the network
//! fails mid-way (a reset, an early EOF, a silent peer) instead of only when everything works.
//!
//! Every connection is proxied byte for byte. The proxy reads the client's request heads (HTTP/1.1,
//! including the `GET` that upgrades to a WebSocket) only to see their targets: a [`Rule`] armed
//! with [`FaultProxy::arm`] applies once, to the first request that matches it, and then its
//! [`Fault`] cuts, closes or stalls that request's response. Requests that match no armed rule
//! pass untouched, so the status polls a client makes after a cut get through.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use std::time::Duration;
//!
//! use backups_testkit::{Fault, FaultProxy, Rule};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! // An upstream that answers one request with a body the proxy cuts after 20 bytes.
//! let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let proxy = FaultProxy::start(upstream.local_addr()?).await?;
//! proxy.arm(Rule::on_path("/backups/create/streamed", Fault::CloseAfter(20)));
//! tokio::spawn(async move {
//!     let (mut socket, _) = upstream.accept().await?;
//!     backups_testkit::read_request(&mut socket).await?;
//!     socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n").await?;
//!     socket.write_all(&[b'x'; 100]).await?;
//!     Ok::<(), std::io::Error>(())
//! });
//!
//! let mut client = tokio::net::TcpStream::connect(proxy.addr()).await?;
//! client.write_all(b"POST /backups/create/streamed HTTP/1.1\r\nHost: x\r\n\r\n").await?;
//! let mut seen = Vec::new();
//! client.read_to_end(&mut seen).await?; // an EOF before the declared length
//! assert_eq!(seen, b"HTTP/1.1 200 OK\r\nCon");
//! assert!(proxy.wait_fired(1, Duration::from_secs(1)).await);
//! # Ok(())
//! # }
//! ```

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// A request head longer than this is not HTTP the SDK sends: the connection is then proxied
/// without looking for more requests, rather than buffered without end.
const MAX_HEAD: usize = 64 * 1024;

/// What a [`Rule`] recognizes a request by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Any request.
    Any,
    /// A request whose target (path and query, exactly as sent) starts with this.
    PathPrefix(String),
}

impl Match {
    fn matches(&self, target: &str) -> bool {
        match self {
            Match::Any => true,
            Match::PathPrefix(prefix) => target.starts_with(prefix.as_str()),
        }
    }
}

/// What happens to the response of a matching request. Every count and pattern applies to the
/// bytes going from the upstream to the client, counted from the start of that response.
///
/// A WebSocket is dropped without a close frame by [`Fault::CloseAfter`] or
/// [`Fault::CloseWhen`]: the TCP connection just ends, which is what a peer that vanishes
/// looks like; [`Fault::ResetAfter`] is the same drop seen as `ECONNRESET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward this many bytes, then reset both sides (`SO_LINGER` 0): the client reads those
    /// bytes, then `ECONNRESET`. Bytes still in the proxy's send buffer when it resets are lost,
    /// so a client that lets its receive window fill up sees fewer.
    ResetAfter(usize),
    /// Forward this many bytes, then close both sides cleanly (FIN): the client sees an EOF,
    /// inside a chunked body or before the declared length.
    CloseAfter(usize),
    /// Forward this many bytes, then nothing more, keeping both connections open: a silent
    /// peer, until [`FaultProxy::release_stalls`] closes them, the client closes its side, or
    /// the proxy is dropped. The proxy stops reading the upstream too, so the server feels the
    /// backpressure of a stalled network.
    StallAfter(usize),
    /// Forward up to and including the first occurrence of this pattern (such as
    /// `b"\"percentage\":46"`, or the text of a WebSocket frame), then reset as
    /// [`Fault::ResetAfter`]. The pattern is found even when it spans two reads.
    ResetWhen(Vec<u8>),
    /// Forward up to and including the first occurrence of this pattern, then close as
    /// [`Fault::CloseAfter`].
    CloseWhen(Vec<u8>),
    /// Forward up to and including the first occurrence of this pattern, then stall as
    /// [`Fault::StallAfter`].
    StallWhen(Vec<u8>),
}

/// A one-shot fault: the first request that `matches` gets `fault`, then the rule is spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Which request the fault is for.
    pub matches: Match,
    /// What happens to that request's response.
    pub fault: Fault,
}

impl Rule {
    /// A rule for the next request of any target.
    pub fn any(fault: Fault) -> Self {
        Self {
            matches: Match::Any,
            fault,
        }
    }

    /// A rule for the next request whose target starts with `prefix`.
    pub fn on_path(prefix: impl Into<String>, fault: Fault) -> Self {
        Self {
            matches: Match::PathPrefix(prefix.into()),
            fault,
        }
    }
}

/// What the proxy's tasks and its handle share.
#[derive(Debug)]
struct Shared {
    upstream: Mutex<SocketAddr>,
    refusing: AtomicBool,
    /// Armed rules, oldest first: when two match, the older fires.
    rules: Mutex<Vec<Rule>>,
    connections: AtomicUsize,
    /// Connections being proxied now; each task holds an [`OpenGuard`].
    open: AtomicUsize,
    /// How many faults have fired; a channel so that tests can wait for a count.
    fired: watch::Sender<usize>,
    /// Bumped by `release_stalls`; stalled connections wait for a change.
    stalls: watch::Sender<u64>,
}

/// A fault-injecting TCP proxy in front of one upstream, running on the current Tokio runtime.
/// Dropping it stops accepting and ends every connection it proxies.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accepting: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and proxies every connection to `upstream`.
    ///
    /// # Errors
    ///
    /// When no port can be bound.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub async fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            refusing: AtomicBool::new(false),
            rules: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            fired: watch::channel(0).0,
            stalls: watch::channel(0).0,
        });
        let accepting = tokio::spawn(accept(listener, Arc::clone(&shared)));
        Ok(Self {
            addr,
            shared,
            accepting,
        })
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give the client instead of the server's, such as
    /// `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends the connections accepted from now on to `upstream`, such as a server restarted on
    /// another port; connections already proxied keep theirs.
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *lock(&self.shared.upstream) = upstream;
    }

    /// While `true`, every accepted connection is reset at once, so that clients see the server
    /// as down (`ECONNRESET` on their first read or write) while the port stays taken.
    pub fn refuse(&self, refusing: bool) {
        self.shared.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Arms `rule` for the next request that matches it (after the rules armed before it).
    pub fn arm(&self, rule: Rule) {
        lock(&self.shared.rules).push(rule);
    }

    /// How many armed rules no request has matched yet.
    pub fn armed(&self) -> usize {
        lock(&self.shared.rules).len()
    }

    /// Closes every stalled connection (FIN to both sides), so that a client without a timeout
    /// of its own can go on.
    pub fn release_stalls(&self) {
        self.shared
            .stalls
            .send_modify(|generation| *generation += 1);
    }

    /// How many connections the proxy has accepted, refused ones included.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// How many connections are being proxied now: a test can check that a cut or a client that
    /// gave up left none behind.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// How many faults have fired: the cut was made (or the stall began). A rule whose response
    /// ended before its count or pattern was reached is spent but has not fired.
    pub fn faults_fired(&self) -> usize {
        *self.shared.fired.borrow()
    }

    /// Waits until at least `count` faults have fired in all (not `count` more), for at most
    /// `timeout`; `false` when they had not by then. Once it returns `true`, the client side has
    /// been cut already.
    pub async fn wait_fired(&self, count: usize, timeout: Duration) -> bool {
        let mut fired = self.shared.fired.subscribe();
        matches!(
            tokio::time::timeout(timeout, fired.wait_for(|fired| *fired >= count)).await,
            Ok(Ok(_))
        )
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // The accept task owns the listener and the connection tasks: aborting it drops them all.
        self.accepting.abort();
    }
}

/// A [`FaultProxy`] running on a runtime of its own, for tests of the blocking client (which
/// must not run inside a Tokio runtime). Dropping it ends every connection it proxies.
#[derive(Debug)]
pub struct BlockingProxy {
    // Declared before the runtime, so that it is dropped (and its tasks aborted) first.
    proxy: FaultProxy,
    runtime: tokio::runtime::Runtime,
}

impl BlockingProxy {
    /// Starts the proxy on a new one-thread runtime (it proxies while the test blocks).
    ///
    /// # Errors
    ///
    /// When the runtime cannot be built or no port can be bound.
    pub fn start(upstream: SocketAddr) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let proxy = runtime.block_on(FaultProxy::start(upstream))?;
        Ok(Self { proxy, runtime })
    }

    /// As [`FaultProxy::addr`].
    pub fn addr(&self) -> SocketAddr {
        self.proxy.addr()
    }

    /// As [`FaultProxy::base_url`].
    pub fn base_url(&self) -> String {
        self.proxy.base_url()
    }

    /// As [`FaultProxy::set_upstream`].
    pub fn set_upstream(&self, upstream: SocketAddr) {
        self.proxy.set_upstream(upstream);
    }

    /// As [`FaultProxy::refuse`].
    pub fn refuse(&self, refusing: bool) {
        self.proxy.refuse(refusing);
    }

    /// As [`FaultProxy::arm`].
    pub fn arm(&self, rule: Rule) {
        self.proxy.arm(rule);
    }

    /// As [`FaultProxy::armed`].
    pub fn armed(&self) -> usize {
        self.proxy.armed()
    }

    /// As [`FaultProxy::release_stalls`].
    pub fn release_stalls(&self) {
        self.proxy.release_stalls();
    }

    /// As [`FaultProxy::connections`].
    pub fn connections(&self) -> usize {
        self.proxy.connections()
    }

    /// As [`FaultProxy::open_connections`].
    pub fn open_connections(&self) -> usize {
        self.proxy.open_connections()
    }

    /// As [`FaultProxy::faults_fired`].
    pub fn faults_fired(&self) -> usize {
        self.proxy.faults_fired()
    }

    /// As [`FaultProxy::wait_fired`], blocking the calling thread.
    pub fn wait_fired(&self, count: usize, timeout: Duration) -> bool {
        self.runtime.block_on(self.proxy.wait_fired(count, timeout))
    }
}

/// The rules and counters stay usable after a test thread panicked while holding a lock.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Closing with `SO_LINGER` 0 sends RST instead of FIN: how a client gets `ECONNRESET`.
fn reset(stream: TcpStream) {
    // Deprecated in newer Tokio because a non-zero linger blocks the thread on drop; a zero one
    // does not block, and `set_zero_linger` is newer than the workspace's minimum Tokio.
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = listener.accept().await;
        // Reaps finished connections, so that a long test does not pile them up.
        while connections.try_join_next().is_some() {}
        let Ok((client, _)) = accepted else {
            // Out of descriptors, or a connection reset before it was accepted: try again soon
            // rather than spinning or giving up on the test.
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        if shared.refusing.load(Ordering::SeqCst) {
            reset(client);
            continue;
        }
        // Counted here rather than in the task, so that a connection is open from its accept on.
        let guard = OpenGuard::new(Arc::clone(&shared));
        connections.spawn(async move {
            proxy_connection(client, Arc::clone(&guard.0)).await;
            drop(guard);
        });
    }
}

/// Counts a connection as open until its task ends or is aborted (a drop runs either way).
struct OpenGuard(Arc<Shared>);

impl OpenGuard {
    fn new(shared: Arc<Shared>) -> Self {
        shared.open.fetch_add(1, Ordering::SeqCst);
        Self(shared)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How a proxied connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Reset,
    Close,
}

/// What a fault does once its trigger is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Reset,
    Close,
    Stall,
}

/// Where in the response a fault fires.
#[derive(Debug)]
enum Trigger {
    After(usize),
    When(Vec<u8>),
}

/// A fault matched on a connection, watching its response.
#[derive(Debug)]
struct Active {
    trigger: Trigger,
    action: Action,
    /// Response bytes forwarded since the match, for [`Trigger::After`].
    seen: usize,
    /// The end of the previous read, for a pattern that spans two reads.
    tail: Vec<u8>,
}

impl Active {
    fn new(fault: Fault) -> Self {
        let (trigger, action) = match fault {
            Fault::ResetAfter(n) => (Trigger::After(n), Action::Reset),
            Fault::CloseAfter(n) => (Trigger::After(n), Action::Close),
            Fault::StallAfter(n) => (Trigger::After(n), Action::Stall),
            Fault::ResetWhen(pattern) => (Trigger::When(pattern), Action::Reset),
            Fault::CloseWhen(pattern) => (Trigger::When(pattern), Action::Close),
            Fault::StallWhen(pattern) => (Trigger::When(pattern), Action::Stall),
        };
        Self {
            trigger,
            action,
            seen: 0,
            tail: Vec::new(),
        }
    }

    /// How much of `chunk` to forward, and the action once it is forwarded if the trigger is
    /// reached inside it.
    fn on_response(&mut self, chunk: &[u8]) -> (usize, Option<Action>) {
        match &self.trigger {
            Trigger::After(limit) => {
                let left = limit.saturating_sub(self.seen);
                if chunk.len() >= left {
                    (left, Some(self.action))
                } else {
                    self.seen += chunk.len();
                    (chunk.len(), None)
                }
            }
            Trigger::When(pattern) => {
                let mut window = std::mem::take(&mut self.tail);
                let carried = window.len();
                window.extend_from_slice(chunk);
                if let Some(at) = find(&window, pattern) {
                    // The tail is shorter than the pattern, so a match ends inside `chunk`.
                    (at + pattern.len() - carried, Some(self.action))
                } else {
                    let keep = pattern.len().saturating_sub(1);
                    self.tail = window.split_off(window.len().saturating_sub(keep));
                    (chunk.len(), None)
                }
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// One proxied connection's fault, shared by its two directions.
struct Connection {
    shared: Arc<Shared>,
    /// `Some` once a rule matched: a connection takes at most one rule.
    active: Mutex<Option<Active>>,
    /// Set when the client has closed its side, so that a stall does not outlive the client
    /// (and hold the server's connection open) until the proxy is dropped.
    client_closed: watch::Sender<bool>,
}

impl Connection {
    fn on_request(&self, target: &str) {
        let mut active = lock(&self.active);
        if active.is_some() {
            return;
        }
        let mut rules = lock(&self.shared.rules);
        if let Some(index) = rules.iter().position(|rule| rule.matches.matches(target)) {
            *active = Some(Active::new(rules.remove(index).fault));
        }
    }

    fn on_response(&self, chunk: &[u8]) -> (usize, Option<Action>) {
        match lock(&self.active).as_mut() {
            Some(active) => active.on_response(chunk),
            None => (chunk.len(), None),
        }
    }

    fn fired(&self) {
        self.shared.fired.send_modify(|fired| *fired += 1);
    }
}

async fn proxy_connection(mut client: TcpStream, shared: Arc<Shared>) {
    let connection = Connection {
        shared,
        active: Mutex::new(None),
        client_closed: watch::channel(false).0,
    };
    let mut requests = RequestTracker::default();
    // The first head decides the fault before the upstream sees a byte of the request.
    let mut first = Vec::new();
    let mut buf = vec![0; 16 * 1024];
    while !requests.past_first_head() {
        let n = match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        first.extend_from_slice(&buf[..n]);
        requests.feed(&buf[..n], &mut |target| connection.on_request(target));
    }
    let upstream_addr = *lock(&connection.shared.upstream);
    let Ok(mut upstream) = TcpStream::connect(upstream_addr).await else {
        // A server that is down looks the same through the proxy as without it.
        reset(client);
        return;
    };
    // Cuts land where they are asked for only if small writes are not held back.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    if upstream.write_all(&first).await.is_err() {
        reset(client);
        reset(upstream);
        return;
    }
    let (end, fault) = {
        let (mut client_read, mut client_write) = client.split();
        let (mut upstream_read, mut upstream_write) = upstream.split();
        tokio::select! {
            end = forward_responses(&mut upstream_read, &mut client_write, &connection) => end,
            end = forward_requests(
                &mut client_read,
                &mut upstream_write,
                &mut requests,
                &connection,
            ) => (end, false),
        }
    };
    match end {
        End::Reset => {
            reset(client);
            reset(upstream);
        }
        End::Close => {
            let _ = client.shutdown().await;
            let _ = upstream.shutdown().await;
        }
    }
    if fault {
        connection.fired();
    }
}

/// Copies the client's bytes to the upstream, noting each request head on the way. Ends only
/// when the client fails: after a client's EOF the response may still be coming.
async fn forward_requests(
    client: &mut ReadHalf<'_>,
    upstream: &mut WriteHalf<'_>,
    requests: &mut RequestTracker,
    connection: &Connection,
) -> End {
    let mut buf = vec![0; 16 * 1024];
    loop {
        match client.read(&mut buf).await {
            Ok(0) => {
                connection.client_closed.send_replace(true);
                let _ = upstream.shutdown().await;
                return std::future::pending().await;
            }
            Ok(n) => {
                // Before forwarding: a matching rule must be in place before its response starts.
                requests.feed(&buf[..n], &mut |target| connection.on_request(target));
                if upstream.write_all(&buf[..n]).await.is_err() {
                    return End::Reset;
                }
            }
            Err(_) => return End::Reset,
        }
    }
}

/// Copies the upstream's bytes to the client until either ends or a fault fires; `true` with
/// the end when a fault fired.
async fn forward_responses(
    upstream: &mut ReadHalf<'_>,
    client: &mut WriteHalf<'_>,
    connection: &Connection,
) -> (End, bool) {
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = match upstream.read(&mut buf).await {
            Ok(0) => return (End::Close, false),
            Ok(n) => n,
            Err(_) => return (End::Reset, false),
        };
        let (forward, action) = connection.on_response(&buf[..n]);
        if client.write_all(&buf[..forward]).await.is_err() {
            return (End::Reset, false);
        }
        match action {
            None => {}
            Some(Action::Reset) => return (End::Reset, true),
            Some(Action::Close) => return (End::Close, true),
            Some(Action::Stall) => {
                let mut released = connection.shared.stalls.subscribe();
                let mut client_closed = connection.client_closed.subscribe();
                connection.fired();
                tokio::select! {
                    _ = released.changed() => {}
                    _ = client_closed.wait_for(|closed| *closed) => {}
                }
                return (End::Close, false);
            }
        }
    }
}

/// Follows the client's side of an HTTP/1.1 connection far enough to see where each request
/// head starts, so that a rule can match a request on a kept-alive connection too.
#[derive(Debug, Default)]
struct RequestTracker {
    state: RequestState,
    heads: usize,
}

#[derive(Debug)]
enum RequestState {
    /// Reading a head; the bytes so far.
    Head(Vec<u8>),
    /// Skipping this many bytes of a `Content-Length` body.
    Body(u64),
    /// Past the point where requests can be told apart (an upgrade to a WebSocket, a chunked
    /// body, or bytes that are not HTTP): the rest is proxied without looking.
    Opaque,
}

impl Default for RequestState {
    fn default() -> Self {
        Self::Head(Vec::new())
    }
}

impl RequestTracker {
    /// Whether the first request's head has been read (or never will be).
    fn past_first_head(&self) -> bool {
        self.heads > 0 || matches!(self.state, RequestState::Opaque)
    }

    /// Follows `data`, calling `on_head` with the target of every head it completes.
    fn feed(&mut self, data: &[u8], on_head: &mut dyn FnMut(&str)) {
        let mut rest = data.to_vec();
        while !rest.is_empty() {
            match std::mem::replace(&mut self.state, RequestState::Opaque) {
                RequestState::Opaque => return,
                RequestState::Body(left) => {
                    let skip =
                        usize::try_from(left).map_or(rest.len(), |left| left.min(rest.len()));
                    rest.drain(..skip);
                    let left = left - skip as u64;
                    self.state = if left == 0 {
                        RequestState::Head(Vec::new())
                    } else {
                        RequestState::Body(left)
                    };
                }
                RequestState::Head(mut head) => {
                    head.append(&mut rest);
                    match parse_head(&head) {
                        Ok(None) if head.len() <= MAX_HEAD => self.state = RequestState::Head(head),
                        Ok(None) | Err(()) => {}
                        Ok(Some((len, target, next))) => {
                            on_head(&target);
                            self.heads += 1;
                            rest = head.split_off(len);
                            self.state = next;
                        }
                    }
                }
            }
        }
    }
}

/// The length and target of a complete head, and what follows it.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, String, RequestState)>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(()),
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| {
                String::from_utf8_lossy(header.value)
                    .trim()
                    .to_ascii_lowercase()
            })
    };
    let next = if request.method == Some("CONNECT")
        || header("upgrade").is_some()
        || header("transfer-encoding").is_some_and(|value| value.contains("chunked"))
    {
        RequestState::Opaque
    } else {
        match header("content-length").map(|value| value.parse::<u64>()) {
            None | Some(Ok(0)) => RequestState::Head(Vec::new()),
            Some(Ok(n)) => RequestState::Body(n),
            Some(Err(_)) => RequestState::Opaque,
        }
    };
    Ok(Some((
        len,
        request.path.unwrap_or_default().to_owned(),
        next,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(tracker: &mut RequestTracker, pieces: &[&[u8]]) -> Vec<String> {
        let mut seen = Vec::new();
        for piece in pieces {
            tracker.feed(piece, &mut |target| seen.push(target.to_owned()));
        }
        seen
    }

    #[test]
    fn the_tracker_sees_every_head_of_a_kept_alive_connection_across_reads() {
        let mut tracker = RequestTracker::default();
        let seen = targets(
            &mut tracker,
            &[
                b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
                b"cGET /b HTTP/1.1\r",
                b"\n\r\nGET /c HTTP/1.1\r\n\r\n",
            ],
        );
        assert_eq!(seen, ["/a", "/b", "/c"]);
    }

    #[test]
    fn the_tracker_stops_looking_after_an_upgrade() {
        let mut tracker = RequestTracker::default();
        let seen = targets(
            &mut tracker,
            &[b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET /x HTTP/1.1\r\n\r\n"],
        );
        assert_eq!(seen, ["/ws"]);
        assert!(tracker.past_first_head());
    }

    #[test]
    fn a_pattern_is_found_across_reads_and_cut_after_its_end() {
        let mut active = Active::new(Fault::CloseWhen(b"\"percentage\":46".to_vec()));
        assert_eq!(active.on_response(b"{\"percent"), (9, None));
        assert_eq!(active.on_response(b"age\":46}\n"), (7, Some(Action::Close)));
    }

    #[test]
    fn a_count_is_cut_inside_the_read_that_reaches_it() {
        let mut active = Active::new(Fault::ResetAfter(5));
        assert_eq!(active.on_response(b"abc"), (3, None));
        assert_eq!(active.on_response(b"defg"), (2, Some(Action::Reset)));
    }
}
