//! `Client::follow` and the watched plain restore: a stream or a call that breaks before the
//! final event is followed to the operation's real end by polling the status of its backup,
//! however long the server stays busy, and with a typed outcome when it cannot be known.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use backups_proto::{
    BackupId, BaseUrl, Client, Endpoint, Error, ErrorKind, Locate, LocateFuture, Operation,
    Polling, TimeoutKind, Transport, TransportKind,
};
use bytes::Bytes;
use http::{Request, Response};
use http_body::Frame;

const BACKUP: &str = r#"{"id":"b1","bytes":10,"device_name":"d","platform":"LINUX","timestamp":"1","version":"1","created":{"value":"2026-01-01T00:00:00Z"}}"#;

/// One answer of the scripted server.
#[derive(Clone)]
enum Answer {
    /// A status code and a body (JSON for 200, text otherwise).
    Http(u16, String),
    /// A 200 progress stream: these chunks, then the body's end or, with `Some`, this error.
    Stream(Vec<String>, Option<TransportKind>),
    /// The call fails in the transport.
    Fail(TransportKind),
    /// No answer ever comes (a server that stalls).
    Hang,
}

fn status(value: &str, percentage: u32) -> Answer {
    Answer::Http(
        200,
        format!(r#"{{"backup":{BACKUP},"value":"{value}","percentage":{percentage}}}"#),
    )
}

fn initialized() -> String {
    format!("{{\"status\":\"INITIALIZED\",\"percentage\":0,\"backup\":{BACKUP}}}\n")
}

fn in_progress(percentage: u32) -> String {
    format!("{{\"status\":\"IN-PROGRESS\",\"percentage\":{percentage}}}\n")
}

/// Answers the first call (the create or restore) with `first`, then each status call with the
/// next answer of `statuses` (the last one again once they run out); a host named in
/// `refused_hosts` refuses every status poll. Its timer yields once, so that a race between a
/// call and a timer is decided by turns, not by wall time.
struct Script {
    first: Mutex<Option<Answer>>,
    statuses: Mutex<VecDeque<Answer>>,
    uris: Mutex<Vec<String>>,
    refused_hosts: Vec<String>,
    timer: bool,
    slept: Mutex<Vec<Duration>>,
    health: Mutex<Answer>,
}

impl Script {
    fn new(first: Answer, statuses: Vec<Answer>) -> Arc<Self> {
        Arc::new(Self {
            first: Mutex::new(Some(first)),
            statuses: Mutex::new(statuses.into()),
            uris: Mutex::new(Vec::new()),
            refused_hosts: Vec::new(),
            timer: true,
            slept: Mutex::new(Vec::new()),
            health: Mutex::new(Answer::Http(200, "ok".into())),
        })
    }

    fn stream(chunks: &[&str], end: Option<TransportKind>, statuses: Vec<Answer>) -> Arc<Self> {
        let chunks = chunks.iter().map(|c| (*c).to_owned()).collect();
        Self::new(Answer::Stream(chunks, end), statuses)
    }

    fn status_calls(&self) -> usize {
        self.uris
            .lock()
            .unwrap()
            .iter()
            .filter(|u| u.ends_with("/status"))
            .count()
    }
}

/// A body of chunks that may end with an error, as a connection cut mid-stream.
struct Chunks(VecDeque<Bytes>, Option<TransportKind>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if let Some(chunk) = self.0.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        Poll::Ready(self.1.take().map(|kind| Err(Error::transport(kind, "cut"))))
    }
}

fn respond(answer: Answer) -> Result<Response<Chunks>, Error> {
    let (code, kind, chunks, end) = match answer {
        Answer::Fail(kind) => return Err(Error::transport(kind, "scripted failure")),
        Answer::Hang => unreachable!("a hanging answer is never responded"),
        Answer::Http(code, body) => {
            let kind = if code == 200 {
                "application/json"
            } else {
                "text/plain"
            };
            (code, kind, vec![body], None)
        }
        Answer::Stream(chunks, end) => (200, "application/x-ndjson", chunks, end),
    };
    let body = Chunks(chunks.into_iter().map(Bytes::from).collect(), end);
    Ok(Response::builder()
        .status(code)
        .header("content-type", kind)
        .body(body)
        .unwrap())
}

/// Ready on its second poll.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl Script {
    async fn answer(&self, answer: Answer) -> Result<Response<Chunks>, Error> {
        if let Answer::Hang = answer {
            std::future::pending::<()>().await;
        }
        respond(answer)
    }
}

impl Transport for Script {
    type Body = Chunks;

    async fn send(&self, request: Request<Bytes>) -> Result<Response<Chunks>, Error> {
        let uri = request.uri().to_string();
        self.uris.lock().unwrap().push(uri.clone());
        let host = request.uri().host().unwrap_or_default().to_owned();
        if uri.ends_with("/.well-known/health") {
            let answer = self.health.lock().unwrap().clone();
            return self.answer(answer).await;
        }
        if !uri.ends_with("/status") {
            let first = self.first.lock().unwrap().take().expect("one first call");
            return self.answer(first).await;
        }
        if self.refused_hosts.contains(&host) {
            return Err(Error::transport(TransportKind::Connect, "refused"));
        }
        let answer = {
            let mut statuses = self.statuses.lock().unwrap();
            if statuses.len() > 1 {
                statuses.pop_front().unwrap()
            } else {
                statuses.front().cloned().expect("a status answer")
            }
        };
        self.answer(answer).await
    }

    fn sleep(&self, duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        self.slept.lock().unwrap().push(duration);
        self.timer.then_some(YieldOnce(false))
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

fn polling() -> Polling {
    Polling::default()
        .with_interval(Duration::from_millis(100))
        .with_max_backoff(Duration::from_millis(400))
        .with_poll_timeout(Duration::from_millis(250))
        .with_unanswered(Duration::from_secs(1))
}

fn client(script: &Arc<Script>) -> Client<Arc<Script>> {
    Client::new(script.clone(), Endpoint::default()).with_polling(polling())
}

fn id() -> BackupId {
    BackupId::new("b1").unwrap()
}

fn label(event: &backups_models::BackupStreamedProgress) -> String {
    let status = event.status.as_ref().map(ToString::to_string);
    let percentage = event.percentage.map(|p| p.to_string());
    format!(
        "{}@{}",
        status.unwrap_or_default(),
        percentage.unwrap_or_default()
    )
}

/// Follows a streamed restore; returns what the events reported, and the result.
fn follow_restore(
    client: &Client<Arc<Script>>,
) -> (Vec<String>, Result<backups_models::Backup, Error>) {
    block_on(async {
        let stream = client.restore_streamed(&id()).await.unwrap();
        let mut seen = Vec::new();
        let result = client.follow(stream, |event| seen.push(label(event))).await;
        (seen, result)
    })
}

#[test]
fn an_early_end_is_followed_by_polling_to_completion() {
    let script = Script::stream(
        &[&initialized()],
        None,
        vec![
            status("IN-PROGRESS", 50),
            status("IN-PROGRESS", 50),
            status("COMPLETED", 100),
        ],
    );
    let (seen, result) = follow_restore(&client(&script));
    assert_eq!(result.unwrap().id, "b1");
    // The unchanged second status is not reported again.
    assert_eq!(seen, ["INITIALIZED@0", "IN-PROGRESS@50", "COMPLETED@100"]);
    let uris = script.uris.lock().unwrap().clone();
    assert!(uris[0].ends_with("/backup/b1/restore/streamed"), "{uris:?}");
    assert!(
        uris[1..]
            .iter()
            .all(|u| u.ends_with("/backup/b1/restoration/status")),
        "{uris:?}"
    );
}

#[test]
fn a_reset_mid_stream_is_followed_to_the_real_end() {
    let script = Script::stream(
        &[&initialized(), &in_progress(46)],
        Some(TransportKind::Io),
        vec![status("IN-PROGRESS", 96), status("COMPLETED", 100)],
    );
    let (seen, result) = follow_restore(&client(&script));
    assert_eq!(result.unwrap().id, "b1");
    assert_eq!(
        seen,
        [
            "INITIALIZED@0",
            "IN-PROGRESS@46",
            "IN-PROGRESS@96",
            "COMPLETED@100"
        ]
    );
}

#[test]
fn follow_noting_tells_when_the_stream_broke_and_only_then() {
    let script = Script::stream(
        &[&initialized(), &in_progress(46)],
        Some(TransportKind::Io),
        vec![status("COMPLETED", 100)],
    );
    let client = client(&script);
    let notes = block_on(async {
        let stream = client.restore_streamed(&id()).await.unwrap();
        let mut notes = Vec::new();
        let result = client
            .follow_noting(
                stream,
                |_| {},
                |note| match note {
                    backups_proto::FollowNote::Broke(err) => notes.push(err.kind()),
                    _ => notes.push(backups_proto::ErrorKind::Internal),
                },
            )
            .await;
        assert_eq!(result.unwrap().id, "b1");
        notes
    });
    assert_eq!(
        notes,
        [backups_proto::ErrorKind::Transport(TransportKind::Io)]
    );

    // A stream that ends well notes nothing.
    let whole = Script::stream(
        &[
            &initialized(),
            r#"{"status":"COMPLETED","percentage":100,"backup":{"id":"b1","bytes":1,"created":{"value":"2026-11-26T21:00:00Z"},"device_name":"d","platform":"LINUX","timestamp":"t","version":"v"}}"#,
        ],
        None,
        vec![],
    );
    let client = self::client(&whole);
    let noted = block_on(async {
        let stream = client.restore_streamed(&id()).await.unwrap();
        let mut noted = 0;
        let result = client.follow_noting(stream, |_| {}, |_| noted += 1).await;
        assert!(result.is_ok(), "{result:?}");
        noted
    });
    assert_eq!(noted, 0);
}

#[test]
fn an_eof_inside_an_event_is_followed_too() {
    let cut = in_progress(46);
    let script = Script::stream(
        &[&initialized(), &cut[..12]],
        None,
        vec![status("COMPLETED", 100)],
    );
    let (_, result) = follow_restore(&client(&script));
    assert_eq!(result.unwrap().id, "b1");
    assert_eq!(script.status_calls(), 1);
}

#[test]
fn a_restore_cut_before_any_event_is_followed_by_the_id_of_its_request() {
    let script = Script::stream(&[], Some(TransportKind::Io), vec![status("COMPLETED", 100)]);
    let (seen, result) = follow_restore(&client(&script));
    assert_eq!(result.unwrap().id, "b1");
    assert_eq!(seen, ["COMPLETED@100"]);
}

#[test]
fn a_create_cut_before_it_named_its_backup_stays_an_error() {
    let script = Script::stream(
        &["{\"status\":\"INITIALIZED\",\"percentage\":0}\n"],
        Some(TransportKind::Io),
        vec![status("COMPLETED", 100)],
    );
    let client = client(&script);
    let err = block_on(async {
        let stream = client.create_streamed().await.unwrap();
        client.follow(stream, |_| {}).await.unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::Transport(TransportKind::Io));
    assert_eq!(script.status_calls(), 0, "no status was asked");
}

#[test]
fn a_create_that_named_its_backup_is_followed_by_its_creation_status() {
    let script = Script::stream(
        &[&initialized()],
        Some(TransportKind::Io),
        vec![status("COMPLETED", 100)],
    );
    let client = client(&script);
    let made = block_on(async {
        let stream = client.create_streamed().await.unwrap();
        client.follow(stream, |_| {}).await
    });
    assert_eq!(made.unwrap().id, "b1");
    let uris = script.uris.lock().unwrap().clone();
    assert!(uris[1].ends_with("/backup/b1/creation/status"), "{uris:?}");
}

#[test]
fn a_final_failure_found_by_polling_is_the_operations_error() {
    let script = Script::stream(&[&initialized()], None, vec![status("CANCELED", 40)]);
    let err = follow_restore(&client(&script)).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Ended);
    assert_eq!(err.operation(), Some(Operation::RestoreStreamed));
    assert!(err.to_string().contains("CANCELED"), "{err}");
    assert!(!err.is_retryable(), "a cancel was somebody's decision");
}

#[test]
fn a_status_that_does_not_change_is_followed_as_long_as_the_server_answers() {
    // 300 unchanged answers: 30 s of polls at 100 ms, thirty times the `unanswered` bound.
    let mut statuses: Vec<_> = (0..300).map(|_| status("IN-PROGRESS", 7)).collect();
    statuses.push(status("COMPLETED", 100));
    let script = Script::stream(&[&initialized()], None, statuses);
    let (seen, result) = follow_restore(&client(&script));
    assert_eq!(result.unwrap().id, "b1");
    assert_eq!(seen, ["INITIALIZED@0", "IN-PROGRESS@7", "COMPLETED@100"]);
    assert_eq!(script.status_calls(), 301);
}

#[test]
fn a_status_that_goes_unanswered_fails_as_timed_out_within_the_bound() {
    let script = Script::stream(
        &[&initialized()],
        Some(TransportKind::Io),
        vec![Answer::Fail(TransportKind::Connect)],
    );
    let err = follow_restore(&client(&script)).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Unanswered));
    assert_eq!(err.operation(), Some(Operation::RestoreStreamed));
    // Waits of 0 (at once), 100, 200, 400 and 400 ms: 1.1 s unanswered after the fifth poll.
    assert_eq!(script.status_calls(), 5);
    let waits: Vec<_> = script.slept.lock().unwrap().clone();
    let backoff: Vec<_> = waits
        .iter()
        .filter(|d| **d != polling().poll_timeout)
        .map(Duration::as_millis)
        .collect();
    assert_eq!(backoff, [100, 200, 400, 400]);
}

#[test]
fn a_server_that_comes_back_at_the_same_address_is_followed_to_the_end() {
    let script = Script::stream(
        &[&initialized()],
        Some(TransportKind::Io),
        vec![
            Answer::Fail(TransportKind::Connect),
            Answer::Fail(TransportKind::Connect),
            Answer::Http(503, "starting".into()),
            status("COMPLETED", 100),
        ],
    );
    let (_, result) = follow_restore(&client(&script));
    assert_eq!(result.unwrap().id, "b1");
    assert_eq!(script.status_calls(), 4);
}

#[test]
fn a_404_after_the_break_is_an_unknown_outcome_not_a_success_nor_no_such_backup() {
    let script = Script::stream(
        &[&initialized()],
        Some(TransportKind::Io),
        vec![
            Answer::Fail(TransportKind::Connect),
            Answer::Http(404, "no such restoration".into()),
        ],
    );
    let err = follow_restore(&client(&script)).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(err.operation(), Some(Operation::RestoreStreamed));
    let text = err.to_string();
    assert!(
        text.contains("b1") && text.contains("restoration"),
        "{text}"
    );
    assert!(text.contains("restarted"), "{text}");
}

#[derive(Debug)]
struct MovedTo(&'static str);

impl Locate for MovedTo {
    fn locate(&self) -> LocateFuture<'_> {
        Box::pin(async move { self.0.parse::<BaseUrl>().ok() })
    }
}

#[test]
fn a_server_that_restarted_elsewhere_is_found_again_by_the_locator() {
    let mut script = Script::stream(
        &[&initialized()],
        Some(TransportKind::Io),
        vec![status("IN-PROGRESS", 80), status("COMPLETED", 100)],
    );
    Arc::get_mut(&mut script).unwrap().refused_hosts = vec!["localhost".into()];
    let client = client(&script).with_locator(Arc::new(MovedTo("http://127.0.0.1:39311")));
    let (seen, result) = follow_restore(&client);
    assert_eq!(result.unwrap().id, "b1");
    assert_eq!(seen.last().map(String::as_str), Some("COMPLETED@100"));
    let uris = script.uris.lock().unwrap().clone();
    assert_eq!(
        uris[1],
        "http://localhost:1000/backup/b1/restoration/status"
    );
    assert_eq!(
        uris[2],
        "http://127.0.0.1:39311/backup/b1/restoration/status"
    );
}

#[test]
fn without_a_timer_a_break_stays_the_error() {
    let mut script = Script::stream(
        &[&initialized()],
        Some(TransportKind::Io),
        vec![status("IN-PROGRESS", 1)],
    );
    Arc::get_mut(&mut script).unwrap().timer = false;
    let err = follow_restore(&client(&script)).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport(TransportKind::Io));
}

#[test]
fn a_malformed_event_is_the_servers_word_and_not_followed() {
    let script = Script::stream(&["{\"status\":17}\n"], None, vec![status("COMPLETED", 100)]);
    let err = follow_restore(&client(&script)).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(script.status_calls(), 0);
}

#[test]
fn the_callers_deadline_caps_the_whole_operation() {
    let script = Script::stream(&[&initialized()], None, vec![status("IN-PROGRESS", 5)]);
    let client =
        client(&script).with_polling(polling().with_deadline(Some(Duration::from_secs(3600))));
    let err = follow_restore(&client).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Deadline));
    assert_eq!(err.operation(), Some(Operation::RestoreStreamed));
}

#[test]
fn a_plain_restore_whose_connection_breaks_is_followed_by_its_status() {
    let script = Script::new(
        Answer::Fail(TransportKind::Io),
        vec![status("IN-PROGRESS", 60), status("COMPLETED", 100)],
    );
    let client = client(&script);
    let restored = block_on(client.restore(&id()));
    assert_eq!(restored.unwrap().id, "b1");
    assert!(script.status_calls() >= 2);
}

#[test]
fn a_plain_restore_answering_an_error_is_that_error() {
    let script = Script::new(
        Answer::Http(511, "sign in".into()),
        vec![status("FAILED", 0)],
    );
    let err = block_on(client(&script).restore(&id())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
}

#[test]
fn following_by_status_alone_reports_each_change() {
    let script = Script::new(
        Answer::Http(500, "unused".into()),
        vec![
            status("IN-PROGRESS", 10),
            status("RESET", 0),
            status("IN-PROGRESS", 5),
            status("COMPLETED", 100),
        ],
    );
    let client = client(&script);
    let mut seen = Vec::new();
    let done =
        block_on(client.follow_status(Operation::Restore, &id(), |event| seen.push(label(event))));
    assert_eq!(done.unwrap().id, "b1");
    assert_eq!(
        seen,
        [
            "IN-PROGRESS@10",
            "RESET@0",
            "IN-PROGRESS@5",
            "COMPLETED@100"
        ]
    );
}

#[test]
fn a_plain_create_on_a_server_whose_health_goes_unanswered_times_out() {
    let script = Script::new(Answer::Hang, vec![]);
    *script.health.lock().unwrap() = Answer::Hang;
    let err = block_on(client(&script).create()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Unanswered));
    assert_eq!(err.operation(), Some(Operation::Create));
}

#[test]
fn a_plain_create_on_a_busy_server_is_waited_for_however_long_it_takes() {
    let script = Script::new(Answer::Hang, vec![]);
    let client = client(&script);
    // The create never answers; the health check always does: only the caller's cap ends it,
    // after many more checks than the `unanswered` bound would allow for silence.
    let capped = client.with_polling(polling().with_deadline(Some(Duration::from_secs(1))));
    let err = block_on(capped.create()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Deadline));
    let checks = script
        .uris
        .lock()
        .unwrap()
        .iter()
        .filter(|u| u.ends_with("/.well-known/health"))
        .count();
    assert!(checks >= 1, "the health check was asked");
}

#[test]
fn a_plain_restore_whose_connection_was_refused_is_not_followed() {
    let script = Script::new(
        Answer::Fail(TransportKind::Connect),
        vec![status("COMPLETED", 100)],
    );
    let err = block_on(client(&script).restore(&id())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport(TransportKind::Connect));
    assert_eq!(
        script.status_calls(),
        0,
        "nothing was sent, so nothing runs"
    );
}
