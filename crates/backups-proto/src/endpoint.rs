//! [`Endpoint`]: where requests go and the headers every request carries, built once.

use http::Uri;
use http::header::{
    ACCEPT, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue,
    SEC_WEBSOCKET_VERSION, UPGRADE, USER_AGENT,
};
use http::uri::{Authority, Scheme};

use crate::operation::{ID_PLACEHOLDER, RequestBody};
use crate::{BackupId, Error, Operation};

/// The API's documented base URL. Current Pieces OS versions listen on 39300 to 39333 instead:
/// `backups-hyper` discovers the right one.
pub const DEFAULT_BASE_URL: &str = "http://localhost:1000";

/// The User-Agent this SDK sends unless told otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("pieces-backups-rs/", env!("CARGO_PKG_VERSION"));

/// The base URL of a Pieces OS: scheme, host, port and an optional path prefix.
///
/// ```
/// use backups_proto::BaseUrl;
///
/// let base: BaseUrl = "http://127.0.0.1:39300/pieces/".parse()?;
/// assert_eq!(base.to_string(), "http://127.0.0.1:39300/pieces");
/// assert!("ftp://host".parse::<BaseUrl>().is_err());
/// # Ok::<(), backups_proto::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    scheme: Scheme,
    authority: Authority,
    prefix: String,
}

impl BaseUrl {
    /// The scheme (`http` or `https`).
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// Host and port.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The path prefix, empty or starting with `/` and never ending with one.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The `Host` header of requests to this base: the host, and the port unless it is the
    /// scheme's default (as hyper and most HTTP clients write it).
    fn host_header(&self) -> Option<HeaderValue> {
        let default_port = if self.scheme == Scheme::HTTPS {
            443
        } else {
            80
        };
        let host = self.authority.host();
        let value = match self.authority.port_u16() {
            Some(port) if port != default_port => HeaderValue::from_str(&format!("{host}:{port}")),
            _ => HeaderValue::from_str(host),
        };
        value.ok()
    }

    /// The full URI of `path` (which starts with `/`) under this base.
    pub fn join(&self, path: &str) -> Result<Uri, Error> {
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(format!("{}{}", self.prefix, path))
            .build()
            .map_err(|err| Error::InvalidRequest {
                reason: format!("cannot build a URI for {path:?}: {err}"),
            })
    }
}

impl core::str::FromStr for BaseUrl {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::InvalidRequest {
            reason: format!("invalid base URL {text:?}: {why}"),
        };
        let uri: Uri = text.parse().map_err(|_| invalid("not a URL"))?;
        let scheme = uri
            .scheme()
            .cloned()
            .ok_or_else(|| invalid("no scheme (use http://)"))?;
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
            return Err(invalid("the scheme must be http or https"));
        }
        let authority = uri.authority().cloned().ok_or_else(|| invalid("no host"))?;
        if authority.host().is_empty() {
            return Err(invalid("no host"));
        }
        if uri.query().is_some() {
            return Err(invalid("a base URL cannot have a query"));
        }
        let prefix = uri.path().trim_end_matches('/').to_owned();
        Ok(Self {
            scheme,
            authority,
            prefix,
        })
    }
}

impl core::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.prefix)
    }
}

/// A base URL with the headers every request carries and the URIs of the fixed paths, built once
/// so that no request rebuilds them.
#[derive(Debug, Clone)]
pub struct Endpoint {
    base: BaseUrl,
    headers: HeaderMap,
    /// Each operation's complete header map, in the order of [`Operation::ALL`], rebuilt whenever
    /// `headers` changes: a request then costs one clone instead of hashing and inserting every
    /// header again.
    prepared: Vec<HeaderMap>,
    /// Each operation's URI when its path names no backup, in the order of [`Operation::ALL`].
    fixed_uris: Vec<Option<Uri>>,
}

/// Every header of a request of `operation`: the endpoint's own, then the operation's.
fn prepare(base: &BaseUrl, common: &HeaderMap, operation: Operation) -> HeaderMap {
    let spec = operation.spec();
    let mut map = HeaderMap::with_capacity(common.len() + 4);
    // HTTP/1.1 requires `Host`; written here once, an HTTP stack has nothing to format per
    // request. A `Host` among the endpoint's headers replaces it.
    if let Some(host) = base.host_header().filter(|_| !common.contains_key(HOST)) {
        map.insert(HOST, host);
    }
    map.extend(common.iter().map(|(k, v)| (k.clone(), v.clone())));
    if spec.websocket {
        // The handshake of RFC 6455 but its key, which is random per connection: the transport
        // adds `Sec-WebSocket-Key`. The input goes as the first message, not as a body.
        map.insert(UPGRADE, HeaderValue::from_static("websocket"));
        map.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        map.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return map;
    }
    map.insert(ACCEPT, HeaderValue::from_static(spec.accept));
    if spec.request != RequestBody::None {
        // The official client sends a JSON content type even when the body is empty.
        map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if spec.method != http::Method::GET {
        // A placeholder, so that setting the real length replaces a value instead of growing
        // the map.
        map.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    map
}

impl Endpoint {
    /// An endpoint at `base` with this SDK's User-Agent.
    pub fn new(base: BaseUrl) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
        // The fixed paths are plain ASCII under a prefix that already parsed as a URI path.
        let fixed_uris = Operation::ALL
            .iter()
            .map(|op| {
                (!op.takes_id())
                    .then(|| base.join(op.path_template()).ok())
                    .flatten()
            })
            .collect();
        let mut endpoint = Self {
            base,
            headers,
            prepared: Vec::new(),
            fixed_uris,
        };
        endpoint.prepare();
        endpoint
    }

    fn prepare(&mut self) {
        self.prepared = Operation::ALL
            .iter()
            .map(|&op| prepare(&self.base, &self.headers, op))
            .collect();
    }

    /// The base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    /// The same headers at another base URL: where a Pieces OS that restarted on another port
    /// is reached.
    pub fn with_base_url(&self, base: BaseUrl) -> Self {
        let mut moved = Self::new(base);
        moved.headers = self.headers.clone();
        moved.prepare();
        moved
    }

    /// Replaces the User-Agent.
    pub fn set_user_agent(&mut self, user_agent: &str) -> Result<(), Error> {
        let value = HeaderValue::from_str(user_agent).map_err(|_| Error::InvalidRequest {
            reason: format!("invalid User-Agent {user_agent:?}"),
        })?;
        self.headers.insert(USER_AGENT, value);
        self.prepare();
        Ok(())
    }

    /// Adds a header to every request, such as `X-Application-ID`.
    ///
    /// `Accept`, `Content-Type` and `Content-Length` are the operation's own and replace a value
    /// given here.
    pub fn insert_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers.insert(name, value);
        self.prepare();
    }

    /// The headers every request carries.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Every header of a request of `operation`, `Content-Length` excepted (it is 0 here).
    pub(crate) fn request_headers(&self, operation: Operation) -> &HeaderMap {
        &self.prepared[operation.index()]
    }

    /// The URI of a call of `operation`, with `id` in place of `{backup}` as one encoded segment.
    pub fn uri(&self, operation: Operation, id: Option<&BackupId>) -> Result<Uri, Error> {
        if let Some(uri) = &self.fixed_uris[operation.index()] {
            return Ok(uri.clone());
        }
        let template = operation.path_template();
        let id = id.ok_or_else(|| Error::InvalidRequest {
            reason: format!("{operation} needs a backup id"),
        })?;
        let path = template.replacen(ID_PLACEHOLDER, &id.path_segment(), 1);
        self.base.join(&path)
    }
}

impl Default for Endpoint {
    fn default() -> Self {
        let base = DEFAULT_BASE_URL
            .parse()
            .unwrap_or_else(|_| unreachable!("the default base URL is valid"));
        Self::new(base)
    }
}

/// The header naming the calling application, which Pieces OS accepts on every call.
pub const APPLICATION_ID: &str = "x-application-id";

/// Something that can be read as a [`BaseUrl`]: a string or a `BaseUrl`.
pub trait IntoBaseUrl {
    /// Parses or passes on the base URL.
    fn into_base_url(self) -> Result<BaseUrl, Error>;
}

impl IntoBaseUrl for BaseUrl {
    fn into_base_url(self) -> Result<BaseUrl, Error> {
        Ok(self)
    }
}

impl IntoBaseUrl for &BaseUrl {
    fn into_base_url(self) -> Result<BaseUrl, Error> {
        Ok(self.clone())
    }
}

impl IntoBaseUrl for &str {
    fn into_base_url(self) -> Result<BaseUrl, Error> {
        self.parse()
    }
}

impl IntoBaseUrl for String {
    fn into_base_url(self) -> Result<BaseUrl, Error> {
        self.parse()
    }
}

impl IntoBaseUrl for &String {
    fn into_base_url(self) -> Result<BaseUrl, Error> {
        self.parse()
    }
}
