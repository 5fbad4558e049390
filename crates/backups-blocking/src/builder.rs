//! [`ClientBuilder`]: every setting of a blocking [`Client`].

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};

use backups_proto::{
    APPLICATION_ID, BaseUrl, Client as ProtoClient, Endpoint, Error, IntoBaseUrl, Limits, Locate,
    Polling, RetryPolicy, Timeouts,
};

use crate::client::Client;
use crate::discovery::{Discovery, DiscoveryError, locate};
use crate::transport::{DEFAULT_POOL_IDLE_TIMEOUT, UreqTransport};

/// Builds a blocking [`Client`]: the settings of `backups_hyper::ClientBuilder`, with the same
/// names and defaults.
///
/// Setters never fail; the first invalid value is reported by [`build`](Self::build) as
/// [`Error::InvalidRequest`].
///
/// ```
/// use std::time::Duration;
/// use backups_blocking::{Client, RetryPolicy};
///
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:39300")
///     .request_timeout(Duration::from_secs(30))
///     .application_id("my-app")
///     .retry(RetryPolicy::new(5))
///     .build()?;
/// assert_eq!(client.endpoint().base_url().to_string(), "http://127.0.0.1:39300");
/// assert_eq!(client.endpoint().headers()["x-application-id"], "my-app");
/// # Ok::<(), backups_blocking::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    base_url: Option<BaseUrl>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    limits: Limits,
    user_agent: Option<HeaderValue>,
    headers: Vec<(HeaderName, HeaderValue)>,
    pool_idle_timeout: Duration,
    pool_max_idle: usize,
    polling: Polling,
    locator: Option<Arc<dyn Locate>>,
    error: Option<String>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientBuilder {
    /// Every default: `http://localhost:1000`, the default [`Timeouts`], [`RetryPolicy`] and
    /// [`Limits`], this SDK's User-Agent.
    pub fn new() -> Self {
        Self {
            base_url: None,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            limits: Limits::default(),
            user_agent: None,
            headers: Vec::new(),
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            pool_max_idle: usize::MAX,
            polling: Polling::default(),
            locator: None,
            error: None,
        }
    }

    fn invalid(mut self, reason: String) -> Self {
        self.error.get_or_insert(reason);
        self
    }

    /// Where Pieces OS listens, such as `http://127.0.0.1:39300` (a path prefix is kept).
    pub fn base_url(mut self, base_url: impl IntoBaseUrl) -> Self {
        match base_url.into_base_url() {
            Ok(base) => {
                self.base_url = Some(base);
                self
            }
            Err(err) => self.invalid(err.to_string()),
        }
    }

    /// The time allowed to open a connection (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts = self.timeouts.with_connect(timeout);
        self
    }

    /// The time allowed for a whole plain call, and for the head of a stream (default 120 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts = self.timeouts.with_request(timeout);
        self
    }

    /// The longest silence between two reads of a progress stream or two messages of a socket
    /// (default 60 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts = self.timeouts.with_idle(timeout);
        self
    }

    /// All three timeouts at once.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The largest response body read whole (default 64 MiB); larger is
    /// [`Error::BodyTooLarge`].
    pub fn max_body(mut self, bytes: u64) -> Self {
        self.limits = self.limits.with_max_body(bytes);
        self
    }

    /// The largest single progress event or socket message; larger is
    /// [`Error::FrameTooLarge`].
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.limits = self.limits.with_max_frame(bytes);
        self
    }

    /// Both limits at once.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The wait between two polls of a status while a create or restore is followed by it
    /// (default 500 ms).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.polling = self.polling.with_interval(interval);
        self
    }

    /// How creates and restores are followed by their status (interval, the silence allowed,
    /// each poll's timeout).
    pub fn polling(mut self, polling: Polling) -> Self {
        self.polling = polling;
        self
    }

    /// Where to find Pieces OS again if it restarts elsewhere while an operation is followed;
    /// [`discover`](Self::discover) sets its discovery here.
    pub fn locator(mut self, locator: Arc<dyn Locate>) -> Self {
        self.locator = Some(locator);
        self
    }

    /// When the idempotent GETs that could not connect are retried (default
    /// [`RetryPolicy::default`]; [`RetryPolicy::none`] turns it off). A POST is never resent.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Replaces the User-Agent (default `pieces-backups-rs/<version>`).
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        match HeaderValue::from_str(user_agent) {
            Ok(value) => {
                self.user_agent = Some(value);
                self
            }
            Err(err) => self.invalid(format!("invalid User-Agent {user_agent:?}: {err}")),
        }
    }

    /// Adds a header to every request; a later value for the same name replaces an earlier one.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        let Ok(name) = name.try_into() else {
            return self.invalid("invalid header name".into());
        };
        let Ok(value) = value.try_into() else {
            return self.invalid(format!("invalid value for header {name}"));
        };
        self.headers.push((name, value));
        self
    }

    /// Sends `X-Application-ID: <id>` with every request.
    pub fn application_id(self, id: &str) -> Self {
        self.header(APPLICATION_ID, id)
    }

    /// How long an unused pooled connection is kept (default 90 s).
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// How many unused connections are kept at most (default: no limit).
    pub fn pool_max_idle(mut self, count: usize) -> Self {
        self.pool_max_idle = count;
        self
    }

    /// The base URL that will be used (the default when none was set).
    pub fn get_base_url(&self) -> BaseUrl {
        self.base_url
            .clone()
            .unwrap_or_else(|| Endpoint::default().base_url().clone())
    }

    /// Builds the client. Works anywhere; nothing is started until the first call.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] for an invalid setting (an `https` base URL among them).
    pub fn build(self) -> Result<Client, Error> {
        if let Some(reason) = self.error {
            return Err(Error::InvalidRequest { reason });
        }
        let base = self.get_base_url();
        if base.scheme() != &http::uri::Scheme::HTTP {
            return Err(Error::InvalidRequest {
                reason: format!(
                    "{base}: backups-blocking speaks plain http (Pieces OS listens on localhost \
                     without TLS)"
                ),
            });
        }
        let mut endpoint = Endpoint::new(base);
        if let Some(user_agent) = self.user_agent {
            endpoint.insert_header(http::header::USER_AGENT, user_agent);
        }
        for (name, value) in self.headers {
            endpoint.insert_header(name, value);
        }
        let transport =
            UreqTransport::with_pool(self.timeouts, self.pool_idle_timeout, self.pool_max_idle)
                .with_limits(self.limits);
        let mut client = ProtoClient::new(transport, endpoint)
            .with_limits(self.limits)
            .with_polling(self.polling)
            .with_retry(self.retry);
        if let Some(locator) = self.locator {
            client = client.with_locator(locator);
        }
        Ok(Client::from_inner(client))
    }

    /// Finds the running Pieces OS with the default [`Discovery`], then builds a client for it
    /// with these settings (the base URL set here is ignored). The client keeps the discovery
    /// as its [`locator`](Self::locator), to find Pieces OS again if it restarts elsewhere while
    /// an operation is followed.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::NotFound`] with what each place held, or [`DiscoveryError::Client`]
    /// for an invalid setting.
    pub fn discover(self) -> Result<Client, DiscoveryError> {
        self.discover_with(Discovery::new())
    }

    /// [`discover`](Self::discover) with a [`Discovery`] of the caller's (other port files,
    /// ports or timeouts), kept as the client's locator too.
    ///
    /// # Errors
    ///
    /// As [`discover`](Self::discover).
    pub fn discover_with(self, discovery: Discovery) -> Result<Client, DiscoveryError> {
        let located = locate(&discovery)?;
        self.base_url(located.base_url)
            .locator(Arc::new(discovery))
            .build()
            .map_err(DiscoveryError::Client)
    }
}

// Here rather than in client.rs, which the builder's `build` depends on: the client's module
// stays below the builder's.
impl Client {
    /// A client for the API's documented base URL, `http://localhost:1000`, with every default.
    ///
    /// Current Pieces OS versions listen on 39300 to 39333 instead: see
    /// [`discover`](Self::discover).
    ///
    /// # Errors
    ///
    /// None today; kept fallible as [`ClientBuilder::build`] is.
    pub fn localhost() -> Result<Self, Error> {
        ClientBuilder::new().build()
    }

    /// A builder for every setting: base URL, timeouts, limits, headers, retries, pool.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Finds the running Pieces OS with the default [`Discovery`](crate::discovery::Discovery)
    /// (port file, then ports 39300 to 39333, then 1000 and 5323) and returns a client for it
    /// with every default, which finds it again if it restarts elsewhere.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::NotFound`] with what each place held.
    pub fn discover() -> Result<Self, DiscoveryError> {
        ClientBuilder::new().discover()
    }
}
