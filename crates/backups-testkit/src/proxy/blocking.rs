//! [`BlockingProxy`]: a [`FaultProxy`] on a runtime of its own, for the blocking client's tests.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::proxy::handle::FaultProxy;
use crate::proxy::rules::Rule;

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
