//! [`Endpoint`]: where requests go and the headers every request carries, built once.

use http::Uri;
use http::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use http::uri::{Authority, Scheme};

use crate::Error;

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
    list_uri: Uri,
    create_uri: Uri,
    create_streamed_uri: Uri,
}

impl Endpoint {
    /// An endpoint at `base` with this SDK's User-Agent.
    pub fn new(base: BaseUrl) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
        // The fixed paths are plain ASCII under a prefix that already parsed as a URI path.
        let fixed = |path: &str| base.join(path).unwrap_or_else(|_| Uri::from_static("/"));
        Self {
            list_uri: fixed("/backups"),
            create_uri: fixed("/backups/create"),
            create_streamed_uri: fixed("/backups/create/streamed"),
            base,
            headers,
        }
    }

    /// The base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    /// Replaces the User-Agent.
    pub fn set_user_agent(&mut self, user_agent: &str) -> Result<(), Error> {
        let value = HeaderValue::from_str(user_agent).map_err(|_| Error::InvalidRequest {
            reason: format!("invalid User-Agent {user_agent:?}"),
        })?;
        self.headers.insert(USER_AGENT, value);
        Ok(())
    }

    /// Adds a header to every request, such as `X-Application-ID`.
    pub fn insert_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers.insert(name, value);
    }

    /// The headers every request carries.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub(crate) fn list_uri(&self) -> &Uri {
        &self.list_uri
    }

    pub(crate) fn create_uri(&self) -> &Uri {
        &self.create_uri
    }

    pub(crate) fn create_streamed_uri(&self) -> &Uri {
        &self.create_streamed_uri
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
