//! [`ProgressStream`]: the progress events of a streamed create or restore, as they come, from
//! an HTTP body ([`BodyEvents`]) or a WebSocket ([`SocketEvents`](crate::SocketEvents)).

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use http_body::Body;

use backups_models::{Backup, BackupStreamedProgress, ProgressStatus};

use crate::{BackupId, Error, Operation, ProgressDecoder};

/// Where a [`ProgressStream`] reads its events from.
pub trait EventSource: Unpin {
    /// The next event, an error (after which the source is not polled again), or `None` when the
    /// source ended cleanly, its last event whole.
    fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<BackupStreamedProgress, Error>>>;
}

/// The events of an HTTP response body: its chunks through a [`ProgressDecoder`].
pub struct BodyEvents<B> {
    operation: Operation,
    body: Option<B>,
    decoder: ProgressDecoder,
    finished: bool,
}

impl<B> std::fmt::Debug for BodyEvents<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyEvents")
            .field("operation", &self.operation)
            .field("decoder", &self.decoder)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<B> BodyEvents<B> {
    /// The events of `operation`'s `body`, read with `decoder`.
    pub fn new(operation: Operation, body: B, decoder: ProgressDecoder) -> Self {
        Self {
            operation,
            body: Some(body),
            decoder: decoder.for_operation(operation),
            finished: false,
        }
    }
}

impl<B> EventSource for BodyEvents<B>
where
    B: Body<Data = Bytes, Error: Into<Error>> + Unpin,
{
    fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<BackupStreamedProgress, Error>>> {
        loop {
            if let Some(item) = self.decoder.next_event() {
                if item.is_err() {
                    self.finished = true;
                    self.body = None;
                }
                return Poll::Ready(Some(item));
            }
            if self.finished {
                return Poll::Ready(None);
            }
            let Some(body) = self.body.as_mut() else {
                // A cut inside an event is the decoder's error, yielded by the next turn.
                self.finished = true;
                self.decoder.finish();
                continue;
            };
            match ready!(Pin::new(body).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.decoder.push_bytes(data);
                    }
                }
                Some(Err(err)) => {
                    self.finished = true;
                    self.body = None;
                    return Poll::Ready(Some(Err(err.into().with_operation(self.operation))));
                }
                None => self.body = None,
            }
        }
    }
}

/// The progress events of a streamed create or restore, as a [`Stream`], over HTTP
/// ([`BodyEvents`]) or a WebSocket ([`SocketEvents`](crate::SocketEvents)).
///
/// It ends after the source ends. A body cut inside an event, or a source ending before a final
/// status (`COMPLETED`, `FAILED` or `CANCELED`), yields [`Error::Truncated`] as its last item; the
/// transport's idle timeout bounds the silence between events. [`Client::follow`] reads a stream
/// to its end and, where the server ended the stream early but named the backup, follows the
/// operation by polling its status.
///
/// [`Client::follow`]: crate::Client::follow
pub struct ProgressStream<E> {
    operation: Operation,
    events: E,
    saw_terminal: bool,
    /// The backup worked on: the request's (a restore's), else the first valid id an event
    /// named.
    backup_id: Option<BackupId>,
    /// The source ended cleanly (its last event whole) before a final status.
    ended_early: bool,
    done: bool,
}

impl<E: std::fmt::Debug> std::fmt::Debug for ProgressStream<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressStream")
            .field("operation", &self.operation)
            .field("events", &self.events)
            .field("backup_id", &self.backup_id)
            .field("saw_terminal", &self.saw_terminal)
            .field("ended_early", &self.ended_early)
            .field("done", &self.done)
            .finish()
    }
}

impl<E> ProgressStream<E> {
    /// `operation`'s events from `events`.
    pub fn new(operation: Operation, events: E) -> Self {
        Self {
            operation,
            events,
            saw_terminal: false,
            backup_id: None,
            ended_early: false,
            done: false,
        }
    }

    /// The streamed operation.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The same stream, known to work on backup `id` before any event names it (a restore
    /// names its backup in the request): a break before the first event can still be followed.
    pub fn with_backup_id(mut self, id: Option<BackupId>) -> Self {
        if id.is_some() {
            self.backup_id = id;
        }
        self
    }

    /// The id of the backup being created or restored: the request's for a restore, else the
    /// first one an event named (the first event does, on the reference server). What status
    /// and cancel calls take. An event naming an empty id names none.
    pub fn backup_id(&self) -> Option<&BackupId> {
        self.backup_id.as_ref()
    }

    /// Whether the source ended cleanly, its last event whole, before a final status: the shape
    /// of a server that answers with one early event and goes on in the background.
    pub fn ended_early(&self) -> bool {
        self.ended_early
    }
}

impl<E: EventSource> ProgressStream<E> {
    /// The next event, or `None` after the last one; the same as `StreamExt::next`, without
    /// needing a stream utility crate.
    pub async fn next_event(&mut self) -> Option<Result<BackupStreamedProgress, Error>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Reads the stream to its end, calling `on_event` for each event, and returns the backup of
    /// the `COMPLETED` event; a `FAILED` or `CANCELED` event is an [`Error::Ended`].
    pub async fn finish(
        mut self,
        mut on_event: impl FnMut(&BackupStreamedProgress),
    ) -> Result<Backup, Error> {
        let mut end = End::new(self.operation);
        while let Some(event) = self.next_event().await {
            let event = event?;
            on_event(&event);
            end.see(event);
        }
        end.result()
    }
}

/// How a stream of events ended: the finished backup, or the final status that was not success.
#[derive(Debug)]
pub(crate) struct End {
    operation: Operation,
    /// The last backup an event carried: the finished one once `COMPLETED` is seen.
    backup: Option<Box<Backup>>,
    status: Option<ProgressStatus>,
}

impl End {
    pub(crate) fn new(operation: Operation) -> Self {
        Self {
            operation,
            backup: None,
            status: None,
        }
    }

    /// Notes an event: its backup, and its status if final.
    pub(crate) fn see(&mut self, event: BackupStreamedProgress) {
        if event.backup.is_some() {
            self.backup = event.backup;
        }
        if let Some(status) = event.status.filter(ProgressStatus::is_terminal) {
            self.status = Some(status);
        }
    }

    /// Whether a final event was seen.
    pub(crate) fn is_over(&self) -> bool {
        self.status.is_some()
    }

    /// The finished backup, or why there is none. A `COMPLETED` event without a backup is read
    /// with the backup an earlier event named (the first one does, on the reference server).
    pub(crate) fn result(self) -> Result<Backup, Error> {
        match (self.status, self.backup) {
            (Some(ProgressStatus::Completed), Some(backup)) => Ok(*backup),
            (Some(ProgressStatus::Completed), None) => Err(Error::Truncated {
                operation: self.operation,
                detail: "the operation completed, but no event named its backup".into(),
            }),
            (Some(status), _) => Err(Error::Ended {
                operation: self.operation,
                status,
            }),
            (None, _) => Err(Error::Truncated {
                operation: self.operation,
                detail: "the stream ended without the finished backup".into(),
            }),
        }
    }
}

impl<E: EventSource> Stream for ProgressStream<E> {
    type Item = Result<BackupStreamedProgress, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let item = match ready!(this.events.poll_event(cx)) {
            Some(Ok(event)) => {
                this.saw_terminal |= event.is_terminal();
                if this.backup_id.is_none() {
                    this.backup_id = event
                        .backup
                        .as_ref()
                        .and_then(|b| BackupId::new(b.id.as_str()).ok());
                }
                Ok(event)
            }
            Some(Err(err)) => {
                this.done = true;
                Err(err)
            }
            None => {
                this.done = true;
                if this.saw_terminal {
                    return Poll::Ready(None);
                }
                this.ended_early = true;
                Err(Error::Truncated {
                    operation: this.operation,
                    detail:
                        "the stream ended before a final status (COMPLETED, FAILED or CANCELED)"
                            .into(),
                })
            }
        };
        Poll::Ready(Some(item))
    }
}
