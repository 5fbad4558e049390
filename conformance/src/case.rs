//! [`Case`]: a HAR file turned into what a test needs: the calls to make, the requests they must
//! produce, the responses to replay chunk by chunk, and the expected outcome.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use backups_models::{Backup, SeededBackup};
use backups_proto::operations::{AnyOperation, CreateOverSocket, RestoreOverSocket, WatchProgress};
use backups_proto::{BackupId, Operation, RequestBody};

use crate::generate;
use crate::har::{
    Chunks, Direction, Entry, ExpectField, ExpectedOutcome, Har, Live, LiveStep, OperationField,
    WebSocketMessage,
};

/// Request headers that vary by client and say nothing about the API: not compared unless a case
/// lists them in `_requireHeaders`.
pub const RELAXED: &[&str] = &[
    "user-agent",
    "host",
    "connection",
    "accept-encoding",
    "keep-alive",
    "x-application-id",
    // New per connection (RFC 6455): the transport's own, checked by the replay server's
    // handshake, never by value.
    "sec-websocket-key",
    "sec-websocket-extensions",
];

/// The directory of the cases shipped with this crate.
pub const BUILTIN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/exchanges");

/// Why a case could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not a HAR document.
    #[error("{path} is not a HAR 1.2 document: {source}")]
    Har {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// The HAR document does not describe a valid case.
    #[error("case {case}: {reason}")]
    Invalid {
        /// The case name.
        case: String,
        /// What is wrong.
        reason: String,
    },
}

/// One conformance case: a HAR file of one or more exchanges, strictly ordered.
#[derive(Debug, Clone)]
pub struct Case {
    /// The file name without `.har`; also the name of its snapshot.
    pub name: String,
    /// The case family the results table counts it under, such as `error-status`.
    pub family: String,
    /// Where the case's facts come from.
    pub source: String,
    /// What the case is about.
    pub comment: String,
    /// How a live server reproduces the case, if it can.
    pub live: Option<LiveSetup>,
    /// The exchanges, in order.
    pub exchanges: Vec<Exchange>,
}

/// How a live server reproduces a case (the `_live` field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveSetup {
    /// The server as it starts.
    Plain,
    /// The server simulating a failure: `unauthenticated`, `outdated` or `internal-error`.
    Fault(String),
    /// A backup is created first; the case's calls of operations that name a backup use its id.
    CreateFirst,
    /// A backup is created and restored first; the case's calls use its id.
    RestoreFirst,
    /// The streamed create or restore the case's calls read the status of or cancel runs while
    /// they are made; they use its id.
    WhileRunning,
}

/// One HTTP exchange: the request that must be sent, the response replayed, and, when a call of
/// its own makes it, that call and its expected outcome.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The SDK call to make; for a follow-up, the operation whose request this is (inferred from
    /// method and path), made by the previous call.
    pub call: Call,
    /// The request it must produce.
    pub request: ExpectedRequest,
    /// The response to answer with.
    pub response: RecordedResponse,
    /// The outcome the client must return; for a follow-up, the outcome of the call that made
    /// it (it has no `_expect` of its own).
    pub expect: Expect,
    /// Whether the previous call makes this exchange (`_followUp`) instead of a call of its own:
    /// runners make no call for it, the replay serves and checks it in order all the same.
    pub follow_up: bool,
    /// For a WebSocket channel, what happens after the handshake (`_webSocketMessages`,
    /// `_stall`); `None` for an HTTP call.
    pub socket: Option<SocketScript>,
}

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

/// A WebSocket channel call as the client's typed value: [`Call::to_channel`].
#[derive(Debug, Clone, PartialEq)]
// One value per call, built and moved once: boxing the restore's input would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum ChannelCall {
    /// The progress socket.
    Watch(WatchProgress),
    /// The create socket.
    Create(CreateOverSocket),
    /// The restore socket.
    Restore(RestoreOverSocket),
}

/// An SDK call with its inputs (the `_operation` field), run through [`Client::run`] as the
/// [`AnyOperation`] it builds: any operation gets replay, transport and live checks with no code
/// of its own here.
///
/// [`Client::run`]: backups_proto::Client::run
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The operation.
    pub operation: Operation,
    /// The backup id as the caller gives it (before encoding), for operations whose path names
    /// one.
    pub id: Option<String>,
    /// The JSON request body, if any.
    pub body: Option<Value>,
}

impl Call {
    /// The operation the call makes.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The operation value the call runs: the id checked, the body decoded as the operation's
    /// model.
    pub fn to_operation(&self) -> Result<AnyOperation, backups_proto::Error> {
        let id = self.id.clone().map(BackupId::new).transpose()?;
        let body = self
            .body
            .as_ref()
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|err| backups_proto::Error::InvalidRequest {
                reason: err.to_string(),
            })?;
        AnyOperation::from_parts(self.operation, id, body.as_deref())
    }

    /// The channel value the call opens, for a WebSocket channel: the id checked, the input
    /// decoded as the channel's model. (`backups_proto` has no `AnyOperation` for channels, so
    /// this is the one place that names each.)
    pub fn to_channel(&self) -> Result<ChannelCall, backups_proto::Error> {
        let invalid = |reason: String| backups_proto::Error::InvalidRequest { reason };
        let op = self.operation;
        let id = self.id.clone().map(BackupId::new).transpose()?;
        match (op.takes_id(), &id) {
            (false, Some(id)) => {
                return Err(invalid(format!("{op} takes no backup id, got {id:?}")));
            }
            (true, None) => return Err(invalid(format!("{op} needs a backup id"))),
            _ => {}
        }
        if op.spec().request == RequestBody::None && self.body.is_some() {
            return Err(invalid(format!("{op} takes no input")));
        }
        let body = |value: &Value| {
            if value.is_object() {
                Ok(value.clone())
            } else {
                Err(invalid(format!("the {op} input is not a JSON object")))
            }
        };
        let seed = || -> Result<Option<SeededBackup>, backups_proto::Error> {
            self.body
                .as_ref()
                .map(|v| serde_json::from_value(body(v)?).map_err(|e| invalid(e.to_string())))
                .transpose()
        };
        let backup = || -> Result<Option<Backup>, backups_proto::Error> {
            self.body
                .as_ref()
                .map(|v| serde_json::from_value(body(v)?).map_err(|e| invalid(e.to_string())))
                .transpose()
        };
        Ok(match op {
            Operation::WatchProgress => ChannelCall::Watch(WatchProgress),
            Operation::CreateOverSocket => ChannelCall::Create(CreateOverSocket { seed: seed()? }),
            Operation::RestoreOverSocket => ChannelCall::Restore(RestoreOverSocket {
                id: id.ok_or_else(|| invalid(format!("{op} needs a backup id")))?,
                backup: backup()?,
            }),
            _ => return Err(invalid(format!("{op} is not a WebSocket channel"))),
        })
    }

    /// A call of `field`, checked against its operation's inputs.
    fn from_field(field: &OperationField) -> Result<Call, String> {
        let (name, id, body) = match field {
            OperationField::Name(name) => (name, None, None),
            OperationField::Call(call) => {
                let body = match (&call.seed, &call.backup) {
                    (Some(_), Some(_)) => {
                        return Err("_operation has both a seed and a backup".into());
                    }
                    (Some(seed), None) => Some((RequestBody::Seed, seed.clone())),
                    (None, backup) => backup.clone().map(|b| (RequestBody::Backup, b)),
                };
                (&call.name, call.id.clone(), body)
            }
        };
        let operation = Operation::from_name(name).ok_or_else(|| {
            let known: Vec<_> = Operation::ALL.iter().map(|op| op.name()).collect();
            format!(
                "unknown operation {name:?}: expected one of {}",
                known.join(", ")
            )
        })?;
        if let Some((kind, _)) = &body {
            if operation.spec().request != *kind {
                return Err(format!(
                    "{operation} takes {:?} as its body, the case gives {kind:?}",
                    operation.spec().request
                ));
            }
        }
        let call = Call {
            operation,
            id,
            body: body.map(|(_, body)| body),
        };
        call.checked()
    }

    /// The call, if it builds an operation: a case that cannot be run fails to load.
    fn checked(self) -> Result<Call, String> {
        if self.operation.is_websocket() {
            self.to_channel().map_err(|err| err.to_string())?;
        } else {
            self.to_operation().map_err(|err| err.to_string())?;
        }
        Ok(self)
    }
}

/// What the request must look like.
#[derive(Debug, Clone)]
pub struct ExpectedRequest {
    /// The method.
    pub method: http::Method,
    /// The path and query, exactly as sent (percent-encoding included).
    pub path_and_query: String,
    /// Headers that must be present with these values (names lowercase).
    pub headers: Vec<(String, String)>,
    /// Headers that must be absent (names lowercase).
    pub forbid: Vec<String>,
    /// The body.
    pub body: ExpectedBody,
}

/// What the request body must be.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedBody {
    /// No body at all.
    Empty,
    /// A JSON body, compared as JSON (key order and spacing do not matter).
    Json(Value),
    /// Exactly these bytes.
    Bytes(Bytes),
}

/// The response replayed for an exchange.
#[derive(Debug, Clone)]
pub struct RecordedResponse {
    /// The status.
    pub status: http::StatusCode,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, split as it is delivered.
    pub chunks: Vec<Bytes>,
    /// Whether the connection drops after the last chunk instead of ending the body.
    pub abort: bool,
}

impl RecordedResponse {
    /// The whole body.
    pub fn body(&self) -> Bytes {
        let mut body = Vec::with_capacity(self.chunks.iter().map(Bytes::len).sum());
        for chunk in &self.chunks {
            body.extend_from_slice(chunk);
        }
        body.into()
    }
}

/// The outcome a case expects (the `_expect` field); the snapshot holds the full outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// `None` for success, or the name of the [`backups_proto::Error`] variant.
    pub error: Option<String>,
    /// The HTTP status the error carries.
    pub status: Option<u16>,
    /// The JSON path a decode error names.
    pub path: Option<String>,
    /// How many progress events a streamed call yields before its result.
    pub events: Option<usize>,
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            None => f.write_str("ok")?,
            Some(kind) => write!(f, "error {kind}")?,
        }
        if let Some(status) = self.status {
            write!(f, " status {status}")?;
        }
        if let Some(path) = &self.path {
            write!(f, " at `{path}`")?;
        }
        if let Some(events) = self.events {
            write!(f, " after {events} events")?;
        }
        Ok(())
    }
}

impl Case {
    /// Reads a case from a HAR file.
    pub fn load(path: &Path) -> Result<Case, CaseError> {
        let text = std::fs::read_to_string(path).map_err(|source| CaseError::Io {
            path: path.to_owned(),
            source,
        })?;
        let har = Har::from_json(&text).map_err(|source| CaseError::Har {
            path: path.to_owned(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        Case::from_har(name, &har)
    }

    /// Reads every `*.har` file of a directory, sorted by name.
    pub fn load_dir(dir: &Path) -> Result<Vec<Case>, CaseError> {
        let entries = std::fs::read_dir(dir).map_err(|source| CaseError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| CaseError::Io {
                path: dir.to_owned(),
                source,
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "har") {
                paths.push(path);
            }
        }
        paths.sort();
        paths.iter().map(|path| Case::load(path)).collect()
    }

    /// The cases shipped with this crate, in `conformance/exchanges/`.
    pub fn builtin() -> Result<Vec<Case>, CaseError> {
        Case::load_dir(Path::new(BUILTIN_DIR))
    }

    /// Builds a case from a parsed HAR document.
    pub fn from_har(name: String, har: &Har) -> Result<Case, CaseError> {
        let invalid = |reason: String| CaseError::Invalid {
            case: name.clone(),
            reason,
        };
        if har.log.entries.is_empty() {
            return Err(invalid("the log has no entries".into()));
        }
        let mut exchanges: Vec<Exchange> = Vec::with_capacity(har.log.entries.len());
        for (index, entry) in har.log.entries.iter().enumerate() {
            let exchange = exchange(entry, exchanges.iter().rev().find(|e| !e.follow_up))
                .map_err(|reason| invalid(format!("entry {index}: {reason}")))?;
            exchanges.push(exchange);
        }
        let live = har.log.live.as_ref().and_then(live_setup);
        Ok(Case {
            family: har.log.family.clone().unwrap_or_else(|| "recorded".into()),
            source: har.log.source.clone().unwrap_or_default(),
            comment: har.log.comment.clone().unwrap_or_default(),
            live,
            exchanges,
            name,
        })
    }

    /// The operation of the case's first call, which the results table files it under.
    pub fn operation(&self) -> Operation {
        self.exchanges[0].call.operation()
    }

    /// The exchanges that start a call of their own, with their index among all exchanges:
    /// what a runner calls, in order (follow-ups are made by the call before them).
    pub fn calls(&self) -> impl Iterator<Item = (usize, &Exchange)> {
        self.exchanges
            .iter()
            .enumerate()
            .filter(|(_, exchange)| !exchange.follow_up)
    }
}

fn live_setup(live: &Live) -> Option<LiveSetup> {
    match live {
        Live::Plain(true) => Some(LiveSetup::Plain),
        Live::Plain(false) => None,
        Live::Step(LiveStep::CreateFirst) => Some(LiveSetup::CreateFirst),
        Live::Step(LiveStep::RestoreFirst) => Some(LiveSetup::RestoreFirst),
        Live::Step(LiveStep::WhileRunning) => Some(LiveSetup::WhileRunning),
        Live::Fault { fault } => Some(LiveSetup::Fault(fault.clone())),
    }
}

/// The exchange of `entry`; `caller` is the last earlier exchange that made a call of its own.
fn exchange(entry: &Entry, caller: Option<&Exchange>) -> Result<Exchange, String> {
    let request = expected_request(entry)?;
    let response = recorded_response(entry)?;
    let script = socket_script(entry)?;
    if entry.follow_up == Some(true) {
        let Some(caller) = caller else {
            return Err("_followUp: the first entry is made by a call of its own".into());
        };
        if entry.operation.is_some() || entry.expect.is_some() {
            return Err(
                "_followUp: the previous call makes this exchange, so it has no _operation or \
                 _expect of its own"
                    .into(),
            );
        }
        let call = infer_call(&request, None)?;
        let by = caller.call.operation();
        // What one call makes: a poll of the status of what it started, or the same request
        // again.
        if by.spec().status != Some(call.operation()) && call.operation() != by {
            return Err(format!(
                "_followUp: a {by} call does not make a {} request",
                call.operation()
            ));
        }
        if script.is_some() {
            return Err("_followUp: a WebSocket exchange is a call of its own".into());
        }
        return Ok(Exchange {
            call,
            request,
            response,
            expect: caller.expect.clone(),
            follow_up: true,
            socket: None,
        });
    }
    let call = match &entry.operation {
        Some(field) => Call::from_field(field)?,
        None => infer_call(&request, script.as_ref())?,
    };
    let socket = channel_script(&call, &response, script)?;
    let expect = match &entry.expect {
        Some(field) => Expect::from_field(field)?,
        None => return Err("_expect is missing: say what the client must return".into()),
    };
    Ok(Exchange {
        call,
        request,
        response,
        expect,
        follow_up: false,
        socket,
    })
}

/// The `_webSocketMessages` and `_stall` of an entry, if it has either.
fn socket_script(entry: &Entry) -> Result<Option<SocketScript>, String> {
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

/// Checks that an exchange is a channel exactly when its call is one, and that its messages fit
/// the channel: after a `101`, a channel with an input has the client send it first (at least
/// `{}`), the progress channel has it send nothing; a refused handshake has no messages.
fn channel_script(
    call: &Call,
    response: &RecordedResponse,
    script: Option<SocketScript>,
) -> Result<Option<SocketScript>, String> {
    let op = call.operation();
    if !op.is_websocket() {
        return match script {
            Some(_) => Err(format!(
                "{op} is an HTTP call: it has no _webSocketMessages"
            )),
            None => Ok(None),
        };
    }
    let script = script.unwrap_or_default();
    if response.status != http::StatusCode::SWITCHING_PROTOCOLS {
        if !script.steps.is_empty() || script.stall {
            return Err(format!(
                "a handshake answered {} upgrades nothing: no _webSocketMessages",
                response.status
            ));
        }
        return Ok(Some(script));
    }
    let sends = script
        .steps
        .iter()
        .filter(|step| matches!(step, SocketStep::Send(_)))
        .count();
    let takes_input = op.spec().request != RequestBody::None;
    match (takes_input, script.first_sent(), sends) {
        (true, Some(ExpectedMessage::Json(value)), 1) => {
            let expected = call.body.clone().unwrap_or_else(|| serde_json::json!({}));
            if *value != expected {
                return Err(format!(
                    "the client sends its input first: {expected}, the recording has {value}"
                ));
            }
        }
        (true, _, _) => {
            return Err(format!(
                "{op} sends its input (at least {{}}) as one JSON text message: list it as a \"send\""
            ));
        }
        (false, None, _) => {}
        (false, Some(_), _) => return Err(format!("{op} sends no message")),
    }
    Ok(Some(script))
}

/// Works out the call from the request, for a HAR captured by another tool: the operation whose
/// method and path template match, with the id decoded from its `{backup}` segment.
fn infer_call(request: &ExpectedRequest, script: Option<&SocketScript>) -> Result<Call, String> {
    let path = request.path_and_query.split('?').next().unwrap_or_default();
    let operation = Operation::ALL
        .into_iter()
        .filter(|op| op.method() == request.method)
        .find_map(|op| match_template(op.path_template(), path).map(|id| (op, id)));
    let Some((operation, segment)) = operation else {
        return Err(format!("no operation is {} {path}", request.method));
    };
    let id = segment
        .map(|segment| {
            percent_decode_str(segment)
                .decode_utf8()
                .map(|id| id.into_owned())
                .map_err(|_| format!("{segment:?} does not decode to UTF-8"))
        })
        .transpose()?;
    let body = match (&request.body, script.and_then(SocketScript::first_sent)) {
        (ExpectedBody::Json(value), _) => Some(value.clone()),
        // A channel's input is its first message; `{}` is no input at all.
        (_, Some(ExpectedMessage::Json(value)))
            if operation.is_websocket() && value.as_object().is_some_and(|o| !o.is_empty()) =>
        {
            Some(value.clone())
        }
        _ => None,
    };
    Call {
        operation,
        id,
        body,
    }
    .checked()
}

/// Whether `path` fits `template`: `Some(None)` for a template without `{backup}`, `Some(segment)`
/// with the (still encoded) segment that stands in its place.
fn match_template<'a>(template: &str, path: &'a str) -> Option<Option<&'a str>> {
    match template.split_once("{backup}") {
        None => (template == path).then_some(None),
        Some((before, after)) => {
            let segment = path.strip_prefix(before)?.strip_suffix(after)?;
            (!segment.is_empty() && !segment.contains('/')).then_some(Some(segment))
        }
    }
}

fn expected_request(entry: &Entry) -> Result<ExpectedRequest, String> {
    let request = &entry.request;
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| format!("bad method {:?}", request.method))?;
    let uri: http::Uri = request
        .url
        .parse()
        .map_err(|e| format!("bad url {:?}: {e}", request.url))?;
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
    let lower = |name: &str| name.to_ascii_lowercase();
    let required: Vec<String> = entry
        .require_headers
        .iter()
        .flatten()
        .map(|name| lower(name))
        .collect();
    let headers = request
        .headers
        .iter()
        .map(|h| (lower(&h.name), h.value.clone()))
        // Headers that vary by client and say nothing about the API are relaxed unless a case
        // asks for them, as smithy-rs's replay client does.
        .filter(|(name, _)| !RELAXED.contains(&name.as_str()) || required.contains(name))
        .collect();
    let body = match &request.post_data {
        None => ExpectedBody::Empty,
        Some(post) if post.text.is_empty() => ExpectedBody::Empty,
        Some(post) if post.mime_type.to_ascii_lowercase().contains("json") => ExpectedBody::Json(
            serde_json::from_str(&post.text)
                .map_err(|e| format!("postData.text is not the JSON its mimeType says: {e}"))?,
        ),
        Some(post) => ExpectedBody::Bytes(Bytes::from(post.text.clone().into_bytes())),
    };
    Ok(ExpectedRequest {
        method,
        path_and_query,
        headers,
        forbid: entry
            .forbid_headers
            .iter()
            .flatten()
            .map(|name| lower(name))
            .collect(),
        body,
    })
}

fn recorded_response(entry: &Entry) -> Result<RecordedResponse, String> {
    let response = &entry.response;
    let status = http::StatusCode::from_u16(response.status)
        .map_err(|_| format!("bad status {}", response.status))?;
    let content = &response.content;
    let text_body = || -> Result<Vec<u8>, String> {
        let text = content.text.clone().unwrap_or_default();
        match content.encoding.as_deref() {
            Some("base64") => BASE64
                .decode(text.as_bytes())
                .map_err(|e| format!("content.text is not base64: {e}")),
            None | Some("") => Ok(text.into_bytes()),
            Some(other) => Err(format!("unknown content.encoding {other:?}")),
        }
    };
    let body = match &entry.generate {
        Some(spec) => generate::body(spec),
        None => text_body()?,
    };
    let chunks = split_chunks(entry.chunks.as_ref(), body)?;
    Ok(RecordedResponse {
        status,
        headers: response
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect(),
        chunks,
        abort: entry.abort.unwrap_or(false),
    })
}

/// Splits a body as `_chunks` says.
fn split_chunks(spec: Option<&Chunks>, body: Vec<u8>) -> Result<Vec<Bytes>, String> {
    let body = Bytes::from(body);
    let Some(spec) = spec else {
        return Ok(if body.is_empty() { vec![] } else { vec![body] });
    };
    let given = |chunks: Vec<Bytes>| -> Result<Vec<Bytes>, String> {
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        // The chunks are the body; content.text, when present, must agree with them.
        if !body.is_empty() && joined != body {
            return Err("_chunks do not add up to content.text".into());
        }
        Ok(chunks)
    };
    match spec {
        Chunks::Lengths(lengths) => {
            let mut chunks = Vec::with_capacity(lengths.len());
            let mut at = 0usize;
            for &len in lengths {
                let end = at + len;
                if end > body.len() {
                    return Err(format!(
                        "_chunks lengths add up past the body's {} bytes",
                        body.len()
                    ));
                }
                chunks.push(body.slice(at..end));
                at = end;
            }
            if at != body.len() {
                return Err(format!(
                    "_chunks lengths add up to {at} bytes, the body has {}",
                    body.len()
                ));
            }
            Ok(chunks)
        }
        Chunks::Texts(texts) => given(texts.iter().map(|t| Bytes::from(t.clone())).collect()),
        Chunks::Base64 { base64 } => given(
            base64
                .iter()
                .map(|item| {
                    BASE64
                        .decode(item)
                        .map(Bytes::from)
                        .map_err(|e| format!("_chunks.base64: {e}"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Chunks::Every { every: 0 } => Err("_chunks.every must be a positive integer".into()),
        Chunks::Every { every } => Ok((0..body.len())
            .step_by(*every)
            .map(|at| body.slice(at..(at + every).min(body.len())))
            .collect()),
    }
}

impl Expect {
    fn from_field(field: &ExpectField) -> Result<Expect, String> {
        let error = match (field.outcome, &field.error) {
            (ExpectedOutcome::Ok, None) => None,
            (ExpectedOutcome::Ok, Some(error)) => {
                return Err(format!(
                    "_expect: an ok outcome has no error, got {error:?}"
                ));
            }
            (ExpectedOutcome::Error, Some(error)) => Some(error.clone()),
            (ExpectedOutcome::Error, None) => {
                return Err("_expect: an error outcome names its \"error\"".into());
            }
        };
        Ok(Expect {
            error,
            status: field.status,
            path: field.path.clone(),
            events: field.events,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chunk_forms() {
        let body = b"abcdef".to_vec();
        let chunks = |spec: serde_json::Value, body: &[u8]| {
            let spec: Chunks = serde_json::from_value(spec).unwrap();
            split_chunks(Some(&spec), body.to_vec())
        };
        let lengths = chunks(json!([1, 2, 3]), &body).unwrap();
        assert_eq!(lengths, vec![&b"a"[..], b"bc", b"def"]);
        assert!(chunks(json!([1, 2]), &body).is_err());
        assert!(chunks(json!([4, 4]), &body).is_err());
        let every = chunks(json!({"every": 4}), &body).unwrap();
        assert_eq!(every, vec![&b"abcd"[..], b"ef"]);
        assert!(chunks(json!({"every": 0}), &body).is_err());
        let texts = chunks(json!(["ab", "cdef"]), b"").unwrap();
        assert_eq!(texts, vec![&b"ab"[..], b"cdef"]);
        assert!(chunks(json!(["ab", "cd"]), &body).is_err());
        let b64 = chunks(json!({"base64": ["YWI=", "/w=="]}), b"").unwrap();
        assert_eq!(b64, vec![&b"ab"[..], &[0xff][..]]);
        assert!(serde_json::from_value::<Chunks>(json!([1, "a"])).is_err());
    }

    #[test]
    fn infers_delete_with_decoded_id() {
        let request = ExpectedRequest {
            method: http::Method::POST,
            path_and_query: "/backups/a%2Fb%20c/delete".into(),
            headers: vec![],
            forbid: vec![],
            body: ExpectedBody::Empty,
        };
        assert_eq!(
            infer_call(&request, None).unwrap(),
            Call {
                operation: Operation::Delete,
                id: Some("a/b c".into()),
                body: None,
            }
        );
        let list = ExpectedRequest {
            method: http::Method::GET,
            path_and_query: "/backups".into(),
            ..request.clone()
        };
        assert_eq!(infer_call(&list, None).unwrap().operation, Operation::List);
        let nested = ExpectedRequest {
            path_and_query: "/backups/a/b/delete".into(),
            ..request
        };
        assert!(infer_call(&nested, None).is_err(), "an id is one segment");
    }

    /// A case of these entries: the first a streamed restore, the rest as given.
    fn entries(rest: Vec<serde_json::Value>) -> Result<Case, CaseError> {
        let entry = |method: &str, path: &str| {
            json!({
                "request": {"method": method, "url": format!("http://h{path}")},
                "response": {"status": 200, "content": {"text": ""}},
            })
        };
        let mut first = entry("POST", "/backup/b1/restore/streamed");
        first["_operation"] = json!({"name": "restore_streamed", "id": "b1"});
        first["_expect"] = json!({"outcome": "ok"});
        let rest = rest.into_iter().map(|fields| {
            let mut e = entry(
                fields["method"].as_str().unwrap(),
                fields["path"].as_str().unwrap(),
            );
            for (key, value) in fields.as_object().unwrap() {
                if key.starts_with('_') {
                    e[key] = value.clone();
                }
            }
            e
        });
        let har = json!({"log": {
            "version": "1.2",
            "creator": {"name": "t", "version": "1"},
            "entries": std::iter::once(first).chain(rest).collect::<Vec<_>>(),
        }});
        Case::from_har("t".into(), &serde_json::from_value(har).unwrap())
    }

    #[test]
    fn a_follow_up_is_made_by_the_previous_call() {
        let status = |extra: serde_json::Value| {
            let mut fields = json!({
                "method": "GET",
                "path": "/backup/b1/restoration/status",
                "_followUp": true,
            });
            for (key, value) in extra.as_object().unwrap() {
                fields[key] = value.clone();
            }
            fields
        };
        let case = entries(vec![status(json!({})), status(json!({}))]).unwrap();
        assert_eq!(case.exchanges.len(), 3);
        assert!(case.exchanges[1].follow_up && case.exchanges[2].follow_up);
        assert_eq!(
            case.exchanges[1].call.operation(),
            Operation::RestorationStatus
        );
        let calls: Vec<usize> = case.calls().map(|(index, _)| index).collect();
        assert_eq!(calls, [0], "one call makes the three exchanges");

        let err = |rest| entries(rest).unwrap_err().to_string();
        let text = err(vec![status(json!({"_expect": {"outcome": "ok"}}))]);
        assert!(text.contains("no _operation or _expect"), "{text}");
        let text = err(vec![status(json!({"_operation": "list"}))]);
        assert!(text.contains("no _operation or _expect"), "{text}");
        let text = err(vec![json!({
            "method": "GET",
            "path": "/backup/b1/creation/status",
            "_followUp": true,
        })]);
        assert!(
            text.contains("a restore_streamed call does not make a creation_status request"),
            "{text}"
        );
        let text = err(vec![
            json!({"method": "GET", "path": "/backup/b1/restoration/status"}),
        ]);
        assert!(text.contains("_expect is missing"), "{text}");

        let mut alone = entries(vec![]).unwrap();
        assert!(!alone.exchanges[0].follow_up);
        let mut har: Har = serde_json::from_value(json!({"log": {
            "version": "1.2",
            "creator": {"name": "t", "version": "1"},
            "entries": [{
                "request": {"method": "GET", "url": "http://h/backups"},
                "response": {"status": 200, "content": {}},
                "_followUp": true,
            }],
        }}))
        .unwrap();
        let text = Case::from_har("t".into(), &har).unwrap_err().to_string();
        assert!(text.contains("the first entry is made by a call"), "{text}");
        har.log.entries[0].follow_up = Some(false);
        har.log.entries[0].expect = Some(ExpectField {
            outcome: ExpectedOutcome::Ok,
            error: None,
            status: None,
            path: None,
            events: None,
        });
        alone = Case::from_har("t".into(), &har).unwrap();
        assert_eq!(
            alone.calls().count(),
            1,
            "_followUp: false is an ordinary call"
        );
    }

    #[test]
    fn a_call_must_fit_its_operation() {
        let field =
            |value: serde_json::Value| -> OperationField { serde_json::from_value(value).unwrap() };
        assert!(Call::from_field(&field(json!("list"))).is_ok());
        assert!(Call::from_field(&field(json!("nope"))).is_err());
        assert!(
            Call::from_field(&field(json!({"name": "delete"}))).is_err(),
            "no id"
        );
        assert!(Call::from_field(&field(json!({"name": "list", "id": "x"}))).is_err());
        assert!(Call::from_field(&field(json!({"name": "create", "backup": {}}))).is_err());
        assert!(Call::from_field(&field(json!({"name": "create", "seed": []}))).is_err());
        let create = Call::from_field(&field(json!({"name": "create", "seed": {}}))).unwrap();
        assert_eq!(create.body, Some(json!({})));
        assert!(
            serde_json::from_value::<OperationField>(json!({"name": "list", "sead": {}})).is_err(),
            "a misspelt input is refused"
        );
    }
}
