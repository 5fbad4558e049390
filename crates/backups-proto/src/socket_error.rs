//! [`socket_error`]: a tungstenite socket's failure as the SDK's [`Error`], one mapping for every
//! transport whose sockets are tungstenite's (feature `tungstenite`).

use std::io;

use tungstenite::Error as WsError;
use tungstenite::error::{CapacityError, ProtocolError};

use crate::{Error, Operation, TransportKind, describe_chain};

/// Maps a failure of a WebSocket of `operation` whose messages are bounded by `max_frame`:
/// - a message over the limit is [`Error::FrameTooLarge`];
/// - a connection that closed without a close frame, or inside a message, is
///   [`Error::Truncated`] (as an HTTP body cut short: what was read is whole, but the end was
///   never said);
/// - broken WebSocket framing or text that is not UTF-8 is [`Error::UnexpectedMessage`]: reading
///   it again would not change it;
/// - anything else is [`Error::Transport`] of kind [`TransportKind::Io`].
pub fn socket_error(error: WsError, operation: Operation, max_frame: usize) -> Error {
    match error {
        WsError::Capacity(CapacityError::MessageTooLong { .. }) => Error::FrameTooLarge {
            operation,
            limit: max_frame,
        },
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Error::Truncated {
            operation,
            detail: "the connection closed without a close frame".into(),
        },
        WsError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => Error::Truncated {
            operation,
            detail: describe_chain("the connection closed inside a message", &io),
        },
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

    #[test]
    fn a_socket_closed_without_a_close_frame_is_truncated() {
        let err = socket_error(
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake),
            Operation::CreateOverWebSocket,
            16,
        );
        assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    }
}
