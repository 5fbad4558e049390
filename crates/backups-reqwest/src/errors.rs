//! Turning reqwest's and tokio-tungstenite's errors into the SDK's [`Error`].

use std::error::Error as StdError;
use std::io;

use backups_proto::{Error, Operation, TimeoutKind, TransportKind, describe_chain};

/// Whether an [`io::Error`] of `kind` is anywhere in the chain of `error`.
pub(crate) fn chain_has_io_kind(error: &(dyn StdError + 'static), kind: io::ErrorKind) -> bool {
    let mut next = Some(error);
    while let Some(err) = next {
        if err
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        next = err.source();
    }
    false
}

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

/// Maps a failure of a WebSocket of `operation` whose messages are bounded by `max_frame`.
pub(crate) fn from_socket_error(
    error: tokio_tungstenite::tungstenite::Error,
    operation: Operation,
    max_frame: usize,
) -> Error {
    use tokio_tungstenite::tungstenite::Error as WsError;
    use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
    match error {
        WsError::Capacity(CapacityError::MessageTooLong { .. }) => Error::FrameTooLarge {
            operation,
            limit: max_frame,
        },
        // As for an HTTP body cut short: what was read is whole, but the end was never said.
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Error::Truncated {
            operation,
            detail: "the connection closed without a close frame".into(),
        },
        WsError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => Error::Truncated {
            operation,
            detail: describe_chain("the connection closed inside a message", &io),
        },
        // Broken WebSocket or text that is not UTF-8: reading it again would not change it.
        WsError::Utf8(_) | WsError::Protocol(_) => Error::UnexpectedMessage {
            operation,
            detail: describe_chain("", &error),
        },
        other => Error::transport(TransportKind::Io, describe_chain("the WebSocket", &other))
            .with_operation(operation),
    }
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

    #[test]
    fn a_socket_closed_without_a_close_frame_is_truncated() {
        use tokio_tungstenite::tungstenite::Error as WsError;
        use tokio_tungstenite::tungstenite::error::ProtocolError;
        let err = from_socket_error(
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake),
            Operation::CreateOverWebSocket,
            16,
        );
        assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    }
}
