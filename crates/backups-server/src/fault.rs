//! Simulated Pieces OS failures, for testing clients' error handling.

use std::fmt;
use std::str::FromStr;

use http::StatusCode;

/// A failure every backups call answers with, as Pieces OS does in these situations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// 511 Network Authentication Required: the user is not signed in to the OS.
    Unauthenticated,
    /// 505 HTTP Version Not Supported: the user's OS is too old for cloud backups.
    Outdated,
    /// 500 Internal Server Error.
    InternalError,
}

impl Fault {
    /// Every fault, in the order the command line lists them.
    pub const ALL: [Fault; 3] = [
        Fault::Unauthenticated,
        Fault::Outdated,
        Fault::InternalError,
    ];

    /// The name used on the command line: `unauthenticated`, `outdated` or `internal-error`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Unauthenticated => "unauthenticated",
            Fault::Outdated => "outdated",
            Fault::InternalError => "internal-error",
        }
    }

    /// The status Pieces OS answers with.
    pub fn status(self) -> StatusCode {
        match self {
            Fault::Unauthenticated => StatusCode::NETWORK_AUTHENTICATION_REQUIRED,
            Fault::Outdated => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            Fault::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The text/plain body sent with the status.
    pub fn message(self) -> &'static str {
        match self {
            Fault::Unauthenticated => {
                "Authentication Required: you need to be signed in to Pieces OS to use cloud backups."
            }
            Fault::Outdated => {
                "HTTP Version Not Supported: update Pieces OS to perform backup operations with the cloud."
            }
            Fault::InternalError => "Internal Server Error: the backup service failed (simulated).",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Fault`] from a name it does not have.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown fault {0:?}: expected unauthenticated, outdated or internal-error")]
pub struct UnknownFault(String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .into_iter()
            .find(|fault| fault.name() == s)
            .ok_or_else(|| UnknownFault(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>().ok(), Some(fault));
        }
        assert!("teapot".parse::<Fault>().is_err());
    }
}
