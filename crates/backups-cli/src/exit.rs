//! What the command's exit statuses mean, and which error maps to which.

use std::process::ExitCode;

use backups_proto::{Error, ErrorKind, TransportKind};

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
        match error.kind() {
            ErrorKind::Unauthenticated => Self::SignIn,
            ErrorKind::OsOutdated => Self::UpdateOs,
            ErrorKind::Internal | ErrorKind::UnexpectedStatus => Self::ServerError,
            ErrorKind::Timeout(_) => Self::TimedOut,
            ErrorKind::Transport(TransportKind::Connect) => Self::CannotConnect,
            ErrorKind::InvalidRequest => Self::Usage,
            _ => Self::BadResponse,
        }
    }

    pub(crate) fn code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}
