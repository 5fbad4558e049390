//! Seeing a create or a restore through to its real end, whatever happens on the way:
//! [`Client::follow`], the watching behind the plain [`Client::create`] and
//! [`Client::restore`], and [`Client::restore_safely`]; how long it waits, and for what, is
//! [`Polling`](crate::Polling).
//!
//! A restore replaces the user's whole database and may run for many minutes, so a broken
//! connection is not the end of the operation: the server goes on. Whenever the stream or the
//! plain call breaks after the backup's id is known, the client asks the operation's status
//! endpoint until it reports a final value, backing off while the server does not answer, and
//! returns that real outcome.

use std::future::Future;
use std::pin::{Pin, pin};

use http_body::Body;
use std::time::Duration;

use backups_models::{Backup, BackupStatus, BackupStreamedProgress, ProgressStatus};

use crate::operations::{ApiOperation, CreationStatus, RestorationStatus, Restore};
use crate::progress_stream::{End, EventSource};
use crate::race::{Either, race};
use crate::{
    BackupId, BaseUrl, Client, Endpoint, Error, ErrorKind, IntoBackupId, Operation, ProgressStream,
    TimeoutKind, Transport,
};

/// What [`Client::restore_safely`] did: the safety backup of the local data, made before
/// anything was replaced, and how the restore then ended.
#[derive(Debug)]
#[non_exhaustive]
pub struct SafeRestore {
    /// The backup of the local data as it was before the restore: restoring it undoes the
    /// restore.
    pub safety: Backup,
    /// The restore's outcome: the restored backup, or why there is none.
    pub outcome: Result<Backup, Error>,
}

/// What [`Client::follow_noting`] tells besides progress.
#[derive(Debug)]
#[non_exhaustive]
pub enum FollowNote<'a> {
    /// The stream broke with this error after the backup was known: the operation goes on on
    /// the server, and is followed by its status from now on.
    Broke(&'a Error),
}

/// The last progress reported, so that polls which find nothing new report nothing.
#[derive(Debug, Default)]
struct Reported(Option<(Option<ProgressStatus>, Option<String>)>);

impl Reported {
    /// Notes `event`; whether it says something the last one did not.
    fn note(&mut self, event: &BackupStreamedProgress) -> bool {
        let seen = Some((
            event.status.clone(),
            event.percentage.map(|p| p.to_string()),
        ));
        let changed = self.0 != seen;
        self.0 = seen;
        changed
    }
}

/// The path of Pieces OS's health check, which any running Pieces OS answers (discovery relies
/// on it): what a plain create, which names no backup until it is done, is watched by.
pub(crate) const HEALTH_PATH: &str = "/.well-known/health";

/// What is asked alongside a plain call to tell a busy server from a dead one.
#[derive(Clone, Copy)]
enum Probe<'a> {
    /// The status of the operation (a restore's): progress as well as life.
    Status(Operation, &'a BackupId),
    /// The health check (a create's, whose backup has no id yet).
    Health,
}

/// What one status poll found.
enum Polled {
    /// The server answered with the status (boxed: the other answers are small).
    Status(Box<BackupStatus>),
    /// The server answered the health check.
    Alive,
    /// The server answered 404: it knows nothing of the operation.
    Gone(String),
    /// No answer (the connection failed, the poll timed out, a 5xx); how long it counts.
    Unanswered(Error, Duration),
    /// An answer that following cannot go past (511, 505, an undecodable status).
    Failed(Error),
}

/// How the status polls alongside a plain call ended.
enum Watched {
    /// The status reached a final value.
    Over,
    /// The status went unanswered for [`Polling::unanswered`](crate::Polling::unanswered).
    Unanswered,
}

/// Whether a stream's error is the stream breaking, after which the operation may well go on:
/// a reset, an EOF inside a chunk or an event, a stream or socket ending before its final event,
/// a timeout. A malformed event or an error answer is the server's word and stays the error.
fn is_break(error: &Error) -> bool {
    is_lost(error) || error.kind() == ErrorKind::Truncated
}

/// Whether a call's error is its connection being lost (a reset, a timeout) after the request
/// may have reached the server. A refused connection sent nothing, so nothing runs; a whole body
/// that is cut short JSON is the server's answer, read as it came.
fn is_lost(error: &Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Transport(_) | ErrorKind::Timeout(_)
    ) && !error.is_connect()
}

/// Whether a poll's error means the server did not answer (as opposed to answering no).
fn is_unanswered(error: &Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Transport(_) | ErrorKind::Timeout(_) | ErrorKind::Truncated
    ) || error.kind() == ErrorKind::Internal
        || (error.kind() == ErrorKind::UnexpectedStatus
            && error.status().is_some_and(|s| s.is_server_error()))
}

impl<T: Transport> Client<T> {
    /// Reads a progress stream to its end like [`ProgressStream::finish`], calling `on_event`
    /// for each event, and sees the operation through to its real end when the stream breaks.
    ///
    /// When the stream breaks before its final event (a reset, an EOF inside a chunk, a socket
    /// dropped without a close frame, the idle timeout of a silent stream, or a server that ends
    /// the stream early and goes on in the background), the operation is followed by its
    /// status: polled every [`Polling::interval`](crate::Polling::interval), with waits that back off to
    /// [`Polling::max_backoff`](crate::Polling::max_backoff) while Pieces OS does not answer, and (for a client that has a
    /// [`Locate`](crate::Locate)) found again on another port after it restarted. Each change of the status is
    /// reported to `on_event` as an event. It returns:
    /// - the backup, when the status reaches `COMPLETED`; [`Error::Ended`] for `FAILED` or
    ///   `CANCELED`;
    /// - [`Error::OutcomeUnknown`] when the status endpoint answers 404 (Pieces OS restarted
    ///   and forgot the operation): not a success, and not "no such backup";
    /// - [`Error::Timeout`] of kind [`Unanswered`](TimeoutKind::Unanswered) when no status
    ///   answered for [`Polling::unanswered`](crate::Polling::unanswered) (at most [`Polling::give_up_bound`](crate::Polling::give_up_bound) after the
    ///   break), or of kind [`Deadline`](TimeoutKind::Deadline) past the caller's
    ///   [`Polling::deadline`](crate::Polling::deadline).
    ///
    /// An unchanged status is never a reason to give up while the server answers. Following
    /// needs the backup's id (a restore's is in its request; a create's comes with its first
    /// event) and a timer from the transport ([`Transport::sleep`]); without either, the break
    /// is the error. A malformed event is the error too: the server said something wrong.
    pub async fn follow<E: EventSource>(
        &self,
        stream: ProgressStream<E>,
        on_event: impl FnMut(&BackupStreamedProgress),
    ) -> Result<Backup, Error> {
        self.follow_noting(stream, on_event, |_| {}).await
    }

    /// [`follow`](Self::follow), telling `on_note` what happens besides progress: that the
    /// stream broke and the operation is now followed by its status ([`FollowNote::Broke`]),
    /// so that an application can say so rather than leave a bar standing still.
    pub async fn follow_noting<E: EventSource>(
        &self,
        stream: ProgressStream<E>,
        mut on_event: impl FnMut(&BackupStreamedProgress),
        mut on_note: impl FnMut(FollowNote<'_>),
    ) -> Result<Backup, Error> {
        let operation = stream.operation();
        let following = self.follow_stream(stream, &mut on_event, &mut on_note);
        self.capped(operation, following).await
    }

    /// Follows the create or restore `operation` of backup `id` by its status alone, from now
    /// to its end, as [`follow`](Self::follow) does after a break: for an operation whose
    /// stream was lost, or that another process started.
    pub async fn follow_status(
        &self,
        operation: Operation,
        id: impl IntoBackupId,
        mut on_event: impl FnMut(&BackupStreamedProgress),
    ) -> Result<Backup, Error> {
        let tracked = self.track(
            operation,
            id.into_backup_id()?,
            End::new(operation),
            Reported::default(),
            None,
            &mut on_event,
        );
        self.capped(operation, tracked).await
    }

    /// A plain create or restore with its status (or Pieces OS's health) polled alongside, each
    /// change reported to `on_event`, followed by its status if its connection breaks; bound
    /// by the caller's [`Polling::deadline`](crate::Polling::deadline). What the `work` methods
    /// of the table (`create`, `restore` and their `_watched` forms) run.
    pub(crate) async fn run_watched<O: ApiOperation<Output = Backup>>(
        &self,
        operation: &O,
        on_event: &mut impl FnMut(&BackupStreamedProgress),
    ) -> Result<Backup, Error> {
        self.capped(O::OPERATION, self.watched(operation, on_event))
            .await
    }

    /// A restore that cannot lose the local data: first a backup of the local data as it is
    /// (the safety backup, a plain create), then the restore, watched as
    /// [`restore`](Self::restore) does.
    ///
    /// A failed safety backup is the error, and nothing was replaced. Otherwise the safety
    /// backup comes back whatever the restore did, so that it can be undone: restoring
    /// [`SafeRestore::safety`] puts the local data back as it was.
    pub async fn restore_safely(
        &self,
        id: impl IntoBackupId,
        on_event: impl FnMut(&BackupStreamedProgress),
    ) -> Result<SafeRestore, Error> {
        // Checked before the safety backup, which an empty id would make for nothing.
        let id = id.into_backup_id()?;
        let safety = self.create().await?;
        let outcome = self.restore_watched(Restore::new(id), on_event).await;
        Ok(SafeRestore { safety, outcome })
    }

    /// `work`, bound by the caller's [`Polling::deadline`](crate::Polling::deadline) when there is one.
    async fn capped(
        &self,
        operation: Operation,
        work: impl Future<Output = Result<Backup, Error>>,
    ) -> Result<Backup, Error> {
        let timer = self
            .polling
            .deadline
            .and_then(|cap| self.transport.sleep(cap));
        let Some(timer) = timer else {
            return work.await;
        };
        match race(work, timer).await {
            Either::Left(result) => result,
            Either::Right(()) => Err(Error::Timeout {
                operation: Some(operation),
                kind: TimeoutKind::Deadline,
            }),
        }
    }

    /// The stream's events, then its status after a break.
    async fn follow_stream<E: EventSource>(
        &self,
        mut stream: ProgressStream<E>,
        on_event: &mut impl FnMut(&BackupStreamedProgress),
        on_note: &mut impl FnMut(FollowNote<'_>),
    ) -> Result<Backup, Error> {
        let operation = stream.operation();
        let mut end = End::new(operation);
        let mut reported = Reported::default();
        while let Some(event) = stream.next_event().await {
            match event {
                Ok(event) => {
                    reported.note(&event);
                    on_event(&event);
                    end.see(event);
                }
                Err(err) => {
                    let id = stream.backup_id().filter(|_| is_break(&err)).cloned();
                    let Some(id) = id else {
                        return Err(err);
                    };
                    on_note(FollowNote::Broke(&err));
                    return self
                        .track(operation, id, end, reported, Some(err), on_event)
                        .await;
                }
            }
        }
        end.result()
    }

    /// A plain create or restore with its status polled alongside, and followed by its status
    /// if the call breaks.
    async fn watched<O: ApiOperation<Output = Backup>>(
        &self,
        operation: &O,
        on_event: &mut impl FnMut(&BackupStreamedProgress),
    ) -> Result<Backup, Error> {
        let op = O::OPERATION;
        let probe = match (operation.backup_id(), op.spec().status) {
            (Some(id), Some(status)) => Probe::Status(status, id),
            _ => Probe::Health,
        };
        let mut call = pin!(self.execute(operation));
        let mut end = End::new(op);
        let mut reported = Reported::default();
        let watch = self.watch(probe, &mut end, &mut reported, on_event);
        let first = race(call.as_mut(), watch).await;
        match first {
            Either::Left(Ok(backup)) => Ok(backup),
            Either::Left(Err(err)) => match (probe, is_lost(&err)) {
                (Probe::Status(_, id), true) => {
                    self.track(op, id.clone(), end, reported, Some(err), on_event)
                        .await
                }
                _ => Err(err),
            },
            Either::Right(Watched::Over) => {
                // The status says it is over: the call's own answer is due any moment, and it
                // names the backup as the server sends it; a call that does not come is not
                // waited for, as the status already told the end.
                let grace = self.transport.sleep(self.polling.poll_timeout);
                let answer = match grace {
                    Some(grace) => match race(call, grace).await {
                        Either::Left(answer) => Some(answer),
                        Either::Right(()) => None,
                    },
                    None => None,
                };
                match answer {
                    Some(Ok(backup)) => Ok(backup),
                    Some(Err(err)) if !is_lost(&err) => Err(err),
                    _ => end.result(),
                }
            }
            Either::Right(Watched::Unanswered) => Err(Error::Timeout {
                operation: Some(op),
                kind: TimeoutKind::Unanswered,
            }),
        }
    }

    /// Polls the status alongside a plain call until it is final or goes unanswered too long.
    /// A 404 is not an end here: the call may not have reached the server yet, and while its
    /// connection lives the call is the better witness.
    async fn watch(
        &self,
        probe: Probe<'_>,
        end: &mut End,
        reported: &mut Reported,
        on_event: &mut impl FnMut(&BackupStreamedProgress),
    ) -> Watched {
        let mut silent = Duration::ZERO;
        loop {
            let Some(sleep) = self.transport.sleep(self.polling.interval) else {
                // No timer: the call alone decides.
                return std::future::pending().await;
            };
            sleep.await;
            let polled = match probe {
                Probe::Status(status, id) => self.poll(status, id, &self.endpoint).await,
                Probe::Health => self.health().await,
            };
            match polled {
                Polled::Status(current) => {
                    silent = Duration::ZERO;
                    let event = BackupStreamedProgress::from(*current);
                    if reported.note(&event) {
                        on_event(&event);
                    }
                    end.see(event);
                    if end.is_over() {
                        return Watched::Over;
                    }
                }
                Polled::Alive | Polled::Gone(_) | Polled::Failed(_) => silent = Duration::ZERO,
                Polled::Unanswered(_, took) => {
                    silent += self.polling.interval + took;
                    if silent >= self.polling.unanswered {
                        return Watched::Unanswered;
                    }
                }
            }
        }
    }

    /// Follows `operation` of backup `id` by its status to its end. `broke` is the error that
    /// ended its stream or call, if any: what is returned when the transport has no timer.
    async fn track(
        &self,
        operation: Operation,
        id: BackupId,
        mut end: End,
        mut reported: Reported,
        broke: Option<Error>,
        on_event: &mut impl FnMut(&BackupStreamedProgress),
    ) -> Result<Backup, Error> {
        let Some(status) = operation.spec().status else {
            return Err(broke.unwrap_or_else(|| Error::InvalidRequest {
                reason: format!("{operation} has no status to follow it by"),
            }));
        };
        let mut endpoint = self.endpoint.clone();
        let mut silent = Duration::ZERO;
        let mut wait = Duration::ZERO;
        loop {
            if !wait.is_zero() {
                let Some(sleep) = self.transport.sleep(wait) else {
                    return Err(broke.unwrap_or_else(|| Error::InvalidRequest {
                        reason: "the transport has no timer to poll a status with".into(),
                    }));
                };
                sleep.await;
            }
            match self.poll(status, &id, &endpoint).await {
                Polled::Status(current) => {
                    silent = Duration::ZERO;
                    wait = self.polling.interval;
                    let event = BackupStreamedProgress::from(*current);
                    if reported.note(&event) {
                        on_event(&event);
                    }
                    end.see(event);
                    if end.is_over() {
                        return end.result();
                    }
                }
                Polled::Gone(reason) => {
                    return Err(Error::OutcomeUnknown {
                        operation,
                        id: id.as_str().to_owned(),
                        reason,
                    });
                }
                Polled::Failed(err) => return Err(err),
                // Only a plain create's watch asks the health check.
                Polled::Alive => wait = self.polling.interval,
                Polled::Unanswered(err, took) => {
                    silent += wait + took;
                    if silent >= self.polling.unanswered {
                        return Err(Error::Timeout {
                            operation: Some(operation),
                            kind: TimeoutKind::Unanswered,
                        });
                    }
                    // A connection that fails (refused, or reset as the port is reused) may
                    // mean Pieces OS restarted elsewhere; a slow answer does not.
                    if matches!(err.kind(), ErrorKind::Transport(_)) || err.is_connect() {
                        if let Some(moved) = self.relocate(&endpoint).await {
                            endpoint = std::sync::Arc::new(endpoint.with_base_url(moved));
                            wait = Duration::ZERO;
                            continue;
                        }
                    }
                    wait = self.polling.backoff(wait);
                }
            }
        }
    }

    /// One status poll at `endpoint`, bound by [`Polling::poll_timeout`](crate::Polling::poll_timeout).
    async fn poll(&self, status: Operation, id: &BackupId, endpoint: &Endpoint) -> Polled {
        let id = id.clone();
        let request = match status {
            Operation::CreationStatus => CreationStatus { id }.request(endpoint),
            _ => RestorationStatus { id }.request(endpoint),
        };
        let request = match request {
            Ok(request) => request,
            Err(err) => return Polled::Failed(err),
        };
        let call = async {
            let response = self.send_and_read(status, request).await?;
            match status {
                Operation::CreationStatus => CreationStatus::parse_response(response),
                _ => RestorationStatus::parse_response(response),
            }
        };
        let answer = match self.transport.sleep(self.polling.poll_timeout) {
            Some(timer) => match race(call, timer).await {
                Either::Left(answer) => answer,
                Either::Right(()) => {
                    let err = Error::timeout(TimeoutKind::Request).with_operation(status);
                    return Polled::Unanswered(err, self.polling.poll_timeout);
                }
            },
            None => call.await,
        };
        match answer {
            Ok(current) => Polled::Status(Box::new(current)),
            Err(Error::NotFound { message, .. }) => Polled::Gone(format!("404: {message}")),
            Err(err) if is_unanswered(&err) => {
                let took = self.took(&err);
                Polled::Unanswered(err, took)
            }
            Err(err) => Polled::Failed(err),
        }
    }

    /// One health check, bound by [`Polling::poll_timeout`](crate::Polling::poll_timeout): any answer at all means that
    /// Pieces OS is alive (a server without the check answers 404, which says as much).
    async fn health(&self) -> Polled {
        let request = match health_request(&self.endpoint) {
            Ok(request) => request,
            Err(err) => return Polled::Failed(err),
        };
        let call = async {
            let response = self.transport.send(request).await?;
            // Drained, so that the connection goes back to the pool.
            let mut body = response.into_body();
            while let Some(frame) =
                std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
            {
                frame.map_err(Into::into)?;
            }
            Ok::<(), Error>(())
        };
        let answer = match self.transport.sleep(self.polling.poll_timeout) {
            Some(timer) => match race(call, timer).await {
                Either::Left(answer) => answer,
                Either::Right(()) => {
                    let err = Error::timeout(TimeoutKind::Request);
                    return Polled::Unanswered(err, self.polling.poll_timeout);
                }
            },
            None => call.await,
        };
        match answer {
            Ok(()) => Polled::Alive,
            Err(err) => {
                let took = self.took(&err);
                Polled::Unanswered(err, took)
            }
        }
    }

    /// How long an unanswered poll counts: a timeout (the transport's own, which may come
    /// before [`Polling::poll_timeout`](crate::Polling::poll_timeout)) as a whole poll timeout, a refusal as nothing.
    fn took(&self, err: &Error) -> Duration {
        if matches!(err.kind(), ErrorKind::Timeout(_)) {
            self.polling.poll_timeout
        } else {
            Duration::ZERO
        }
    }

    /// Where Pieces OS answers now, if a [`Locate`](crate::Locate) finds it somewhere else than
    /// `endpoint`.
    async fn relocate(&self, endpoint: &Endpoint) -> Option<BaseUrl> {
        let locator = self.locator.as_ref()?;
        let found = match self.transport.sleep(self.polling.poll_timeout) {
            Some(timer) => match race(locator.locate(), timer).await {
                Either::Left(found) => found,
                Either::Right(()) => None,
            },
            None => locator.locate().await,
        }?;
        (found != *endpoint.base_url()).then_some(found)
    }
}

/// `GET /.well-known/health` with the endpoint's headers. It carries no [`Operation`]: it is not
/// one of the Backups API's, and a transport bounds it as any short call.
fn health_request(endpoint: &Endpoint) -> Result<http::Request<bytes::Bytes>, Error> {
    let uri = endpoint.base_url().join(HEALTH_PATH)?;
    let mut request = http::Request::new(bytes::Bytes::new());
    *request.uri_mut() = uri;
    for (name, value) in endpoint.headers() {
        request.headers_mut().insert(name, value.clone());
    }
    request.headers_mut().insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("text/plain"),
    );
    Ok(request)
}
