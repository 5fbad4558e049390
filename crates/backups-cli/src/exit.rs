//! What the command's exit statuses mean, and which error maps to which.

use std::process::ExitCode;

use backups_proto::{Error, ErrorKind, TransportKind};

/// The exit statuses documented in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Local = 1,
    Usage = 2,
    CannotConnect = 3,
    SignIn = 4,
    UpdateOs = 5,
    ServerError = 6,
    BadResponse = 7,
    TimedOut = 8,
    NotFound = 9,
    /// Pieces OS restarted during a create or restore and forgot it: how it ended is unknown.
    OutcomeUnknown = 10,
    Interrupted = 130,
}

impl Exit {
    pub(crate) fn for_error(error: &Error) -> Self {
        match error.kind() {
            ErrorKind::Unauthenticated => Self::SignIn,
            ErrorKind::OsOutdated => Self::UpdateOs,
            ErrorKind::Internal | ErrorKind::UnexpectedStatus | ErrorKind::Ended => {
                Self::ServerError
            }
            ErrorKind::NotFound => Self::NotFound,
            ErrorKind::OutcomeUnknown => Self::OutcomeUnknown,
            ErrorKind::Timeout(_) => Self::TimedOut,
            // A connection lost mid-call is the network's (or a stopped Pieces OS's) doing, not
            // a bad answer: the same status as one that could not be made.
            ErrorKind::Transport(TransportKind::Connect | TransportKind::Io) => Self::CannotConnect,
            ErrorKind::InvalidRequest => Self::Usage,
            _ => Self::BadResponse,
        }
    }

    pub(crate) fn code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;
    use crate::args::EXIT_STATUSES;

    #[test]
    fn every_exit_status_is_documented_in_help() {
        for exit in [
            Exit::Local,
            Exit::Usage,
            Exit::CannotConnect,
            Exit::SignIn,
            Exit::UpdateOs,
            Exit::ServerError,
            Exit::BadResponse,
            Exit::TimedOut,
            Exit::NotFound,
            Exit::OutcomeUnknown,
            Exit::Interrupted,
        ] {
            let code = exit as u8;
            let documented = EXIT_STATUSES
                .lines()
                .any(|line| line.trim_start().starts_with(&format!("{code} ")));
            assert!(
                documented,
                "{exit:?} ({code}) is missing from EXIT_STATUSES"
            );
        }
    }
}
