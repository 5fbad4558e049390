//! Turning hyper's and hyper-util's errors into the SDK's [`Error`].

use core::fmt;
use std::error::Error as StdError;
use std::io;

use backups_proto::{
    Error, Operation, TimeoutKind, TransportKind, chain_has_io_kind, describe_chain,
};

/// A lower-level failure, told as one line ([`describe_chain`]): hyper-util's top-level errors
/// say little ("client error (Connect)"), the useful part is deeper in the chain.
#[derive(Debug)]
pub(crate) struct Failure(String);

impl Failure {
    pub(crate) fn new(context: &str, error: &(dyn StdError + 'static)) -> Self {
        Self(describe_chain(context, error))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Failure {}

/// Maps a failure of the headers phase. `target` names the host and port, for the message.
pub(crate) fn from_client_error(
    error: hyper_util::client::legacy::Error,
    target: &str,
    operation: Option<Operation>,
) -> Error {
    if error.is_connect() {
        // hyper-util's HttpConnector reports its connect timeout as an io::Error of kind
        // TimedOut inside the chain; an OS-level connect timeout looks the same and means the
        // same thing.
        if chain_has_io_kind(&error, io::ErrorKind::TimedOut) {
            return Error::timeout(TimeoutKind::Connect).with_operation(operation);
        }
        return Error::transport(TransportKind::Connect, Failure::new(target, &error))
            .with_operation(operation);
    }
    Error::transport(TransportKind::Io, Failure::new(target, &error)).with_operation(operation)
}

/// Maps a failure while the body was being read.
pub(crate) fn from_body_error(error: hyper::Error, operation: Option<Operation>) -> Error {
    match operation {
        // The peer closed the connection before the declared length or the last chunk: the
        // body is cut, which is what Truncated says. hyper reports that as an io::Error of
        // kind UnexpectedEof in the chain (its own "incomplete message" is for the head).
        Some(operation)
            if error.is_incomplete_message()
                || chain_has_io_kind(&error, io::ErrorKind::UnexpectedEof) =>
        {
            Error::Truncated {
                operation,
                detail: Failure::new("the connection closed before the body was complete", &error)
                    .to_string(),
            }
        }
        _ => Error::transport(
            TransportKind::Io,
            Failure::new("reading the response body", &error),
        )
        .with_operation(operation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn failure_joins_the_chain() {
        let err = Outer(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(
            Failure::new("127.0.0.1:1", &err).to_string(),
            "127.0.0.1:1: tcp connect error: refused"
        );
        assert!(chain_has_io_kind(&err, io::ErrorKind::ConnectionRefused));
        assert!(!chain_has_io_kind(&err, io::ErrorKind::TimedOut));
    }
}
