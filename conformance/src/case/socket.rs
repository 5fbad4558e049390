//! The messages of a WebSocket exchange after its `101`: [`SocketScript`], its steps
//! ([`SocketStep`]), the messages the server sends ([`ReplayMessage`]) and those the client must
//! send ([`ExpectedMessage`]), read from a HAR entry's `_webSocketMessages` and `_stall`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde_json::Value;

use crate::har::{Direction, Entry, WebSocketMessage};

/// The messages of a WebSocket exchange after its `101`, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SocketScript {
    /// What each side does, in the recorded order: the server sends the messages before the
    /// first `Send` at once, then waits for the client's message before going on.
    pub steps: Vec<SocketStep>,
    /// Whether the server goes silent after its last message, the connection open (`_stall`).
    pub stall: bool,
}

/// One step of a [`SocketScript`].
#[derive(Debug, Clone, PartialEq)]
pub enum SocketStep {
    /// The server sends a message, written on the wire in segments of these lengths first
    /// (`_split`; empty: in one write).
    Receive(ReplayMessage, Vec<usize>),
    /// The client must send this message.
    Send(ExpectedMessage),
}

/// A message the server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayMessage {
    /// Opcode 1.
    Text(String),
    /// Opcode 2.
    Binary(Bytes),
    /// Opcode 8, with its code; nothing follows it.
    Close(Option<u16>),
}

/// A data message the client must send (its close frames are not checked: a client closes when
/// it is done).
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedMessage {
    /// A text message holding JSON, compared as JSON.
    Json(Value),
    /// A text message that is not JSON, compared as text.
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

impl SocketScript {
    /// The data message the client must send first, if any.
    pub fn first_sent(&self) -> Option<&ExpectedMessage> {
        self.steps.iter().find_map(|step| match step {
            SocketStep::Send(message) => Some(message),
            SocketStep::Receive(..) => None,
        })
    }

    /// The messages the server sends, in order.
    pub fn received(&self) -> impl Iterator<Item = &ReplayMessage> {
        self.steps.iter().filter_map(|step| match step {
            SocketStep::Receive(message, _) => Some(message),
            SocketStep::Send(_) => None,
        })
    }

    /// Whether the server ends with a close frame.
    pub fn closes(&self) -> bool {
        self.received()
            .last()
            .is_some_and(|m| matches!(m, ReplayMessage::Close(_)))
    }
}

/// The `_webSocketMessages` and `_stall` of an entry, if it has either.
pub(crate) fn socket_script(entry: &Entry) -> Result<Option<SocketScript>, String> {
    let stall = entry.stall.unwrap_or(false);
    let Some(messages) = &entry.web_socket_messages else {
        return if entry.stall.is_some() {
            Err("_stall without _webSocketMessages".into())
        } else {
            Ok(None)
        };
    };
    let mut steps = Vec::with_capacity(messages.len());
    for (index, message) in messages.iter().enumerate() {
        let step =
            socket_step(message).map_err(|why| format!("_webSocketMessages[{index}]: {why}"))?;
        if let Some(step) = step {
            if matches!(
                steps.last(),
                Some(SocketStep::Receive(ReplayMessage::Close(_), _))
            ) {
                return Err(format!(
                    "_webSocketMessages[{index}]: nothing follows the server's close"
                ));
            }
            steps.push(step);
        }
    }
    let script = SocketScript { steps, stall };
    if stall && script.closes() {
        return Err("_stall: a server that closes does not stall".into());
    }
    Ok(Some(script))
}

/// One message as a step; the client's close frames are not checked, so they are no step.
fn socket_step(message: &WebSocketMessage) -> Result<Option<SocketStep>, String> {
    let split = message.split.clone().unwrap_or_default();
    if message.direction == Direction::Send && !split.is_empty() {
        return Err("_split is for what the server sends".into());
    }
    if split.contains(&0) {
        return Err("_split lengths are positive".into());
    }
    let data = &message.data;
    let binary = || {
        BASE64
            .decode(data.as_bytes())
            .map(Bytes::from)
            .map_err(|e| format!("the data of a binary message is base64: {e}"))
    };
    Ok(Some(match (message.direction, message.opcode) {
        (Direction::Receive, 1) => SocketStep::Receive(ReplayMessage::Text(data.clone()), split),
        (Direction::Receive, 2) => SocketStep::Receive(ReplayMessage::Binary(binary()?), split),
        (Direction::Receive, 8) => {
            SocketStep::Receive(ReplayMessage::Close(close_code(data)?), split)
        }
        (Direction::Send, 1) => SocketStep::Send(match serde_json::from_str(data) {
            Ok(value) => ExpectedMessage::Json(value),
            Err(_) => ExpectedMessage::Text(data.clone()),
        }),
        (Direction::Send, 2) => SocketStep::Send(ExpectedMessage::Binary(binary()?)),
        (Direction::Send, 8) => return Ok(None),
        (_, opcode) => {
            return Err(format!(
                "opcode {opcode}: a case replays text (1), binary (2) and close (8) frames"
            ));
        }
    }))
}

/// The code of a close frame's `data`: `"1000"`, or nothing.
fn close_code(data: &str) -> Result<Option<u16>, String> {
    if data.trim().is_empty() {
        return Ok(None);
    }
    data.trim()
        .parse()
        .map(Some)
        .map_err(|_| format!("the data of a close is its code, such as \"1000\", got {data:?}"))
}
