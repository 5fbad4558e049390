//! What the command's exit statuses mean, and which error maps to which.

use std::process::ExitCode;

use backups_proto::{Error, TransportKind};

/// The exit statuses documented in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Usage = 2,
    CannotConnect = 3,
    SignIn = 4,
    UpdateOs = 5,
    ServerError = 6,
    BadResponse = 7,
    TimedOut = 8,
    Interrupted = 130,
}

impl Exit {
    pub(crate) fn for_error(error: &Error) -> Self {
        match error {
            Error::Unauthenticated { .. } => Self::SignIn,
            Error::OsOutdated { .. } => Self::UpdateOs,
            Error::Internal { .. } | Error::UnexpectedStatus { .. } => Self::ServerError,
            Error::Timeout { .. } => Self::TimedOut,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            } => Self::CannotConnect,
            Error::InvalidRequest { .. } => Self::Usage,
            _ => Self::BadResponse,
        }
    }

    pub(crate) fn code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}
