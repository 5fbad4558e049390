//! [`Error`]: the one error type of the whole SDK.

use core::fmt;

use http::StatusCode;

use crate::Operation;

/// A boxed error from below the SDK (an IO error, a hyper error), kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How many bytes of a body an error quotes at most.
pub const EXCERPT_LIMIT: usize = 256;

/// Everything that can go wrong in a call, from building the request to reading the last byte.
///
/// Each variant says what happened and what to do. [`status`](Error::status),
/// [`operation`](Error::operation) and [`is_retryable`](Error::is_retryable) answer the usual
/// questions without matching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 511: Pieces OS needs the user to sign in before it can use cloud backups.
    #[error(
        "Pieces OS needs you to sign in before it can {}: sign in to Pieces OS (for example from the Pieces Desktop app), then try again (511: {message})",
        .operation.describe()
    )]
    Unauthenticated {
        /// The operation that was refused.
        operation: Operation,
        /// The server's text.
        message: String,
    },

    /// 505: the local Pieces OS is too old for cloud backup operations.
    #[error(
        "this Pieces OS is too old to {}: update Pieces OS, then try again (505: {message})",
        .operation.describe()
    )]
    OsOutdated {
        /// The operation that was refused.
        operation: Operation,
        /// The server's text.
        message: String,
    },

    /// 500: Pieces OS failed while handling the call.
    #[error(
        "Pieces OS failed to {} (500 Internal Server Error): {message}",
        .operation.describe()
    )]
    Internal {
        /// The operation that failed.
        operation: Operation,
        /// The server's text.
        message: String,
    },

    /// 404 from an operation that names a backup: the server holds no backup with that id (or,
    /// for a status, knows of no creation or restoration of it).
    #[error("{} (404: {message})", NotFoundHint(*.operation))]
    NotFound {
        /// The operation called.
        operation: Operation,
        /// The server's text.
        message: String,
    },

    /// The operation ran and ended without success: its progress reached `FAILED` or `CANCELED`
    /// (the HTTP exchange itself succeeded).
    #[error(
        "the operation to {} ended with status {status}{}",
        .operation.describe(),
        EndedHint(.status)
    )]
    Ended {
        /// The streamed operation, or the status operation that reported the end.
        operation: Operation,
        /// `FAILED` or `CANCELED` (or another final value a newer server sends).
        status: backups_models::ProgressStatus,
    },

    /// The connection was lost while a create or restore ran, and when Pieces OS answered again
    /// it knew nothing of the operation (its status answers 404, as after a restart): whether
    /// it finished cannot be told. Not a success, and not "no such backup".
    #[error(
        "cannot tell whether the {} of backup {id} finished: its stream or call broke while it ran, \
         and Pieces OS now knows nothing of it ({reason}); it probably restarted. Check the local \
         data and the backups (`list`) before trying again",
        .operation.noun()
    )]
    OutcomeUnknown {
        /// The create or restore that was followed.
        operation: Operation,
        /// The backup it worked on.
        id: String,
        /// What the status endpoint said.
        reason: String,
    },

    /// A WebSocket message that no channel sends: a binary message, or text that is not the
    /// channel's model.
    #[error("{operation} received a message it cannot read: {detail}")]
    UnexpectedMessage {
        /// The channel.
        operation: Operation,
        /// What came.
        detail: String,
    },

    /// A status the API does not document for this operation.
    #[error("unexpected HTTP status {status} from {operation}: {excerpt}")]
    UnexpectedStatus {
        /// The operation called.
        operation: Operation,
        /// The status received.
        status: StatusCode,
        /// The start of the body, at most [`EXCERPT_LIMIT`] bytes.
        excerpt: String,
    },

    /// A success status with a content type that is not the one the operation answers with.
    #[error(
        "{operation} answered with content type {content_type:?}, expected {expected}: {excerpt}"
    )]
    UnexpectedContentType {
        /// The operation called.
        operation: Operation,
        /// The content type received.
        content_type: String,
        /// What was expected.
        expected: &'static str,
        /// The start of the body.
        excerpt: String,
    },

    /// The body did not decode into the model the operation returns.
    #[error(
        "could not decode the {operation} response at `{path}`: {message} (body starts: {excerpt})"
    )]
    Decode {
        /// The operation called.
        operation: Operation,
        /// Where in the JSON value decoding failed, such as `iterable[3].created.value`.
        path: String,
        /// What was wrong.
        message: String,
        /// The start of the body (or of the failing frame of a stream).
        excerpt: String,
    },

    /// The body ended before it was whole: a progress stream cut inside an event, or ending
    /// before a final status.
    #[error("the {operation} response ended early: {detail}")]
    Truncated {
        /// The operation called.
        operation: Operation,
        /// What was missing.
        detail: String,
    },

    /// The request was refused before any IO, such as an empty backup id or a bad base URL.
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// Why.
        reason: String,
    },

    /// The response body is larger than the configured limit.
    #[error("the {} response body is larger than the limit of {limit} bytes", OptOp(.operation))]
    BodyTooLarge {
        /// The operation called, where known.
        operation: Option<Operation>,
        /// The limit, in bytes.
        limit: u64,
    },

    /// One event of a progress stream is larger than the configured frame limit.
    #[error("a {operation} progress event is larger than the limit of {limit} bytes")]
    FrameTooLarge {
        /// The operation called.
        operation: Operation,
        /// The limit, in bytes.
        limit: usize,
    },

    /// A timeout ran out.
    #[error("the {} call timed out: {kind}", OptOp(.operation))]
    Timeout {
        /// The operation called, where known.
        operation: Option<Operation>,
        /// Which timeout.
        kind: TimeoutKind,
    },

    /// The server could not be reached, or the connection failed.
    #[error("{kind} during the {} call: {source}", OptOp(.operation))]
    Transport {
        /// The operation called, where known.
        operation: Option<Operation>,
        /// What failed.
        kind: TransportKind,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

/// What kind of [`Error`] it is, without its data: one name per variant for exit codes, metrics,
/// reports and tests, so that none of them matches on the variants again.
///
/// ```
/// use backups_proto::{Error, ErrorKind, TimeoutKind};
///
/// let err = Error::timeout(TimeoutKind::Idle);
/// assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Idle));
/// assert_eq!(err.kind().name(), "Timeout");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Unauthenticated`].
    Unauthenticated,
    /// [`Error::OsOutdated`].
    OsOutdated,
    /// [`Error::Internal`].
    Internal,
    /// [`Error::NotFound`].
    NotFound,
    /// [`Error::Ended`].
    Ended,
    /// [`Error::OutcomeUnknown`].
    OutcomeUnknown,
    /// [`Error::UnexpectedMessage`].
    UnexpectedMessage,
    /// [`Error::UnexpectedStatus`].
    UnexpectedStatus,
    /// [`Error::UnexpectedContentType`].
    UnexpectedContentType,
    /// [`Error::Decode`].
    Decode,
    /// [`Error::Truncated`].
    Truncated,
    /// [`Error::InvalidRequest`].
    InvalidRequest,
    /// [`Error::BodyTooLarge`].
    BodyTooLarge,
    /// [`Error::FrameTooLarge`].
    FrameTooLarge,
    /// [`Error::Timeout`], with which timeout ran out.
    Timeout(TimeoutKind),
    /// [`Error::Transport`], with what part failed.
    Transport(TransportKind),
}

impl ErrorKind {
    /// The name of the [`Error`] variant, such as `Decode`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unauthenticated => "Unauthenticated",
            Self::OsOutdated => "OsOutdated",
            Self::Internal => "Internal",
            Self::NotFound => "NotFound",
            Self::Ended => "Ended",
            Self::OutcomeUnknown => "OutcomeUnknown",
            Self::UnexpectedMessage => "UnexpectedMessage",
            Self::UnexpectedStatus => "UnexpectedStatus",
            Self::UnexpectedContentType => "UnexpectedContentType",
            Self::Decode => "Decode",
            Self::Truncated => "Truncated",
            Self::InvalidRequest => "InvalidRequest",
            Self::BodyTooLarge => "BodyTooLarge",
            Self::FrameTooLarge => "FrameTooLarge",
            Self::Timeout(_) => "Timeout",
            Self::Transport(_) => "Transport",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which timeout ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Opening the connection took too long.
    Connect,
    /// The whole call (headers and body) took too long.
    Request,
    /// A stream was silent for too long between two chunks.
    Idle,
    /// An operation being followed lost its connection, and Pieces OS then answered none of
    /// its status polls for longer than [`Polling::unanswered`](crate::Polling::unanswered).
    Unanswered,
    /// The whole create or restore outlasted the cap the caller set
    /// ([`Polling::deadline`](crate::Polling::deadline); off by default).
    Deadline,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "no connection could be opened in time",
            Self::Request => "no complete answer came in time",
            Self::Idle => "the stream went silent for longer than the idle timeout",
            Self::Unanswered => {
                "the connection was lost, and Pieces OS answered no status poll since, for longer \
                 than the follow bound"
            }
            Self::Deadline => "the operation ran longer than the deadline set for it",
        })
    }
}

/// What part of the transport failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made: nothing was sent, so any call may be retried.
    Connect,
    /// The connection failed after it was made: the request may have reached the server.
    Io,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "could not connect to Pieces OS (is it running at that address?)",
            Self::Io => "the connection to Pieces OS failed",
        })
    }
}

/// What a 404 means for an operation: no such backup, or, for a status, no such creation or
/// restoration known to this Pieces OS (the backup itself may well exist).
struct NotFoundHint(Operation);

impl fmt::Display for NotFoundHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let operation = self.0;
        if operation.spec().response == crate::ResponseBody::Status {
            write!(
                f,
                "Pieces OS cannot {}: it knows of none for that id (it may have ended before \
                 Pieces OS last started, or never run)",
                operation.describe()
            )
        } else {
            write!(
                f,
                "Pieces OS has no such backup to {}: check the id with `list`",
                operation.describe()
            )
        }
    }
}

/// What to do after an operation ended without success.
struct EndedHint<'a>(&'a backups_models::ProgressStatus);

impl fmt::Display for EndedHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            backups_models::ProgressStatus::Canceled => f.write_str(": it was cancelled"),
            backups_models::ProgressStatus::Failed => f.write_str(
                ": Pieces OS could not finish it; try again, and check its logs if it fails again",
            ),
            _ => Ok(()),
        }
    }
}

struct OptOp<'a>(&'a Option<Operation>);

impl fmt::Display for OptOp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(operation) => operation.fmt(f),
            None => f.write_str("API"),
        }
    }
}

impl Error {
    /// A transport error with its source.
    pub fn transport(kind: TransportKind, source: impl Into<BoxError>) -> Self {
        Self::Transport {
            operation: None,
            kind,
            source: source.into(),
        }
    }

    /// A timeout error.
    pub fn timeout(kind: TimeoutKind) -> Self {
        Self::Timeout {
            operation: None,
            kind,
        }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            Self::OsOutdated { .. } => ErrorKind::OsOutdated,
            Self::Internal { .. } => ErrorKind::Internal,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Ended { .. } => ErrorKind::Ended,
            Self::OutcomeUnknown { .. } => ErrorKind::OutcomeUnknown,
            Self::UnexpectedMessage { .. } => ErrorKind::UnexpectedMessage,
            Self::UnexpectedStatus { .. } => ErrorKind::UnexpectedStatus,
            Self::UnexpectedContentType { .. } => ErrorKind::UnexpectedContentType,
            Self::Decode { .. } => ErrorKind::Decode,
            Self::Truncated { .. } => ErrorKind::Truncated,
            Self::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            Self::BodyTooLarge { .. } => ErrorKind::BodyTooLarge,
            Self::FrameTooLarge { .. } => ErrorKind::FrameTooLarge,
            Self::Timeout { kind, .. } => ErrorKind::Timeout(*kind),
            Self::Transport { kind, .. } => ErrorKind::Transport(*kind),
        }
    }

    /// The HTTP status behind the error, if the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Unauthenticated { .. } => StatusCode::from_u16(511).ok(),
            Self::OsOutdated { .. } => Some(StatusCode::HTTP_VERSION_NOT_SUPPORTED),
            Self::Internal { .. } => Some(StatusCode::INTERNAL_SERVER_ERROR),
            Self::NotFound { .. } => Some(StatusCode::NOT_FOUND),
            Self::UnexpectedStatus { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The operation the error belongs to, where known.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Self::Unauthenticated { operation, .. }
            | Self::OsOutdated { operation, .. }
            | Self::Internal { operation, .. }
            | Self::NotFound { operation, .. }
            | Self::Ended { operation, .. }
            | Self::OutcomeUnknown { operation, .. }
            | Self::UnexpectedMessage { operation, .. }
            | Self::UnexpectedStatus { operation, .. }
            | Self::UnexpectedContentType { operation, .. }
            | Self::Decode { operation, .. }
            | Self::Truncated { operation, .. }
            | Self::FrameTooLarge { operation, .. } => Some(*operation),
            Self::BodyTooLarge { operation, .. }
            | Self::Timeout { operation, .. }
            | Self::Transport { operation, .. } => *operation,
            Self::InvalidRequest { .. } => None,
        }
    }

    /// Whether the same call may succeed if tried again unchanged.
    ///
    /// True for connection failures, timeouts and 500s; a caller must still only resend what is
    /// safe to resend (see [`Operation::is_idempotent`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            // A failure may pass; a cancel was somebody's decision.
            Self::Ended { status, .. } => *status == backups_models::ProgressStatus::Failed,
            _ => matches!(
                self.kind(),
                ErrorKind::Transport(_) | ErrorKind::Timeout(_) | ErrorKind::Internal
            ),
        }
    }

    /// Whether nothing of the request can have reached the server.
    pub fn is_connect(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Transport(TransportKind::Connect) | ErrorKind::Timeout(TimeoutKind::Connect)
        )
    }

    /// Fills in the operation where the error was made without knowing it (in a transport).
    /// Takes an `Operation` or an `Option<Operation>` (a transport may not know it); `None`
    /// leaves the error as it is.
    pub fn with_operation(mut self, op: impl Into<Option<Operation>>) -> Self {
        let Some(op) = op.into() else {
            return self;
        };
        match &mut self {
            Self::BodyTooLarge { operation, .. }
            | Self::Timeout { operation, .. }
            | Self::Transport { operation, .. } => {
                operation.get_or_insert(op);
            }
            _ => {}
        }
        self
    }
}

impl From<core::convert::Infallible> for Error {
    fn from(never: core::convert::Infallible) -> Self {
        match never {}
    }
}

/// A lower-level failure as one line, for a transport's [`Error::Transport`]: `context`, then
/// every message of `error`'s source chain, joined with `: `.
///
/// HTTP stacks' top-level messages often say little ("client error (Connect)"); the useful part
/// ("tcp connect error: Connection refused") is deeper in the chain. Layers often repeat their
/// cause's message, so a message that the text already ends with is left out. The chain is
/// flattened into text rather than kept as `source()`, so that a reporter that walks sources
/// does not print it twice.
///
/// ```
/// use std::io;
/// let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused");
/// assert_eq!(
///     backups_proto::describe_chain("connecting", &refused),
///     "connecting: connection refused"
/// );
/// ```
pub fn describe_chain(context: &str, error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::from(context);
    let mut next = Some(error);
    while let Some(err) = next {
        let message = err.to_string();
        if !message.is_empty() && !text.ends_with(&message) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&message);
        }
        next = err.source();
    }
    text
}

/// Whether an [`io::Error`](std::io::Error) of `kind` is anywhere in `error`'s source chain: how
/// a transport tells a refused connection, a timeout or a connection cut short inside an HTTP
/// stack's own error.
///
/// ```
/// use std::io;
/// let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused");
/// assert!(backups_proto::chain_has_io_kind(&refused, io::ErrorKind::ConnectionRefused));
/// assert!(!backups_proto::chain_has_io_kind(&refused, io::ErrorKind::TimedOut));
/// ```
pub fn chain_has_io_kind(
    error: &(dyn std::error::Error + 'static),
    kind: std::io::ErrorKind,
) -> bool {
    let mut next = Some(error);
    while let Some(err) = next {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        next = err.source();
    }
    false
}

/// The start of a body as text, cut at a character boundary, for error messages. Control
/// characters other than newline and tab are escaped ([`escape_controls`]): a server's text
/// cannot drive the terminal the message is printed on.
pub fn excerpt(body: &[u8]) -> String {
    let cut = &body[..body.len().min(EXCERPT_LIMIT)];
    let text = match core::str::from_utf8(cut) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        // The cut fell inside a character: drop the partial one.
        Err(err) if err.error_len().is_none() => String::from_utf8_lossy(&cut[..err.valid_up_to()]),
        Err(_) => String::from_utf8_lossy(cut),
    };
    let text = escape_controls(&text);
    if body.len() > EXCERPT_LIMIT {
        format!("{text}…")
    } else {
        text.into_owned()
    }
}

/// `text` with its control characters (C0, DEL and C1: escape sequences, bells, carriage
/// returns, backspaces) written as escapes such as `\u{1b}`, except newline and tab: text from a
/// server, shown on a terminal, can then only be read, never move the cursor, recolour the
/// screen or set the window's title. Borrows when there is nothing to escape.
///
/// ```
/// use backups_proto::escape_controls;
/// assert_eq!(escape_controls("laptop"), "laptop");
/// assert_eq!(escape_controls("\u{1b}[2Jgone\r"), "\\u{1b}[2Jgone\\r");
/// assert_eq!(escape_controls("two\nlines\tok"), "two\nlines\tok");
/// ```
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let hostile = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(hostile) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hostile(c) {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    std::borrow::Cow::Owned(escaped)
}
