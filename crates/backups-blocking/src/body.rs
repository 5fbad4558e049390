//! [`UreqBody`]: a ureq response body as the [`http_body::Body`] the SDK's client reads.

use core::fmt;
use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use backups_proto::trace::CallTrace;
use backups_proto::{Error, Operation};

use crate::errors::from_body_error;

/// The most a plain call's frame holds: a body read whole comes in frames this large at most,
/// so that a `Content-Length` the server lies about cannot make one huge allocation (the
/// client's `max_body` ends the read first).
const MAX_FRAME_READ: u64 = 1 << 20;

/// What one read of a progress stream, or of a body of unknown length, asks for: the events
/// are small, and each read hands over what has come.
const STREAM_READ: usize = 16 * 1024;

/// The body of a response received by [`UreqTransport`](crate::UreqTransport).
///
/// Polling it **reads on the calling thread**, blocking until the bytes come: it is made for
/// the blocking client, whose executor is the thread that waits. The bounds are ureq's, set per
/// call by the transport:
/// - a plain call's body must be complete within the request timeout, or it ends with
///   [`Error::Timeout`] of kind [`TimeoutKind::Request`](backups_proto::TimeoutKind::Request);
/// - a progress stream ([`Operation::is_streamed`]) has no deadline, but ends with
///   [`TimeoutKind::Idle`](backups_proto::TimeoutKind::Idle) when no chunk comes for longer
///   than the idle timeout;
/// - a connection closed before the body was complete is [`Error::Truncated`]; other failures
///   are [`Error::Transport`] of kind [`Io`](backups_proto::TransportKind::Io).
///
/// After an error it ends. Dropping it before its end drops the connection.
pub struct UreqBody {
    /// `None` once the body ended, cleanly or not.
    reader: Option<ureq::BodyReader<'static>>,
    operation: Option<Operation>,
    streamed: bool,
    /// What the `Content-Length` says is still to come.
    remaining: Option<u64>,
    /// The buffer of a stream's reads, made at the first.
    scratch: Option<Vec<u8>>,
    /// The call's span, closed when the body ends (or is dropped).
    trace: CallTrace,
}

impl UreqBody {
    pub(crate) fn new(
        body: ureq::Body,
        operation: Option<Operation>,
        streamed: bool,
        trace: CallTrace,
    ) -> Self {
        let remaining = body.content_length();
        Self {
            reader: Some(body.into_reader()),
            operation,
            streamed,
            remaining,
            scratch: None,
            trace,
        }
    }

    /// Reads the next frame: for a stream, what one read gives; for a plain body, up to what
    /// is left of it (at most [`MAX_FRAME_READ`]).
    fn read_frame(&mut self) -> Option<Result<Frame<Bytes>, Error>> {
        let reader = self.reader.as_mut()?;
        let mut data = Vec::new();
        let read = match (self.streamed, self.remaining) {
            (false, Some(remaining)) => {
                let want = remaining.min(MAX_FRAME_READ);
                data.reserve_exact(usize::try_from(want).unwrap_or(usize::MAX));
                reader.take(want).read_to_end(&mut data)
            }
            _ => {
                // One buffer for every read of the body; each frame copies out what came, so
                // a small event does not hold a buffer of STREAM_READ bytes.
                let scratch = self.scratch.get_or_insert_with(|| vec![0; STREAM_READ]);
                let read = reader.read(scratch);
                if let Ok(n) = read {
                    data.extend_from_slice(&scratch[..n]);
                }
                read
            }
        };
        match read {
            Ok(0) => {
                self.reader = None;
                match self.remaining {
                    // ureq reports a short body itself; this is the guard if it did not.
                    Some(left) if left > 0 => {
                        let cut = std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!("{left} bytes of the declared length never came"),
                        );
                        Some(Err(from_body_error(&cut, self.operation, self.streamed)))
                    }
                    _ => None,
                }
            }
            Ok(n) => {
                if let Some(left) = self.remaining.as_mut() {
                    *left = left.saturating_sub(n as u64);
                    if *left == 0 {
                        // ureq hands the connection back to its pool when a read sees the end
                        // of the body; the last read above stopped at the declared length, so
                        // this one sees it (it reads nothing).
                        let _ = reader.read(&mut [0u8; 1]);
                        self.reader = None;
                    }
                }
                Some(Ok(Frame::data(Bytes::from(data))))
            }
            Err(err) => {
                self.reader = None;
                Some(Err(from_body_error(&err, self.operation, self.streamed)))
            }
        }
    }
}

impl Body for UreqBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        let frame = this.read_frame();
        match &frame {
            Some(Err(error)) => this.trace.finish(Err(error)),
            None => this.trace.finish(Ok(())),
            Some(Ok(_)) if this.reader.is_none() => this.trace.finish(Ok(())),
            Some(Ok(_)) => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.reader.is_none() || self.remaining == Some(0)
    }

    fn size_hint(&self) -> SizeHint {
        match (self.reader.is_some(), self.remaining) {
            (false, _) => SizeHint::with_exact(0),
            (true, Some(left)) => SizeHint::with_exact(left),
            (true, None) => SizeHint::new(),
        }
    }
}

impl fmt::Debug for UreqBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqBody")
            .field("operation", &self.operation)
            .field("streamed", &self.streamed)
            .field("remaining", &self.remaining)
            .field("open", &self.reader.is_some())
            .finish()
    }
}
