//! Turning ureq's and tungstenite's errors into the SDK's [`Error`].

use std::io;

use backups_proto::{Error, Operation, TimeoutKind, TransportKind, describe_chain, socket_error};

/// Whether ureq's `error` happened before anything was sent: no connection was made, so the
/// client may retry any call.
fn not_connected(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            io::ErrorKind::ConnectionRefused
                | io::ErrorKind::AddrNotAvailable
                | io::ErrorKind::NotConnected
        ),
        _ => false,
    }
}

/// Maps a failure before the response head arrived.
///
/// Nothing connected is `Connect` (ureq's connect timeout is [`TimeoutKind::Connect`]), so that
/// the client may retry an idempotent call; anything after the connection was made is `Io`.
/// Any other timeout is [`TimeoutKind::Request`]: the answer did not come in time.
pub(crate) fn from_call_error(error: ureq::Error, operation: Option<Operation>) -> Error {
    let mapped = match &error {
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
            Error::timeout(TimeoutKind::Connect)
        }
        ureq::Error::Timeout(_) => Error::timeout(TimeoutKind::Request),
        ureq::Error::Http(_) | ureq::Error::BadUri(_) => {
            return Error::InvalidRequest {
                reason: describe_chain("ureq refused the request", &error),
            };
        }
        err if not_connected(err) => {
            Error::transport(TransportKind::Connect, describe_chain("", err))
        }
        err => Error::transport(TransportKind::Io, describe_chain("", err)),
    };
    mapped.with_operation(operation)
}

/// Maps a failure while a body was read: `streamed` says which timeout a timeout stands for
/// (a stream's idle timeout, or a plain call's request timeout).
pub(crate) fn from_body_error(
    error: &io::Error,
    operation: Option<Operation>,
    streamed: bool,
) -> Error {
    let inner = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>());
    let timed_out = matches!(inner, Some(ureq::Error::Timeout(_)))
        || matches!(
            error.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        );
    if timed_out {
        let kind = if streamed {
            TimeoutKind::Idle
        } else {
            TimeoutKind::Request
        };
        return Error::timeout(kind).with_operation(operation);
    }
    if let Some(operation) = operation {
        // The peer closed the connection before the declared length or the last chunk.
        let cut = error.kind() == io::ErrorKind::UnexpectedEof
            || matches!(inner, Some(ureq::Error::Io(io)) if io.kind() == io::ErrorKind::UnexpectedEof)
            || matches!(inner, Some(ureq::Error::Protocol(_)));
        if cut {
            return Error::Truncated {
                operation,
                detail: describe_chain("the connection closed before the body was complete", error),
            };
        }
    }
    Error::transport(
        TransportKind::Io,
        describe_chain("reading the response body", error),
    )
    .with_operation(operation)
}

/// Maps a failure of a WebSocket of `operation` whose messages are bounded by `max_frame`: the
/// SDK's mapping ([`socket_error`]), and first what a blocking socket meets that an async one
/// does not: its read timeout (the idle timeout) and a reset seen as an IO error.
pub(crate) fn from_socket_error(
    error: tungstenite::Error,
    operation: Operation,
    max_frame: usize,
) -> Error {
    match error {
        tungstenite::Error::Io(io)
            if matches!(
                io.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            Error::timeout(TimeoutKind::Idle).with_operation(operation)
        }
        tungstenite::Error::Io(io)
            if matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            ) =>
        {
            Error::Truncated {
                operation,
                detail: describe_chain("the connection closed inside a message", &io),
            }
        }
        other => socket_error(other, operation, max_frame),
    }
}
