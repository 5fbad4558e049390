//! [`FaultProxy`], the handle a test holds: it starts the accept loop on the current Tokio
//! runtime, arms rules, and reads the counters the connections keep.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::proxy::pump::{Shared, accept, lock};
use crate::proxy::rules::Rule;

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
