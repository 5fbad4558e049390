//! The connection pump: what the proxy's tasks and its handle share ([`Shared`]), the accept
//! loop, and the task of each proxied connection, which copies bytes both ways, feeds the
//! client's to the request-head reader and cuts, closes or stalls the response its fault says.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::proxy::request_heads::RequestTracker;
use crate::proxy::rules::{Action, Active, Rule};

/// What the proxy's tasks and its handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) upstream: Mutex<SocketAddr>,
    pub(crate) refusing: AtomicBool,
    /// Armed rules, oldest first: when two match, the older fires.
    pub(crate) rules: Mutex<Vec<Rule>>,
    pub(crate) connections: AtomicUsize,
    /// Connections being proxied now; each task holds an [`OpenGuard`].
    pub(crate) open: AtomicUsize,
    /// How many faults have fired; a channel so that tests can wait for a count.
    pub(crate) fired: watch::Sender<usize>,
    /// Bumped by `release_stalls`; stalled connections wait for a change.
    pub(crate) stalls: watch::Sender<u64>,
}

/// The rules and counters stay usable after a test thread panicked while holding a lock.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
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

pub(crate) async fn accept(listener: TcpListener, shared: Arc<Shared>) {
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
