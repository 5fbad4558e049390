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
