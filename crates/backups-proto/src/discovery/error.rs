//! [`DiscoveryError`]: discovery found nothing, or its client could not be built.

use core::fmt;

use crate::Error;
use crate::discovery::{Finding, NotFound};

/// Finding Pieces OS and building a client for it failed: what the `discover` methods of the
/// async (`backups-hyper`) and blocking (`backups-blocking`) clients return.
#[derive(Debug)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// No healthy Pieces OS at any place; the findings say what each place held.
    NotFound(NotFound),
    /// A Pieces OS was found, but the client could not be built (an invalid setting of its
    /// builder).
    Client(Error),
}

impl DiscoveryError {
    /// What each place held, when nothing was found.
    pub fn findings(&self) -> &[Finding] {
        match self {
            Self::NotFound(not_found) => &not_found.findings,
            Self::Client(_) => &[],
        }
    }
}

impl From<NotFound> for DiscoveryError {
    fn from(not_found: NotFound) -> Self {
        Self::NotFound(not_found)
    }
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The report is the whole message, so it is not also given as the source.
            Self::NotFound(not_found) => write!(f, "{not_found}"),
            Self::Client(err) => write!(f, "Pieces OS was found, but {err}"),
        }
    }
}

impl std::error::Error for DiscoveryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotFound(_) => None,
            Self::Client(err) => Some(err),
        }
    }
}

/// Lets `?` turn a failed discovery into the SDK's error: not finding Pieces OS is a failure to
/// connect, nothing having been sent.
impl From<DiscoveryError> for Error {
    fn from(err: DiscoveryError) -> Self {
        match err {
            DiscoveryError::NotFound(not_found) => not_found.into(),
            DiscoveryError::Client(err) => err,
        }
    }
}
