//! [`Operation`]: which of the four API calls a request or an error belongs to.

use core::fmt;

use http::Method;

/// One of the four operations of the Backups API.
///
/// Every request this crate builds carries its `Operation` in the request's extensions, so a
/// [`Transport`](crate::Transport) can tell a stream from a plain call, or an idempotent call from
/// one that must never be sent twice, without parsing paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `GET /backups` (`backups_snapshot` in the official SDKs).
    List,
    /// `POST /backups/create`.
    Create,
    /// `POST /backups/create/streamed`.
    CreateStreamed,
    /// `POST /backups/{backup}/delete`.
    Delete,
}

impl Operation {
    /// Every operation, in the order the API page lists them.
    pub const ALL: [Operation; 4] = [Self::List, Self::Create, Self::CreateStreamed, Self::Delete];

    /// A short machine-friendly name, as used in tracing spans and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Create => "create",
            Self::CreateStreamed => "create_streamed",
            Self::Delete => "delete",
        }
    }

    /// The HTTP method of the operation.
    pub fn method(self) -> Method {
        match self {
            Self::List => Method::GET,
            Self::Create | Self::CreateStreamed | Self::Delete => Method::POST,
        }
    }

    /// Whether sending the request twice has the same effect as sending it once.
    ///
    /// Only `List` is: a create sent twice makes two backups, so transports must never resend one
    /// once any of it may have reached the server.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Self::List)
    }

    /// Whether the response body is a progress stream that may stay open for a long time.
    ///
    /// A transport gives such a response an idle timeout between chunks, never a total deadline.
    pub fn is_streamed(self) -> bool {
        matches!(self, Self::CreateStreamed)
    }

    /// What the operation does, in words for error messages ("list backups").
    pub fn describe(self) -> &'static str {
        match self {
            Self::List => "list backups",
            Self::Create => "create a backup",
            Self::CreateStreamed => "create a backup (streamed)",
            Self::Delete => "delete a backup",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
