//! Turning reqwest's and tokio-tungstenite's errors into the SDK's [`Error`].

use std::error::Error as StdError;
use std::io;

use backups_proto::{
    Error, Operation, TimeoutKind, TransportKind, chain_has_io_kind, describe_chain,
};

/// Maps a failure before the response head arrived.
///
/// Nothing connected is `Connect` (reqwest's own connect timeout is `TimeoutKind::Connect`),
/// so that the client may retry an idempotent call; anything after the connection was made is
/// `Io`. A timeout of the caller's client (its `timeout` or `read_timeout`) is a request
/// timeout: the answer did not come in time.
pub(crate) fn from_send_error(error: reqwest::Error, operation: Option<Operation>) -> Error {
    let error_ref: &(dyn StdError + 'static) = &error;
    let mapped = if error.is_connect() {
        if error.is_timeout() || chain_has_io_kind(error_ref, io::ErrorKind::TimedOut) {
            Error::timeout(TimeoutKind::Connect)
        } else {
            Error::transport(TransportKind::Connect, describe_chain("", error_ref))
        }
    } else if error.is_timeout() {
        Error::timeout(TimeoutKind::Request)
    } else if error.is_builder() {
        return Error::InvalidRequest {
            reason: describe_chain("reqwest refused the request", error_ref),
        };
    } else {
        Error::transport(TransportKind::Io, describe_chain("", error_ref))
    };
    mapped.with_operation(operation)
}

/// Maps a failure while the body was read; `streamed` says which timeout a timeout of the
/// caller's client stands for.
pub(crate) fn from_body_error(
    error: reqwest::Error,
    operation: Option<Operation>,
    streamed: bool,
) -> Error {
    let error_ref: &(dyn StdError + 'static) = &error;
    if let Some(operation) = operation {
        // The peer closed the connection before the declared length or the last chunk: hyper
        // reports it as an io::Error of kind UnexpectedEof in the chain.
        if chain_has_io_kind(error_ref, io::ErrorKind::UnexpectedEof) {
            return Error::Truncated {
                operation,
                detail: describe_chain(
                    "the connection closed before the body was complete",
                    error_ref,
                ),
            };
        }
    }
    let mapped = if error.is_timeout() {
        Error::timeout(if streamed {
            TimeoutKind::Idle
        } else {
            TimeoutKind::Request
        })
    } else {
        Error::transport(
            TransportKind::Io,
            describe_chain("reading the response body", error_ref),
        )
    };
    mapped.with_operation(operation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct Outer(io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("tcp connect error")
        }
    }

    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn describe_joins_the_chain_and_finds_io_kinds() {
        let err = Outer(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(
            describe_chain("127.0.0.1:1", &err),
            "127.0.0.1:1: tcp connect error: refused"
        );
        assert!(chain_has_io_kind(&err, io::ErrorKind::ConnectionRefused));
        assert!(!chain_has_io_kind(&err, io::ErrorKind::UnexpectedEof));
    }
}
