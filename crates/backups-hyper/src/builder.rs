//! [`ClientBuilder`]: every setting of a [`BackupsClient`], and building one for the Pieces OS
//! that [`Discovery`] finds.

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};

use backups_proto::{
    APPLICATION_ID, BaseUrl, Client, Endpoint, Error, IntoBaseUrl, Limits, Locate, Polling,
    RetryPolicy, Timeouts,
};

use crate::client::BackupsClient;
use crate::discovery::{Discovery, DiscoveryError};
use crate::transport::{DEFAULT_POOL_IDLE_TIMEOUT, HyperTransport};

/// Builds a [`BackupsClient`].
///
/// Setters never fail; the first invalid value is reported by [`build`](Self::build) as
/// [`Error::InvalidRequest`].
///
/// ```
/// use std::time::Duration;
/// use backups_hyper::{BackupsClient, RetryPolicy};
///
/// let client = BackupsClient::builder()
///     .base_url("http://127.0.0.1:39300")
///     .request_timeout(Duration::from_secs(30))
///     .application_id("my-app")
///     .retry(RetryPolicy::new(5))
///     .build()?;
/// assert_eq!(client.endpoint().base_url().to_string(), "http://127.0.0.1:39300");
/// assert_eq!(client.endpoint().headers()["x-application-id"], "my-app");
/// # Ok::<(), backups_hyper::Error>(())
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

    /// The time allowed for a whole plain call, and for the headers of a stream (default 120 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts = self.timeouts.with_request(timeout);
        self
    }

    /// The longest silence between two chunks of a progress stream (default 60 s).
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

    /// The largest single progress event (default: `backups_proto::DEFAULT_MAX_FRAME`); larger
    /// is [`Error::FrameTooLarge`].
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.limits = self.limits.with_max_frame(bytes);
        self
    }

    /// The wait between two polls of a status while a create or restore is followed by it
    /// (default 500 ms); see [`polling`](Self::polling).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.polling = self.polling.with_interval(interval);
        self
    }

    /// How creates and restores are followed by their status after their stream or call broke,
    /// and alongside a plain restore: poll interval, backoff, how long Pieces OS may leave the
    /// status unanswered before the call fails, and an optional cap on the whole operation (off
    /// by default). See [`Client::follow`].
    ///
    /// [`Client::follow`]: backups_proto::Client::follow
    pub fn polling(mut self, polling: Polling) -> Self {
        self.polling = polling;
        self
    }

    /// Where to find Pieces OS again when a connection fails while an operation is followed
    /// (a Pieces OS that restarted on another port). [`discover`](Self::discover) sets the
    /// [`Discovery`] it used; a client built for a fixed base URL has none and polls that URL
    /// patiently.
    pub fn locator(mut self, locator: Arc<dyn Locate>) -> Self {
        self.locator = Some(locator);
        self
    }

    /// Both limits at once.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// When the client retries the idempotent GETs that could not connect (default
    /// [`RetryPolicy::default`]; [`RetryPolicy::none`] turns it off).
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
            Err(_) => self.invalid(format!("invalid User-Agent {user_agent:?}")),
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

    /// How many unused connections are kept per host at most (default: no limit).
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

    /// Builds the client. Needs no runtime; calls need a Tokio runtime.
    pub fn build(self) -> Result<BackupsClient, Error> {
        if let Some(reason) = self.error {
            return Err(Error::InvalidRequest { reason });
        }
        let base = self.get_base_url();
        if base.scheme() != &http::uri::Scheme::HTTP {
            return Err(Error::InvalidRequest {
                reason: format!(
                    "{base}: backups-hyper speaks plain http (Pieces OS listens on localhost without TLS); use another transport for https"
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
            HyperTransport::with_pool(self.timeouts, self.pool_idle_timeout, self.pool_max_idle)
                .with_limits(self.limits);
        let mut client = Client::new(transport, endpoint)
            .with_limits(self.limits)
            .with_polling(self.polling)
            .with_retry(self.retry);
        if let Some(locator) = self.locator {
            client = client.with_locator(locator);
        }
        Ok(BackupsClient::from_client(client))
    }

    /// Finds the running Pieces OS with the default [`Discovery`], then builds a client for it
    /// with these settings (the base URL set here is ignored). The client keeps the discovery
    /// as its [`locator`](Self::locator), to find Pieces OS again if it restarts elsewhere while
    /// an operation is followed.
    pub async fn discover(self) -> Result<BackupsClient, DiscoveryError> {
        self.discover_with(Discovery::new()).await
    }

    /// [`discover`](Self::discover) with a [`Discovery`] of the caller's (other port files,
    /// ports or timeouts), kept as the client's locator too.
    pub async fn discover_with(
        self,
        discovery: Discovery,
    ) -> Result<BackupsClient, DiscoveryError> {
        let located = discovery.locate().await?;
        self.base_url(located.base_url)
            .locator(Arc::new(discovery))
            .build()
            .map_err(DiscoveryError::Client)
    }
}

// Here rather than in client.rs, which the builder's `build` depends on: the client's module
// stays below the builder's.
impl BackupsClient {
    /// A builder for every setting: base URL, timeouts, limits, headers, retries.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Finds the running Pieces OS with the default [`Discovery`](crate::discovery::Discovery) and
    /// returns a client for it with every default.
    pub async fn discover() -> Result<Self, DiscoveryError> {
        ClientBuilder::new().discover().await
    }
}
