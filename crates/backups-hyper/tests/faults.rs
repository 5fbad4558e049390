//! Every operation against a peer that misbehaves in each way of [`Fault`] (and against a port
//! nothing listens on): each call ends within its timeouts with the SDK's typed error, never a
//! panic, a hang or a progress stream that ends quietly short; an over-limit body is refused
//! without reading it all; no POST reaches the peer twice.

mod fault_peer;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use backups_hyper::proto::ResponseBody;
use backups_hyper::proto::operations::AnyOperation;
use backups_hyper::{BackupId, BackupsClient, Error, Operation, Polling, RetryPolicy};
use fault_peer::{Fault, FaultPeer};
use tokio::net::TcpListener;

/// Every configured timeout.
const TIMEOUT: Duration = Duration::from_millis(300);
/// How long any call may take, timeouts included (generous, for a loaded CI machine).
const BOUND: Duration = Duration::from_millis(2500);
const MAX_BODY: u64 = 64 * 1024;
const MAX_FRAME: usize = 16 * 1024;

fn client(url: &str, retry: RetryPolicy) -> BackupsClient {
    BackupsClient::builder()
        .base_url(url)
        .connect_timeout(TIMEOUT)
        .request_timeout(TIMEOUT)
        .idle_timeout(TIMEOUT)
        .max_body(MAX_BODY)
        .max_frame(MAX_FRAME)
        .retry(retry)
        // A create or restore whose call or stream breaks is followed by its status, from the
        // same misbehaving peer: it gives up once the status has gone unanswered this long.
        .polling(
            Polling::default()
                .with_interval(Duration::from_millis(50))
                .with_max_backoff(Duration::from_millis(100))
                .with_poll_timeout(TIMEOUT)
                .with_unanswered(TIMEOUT),
        )
        .build()
        .expect("client")
}

/// How a call ended, as a short name that tests compare: the error's kind as `Debug` writes it
/// (`Timeout(Idle)`, `Transport(Io)`, `Truncated`).
fn kind(error: &Error) -> String {
    format!("{:?}", error.kind())
}

/// The outcome of one call.
#[derive(Debug)]
struct Outcome {
    /// `ok` or the error's kind.
    result: String,
    /// Progress events received before the end (streamed create only).
    events: usize,
    elapsed: Duration,
}

/// Runs `operation` (on backup `a` where its path names one) and checks what every outcome
/// must satisfy, whatever the fault.
async fn run(client: &BackupsClient, operation: Operation) -> Outcome {
    let started = Instant::now();
    let id = operation
        .takes_id()
        .then(|| BackupId::new("a").expect("id"));
    let call = AnyOperation::from_parts(operation, id, None).expect("an operation");
    let mut events = 0;
    // A stream read through `run` ends with its finished backup or an error: a stream that
    // ends short is never a quiet success.
    let result = tokio::time::timeout(Duration::from_secs(10), client.run(&call, |_| events += 1))
        .await
        .unwrap_or_else(|_| panic!("{operation}: hung"));
    let elapsed = started.elapsed();
    let result = match result {
        Ok(_) => "ok".to_owned(),
        Err(error) => {
            assert_eq!(error.operation(), Some(operation), "{error:?}");
            kind(&error)
        }
    };
    Outcome {
        result,
        events,
        elapsed,
    }
}

/// The outcomes a fault allows, by what the operation's success carries.
#[derive(Debug, Clone, Copy)]
struct Allowed {
    /// A JSON body (list, create, get, restore, the statuses).
    json: &'static [&'static str],
    /// A progress stream (the streamed create and restore).
    stream: &'static [&'static str],
    /// No body (delete and the cancels, which the peer answers with an error text).
    empty: &'static [&'static str],
    /// The creates and restores ([`Operation::runs_long`]), where they differ from the above:
    /// a break after the backup's id is known is followed by its status, which the same
    /// misbehaving peer leaves unanswered (`Timeout(Unanswered)`), and a plain create is
    /// watched by the health check.
    long: Option<&'static [&'static str]>,
}

impl Allowed {
    /// The same outcomes whatever the operation.
    const fn all(outcomes: &'static [&'static str]) -> Self {
        Self {
            json: outcomes,
            stream: outcomes,
            empty: outcomes,
            long: None,
        }
    }

    /// The same, with the creates and restores allowed `long`.
    const fn with_long(mut self, long: &'static [&'static str]) -> Self {
        self.long = Some(long);
        self
    }

    fn of(self, operation: Operation) -> &'static [&'static str] {
        if let (true, Some(long)) = (operation.runs_long(), self.long) {
            return long;
        }
        match operation.spec().response {
            ResponseBody::Progress => self.stream,
            ResponseBody::Empty => self.empty,
            _ => self.json,
        }
    }
}

/// Runs every operation at once against a fresh peer with `fault`, with retries on, and
/// checks the shared promises: every call ends in time, with an allowed outcome, and no request
/// reached the peer twice. The outcomes come in the order of `Operation::http()`.
async fn check(fault: Fault, allowed: Allowed) -> (FaultPeer, Vec<Outcome>) {
    let peer = FaultPeer::start(fault).await;
    let url = peer.url();
    let mut calls = tokio::task::JoinSet::new();
    for (index, operation) in Operation::http().enumerate() {
        // One client per call, so a connection spoiled by one call cannot touch another.
        let client = client(&url, RetryPolicy::default());
        calls.spawn(async move { (index, run(&client, operation).await) });
    }
    let mut outcomes: Vec<Option<Outcome>> = Operation::http().map(|_| None).collect();
    while let Some(joined) = calls.join_next().await {
        let (index, outcome) = joined.expect("no panic");
        outcomes[index] = Some(outcome);
    }
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(Option::unwrap).collect();
    eprintln!("{fault:?}: {outcomes:?}");
    for (operation, outcome) in Operation::http().zip(&outcomes) {
        let allowed = allowed.of(operation);
        assert!(
            allowed.contains(&outcome.result.as_str()),
            "{fault:?} {operation}: got {outcome:?}, expected one of {allowed:?}"
        );
        assert!(
            outcome.elapsed < BOUND,
            "{fault:?} {operation}: took {:?}",
            outcome.elapsed
        );
    }
    // Each call sent its request once: a POST is never resent, and a GET whose request was
    // received is not resent either, but for the status polls and health checks that follow a
    // create or restore (the only paths a call may ask again).
    let mut seen = BTreeMap::new();
    for path in peer.requests() {
        *seen.entry(path).or_insert(0) += 1;
    }
    let polled = |path: &str| path.ends_with("/status") || path == "/.well-known/health";
    assert!(
        seen.iter().all(|(path, &n)| n == 1 || polled(path)),
        "{fault:?}: {seen:?}"
    );
    (peer, outcomes)
}

/// The outcomes of the streamed operations.
fn streamed(outcomes: &[Outcome]) -> impl Iterator<Item = &Outcome> {
    Operation::http()
        .zip(outcomes)
        .filter(|(op, _)| op.is_streamed())
        .map(|(_, outcome)| outcome)
}

const IO: Allowed = Allowed::all(&["Transport(Io)", "Truncated"]).with_long(&[
    "Transport(Io)",
    "Truncated",
    "Timeout(Unanswered)",
]);

#[tokio::test]
async fn refused_connections_are_connect_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    for operation in Operation::http() {
        let client = client(&format!("http://127.0.0.1:{port}"), RetryPolicy::none());
        let outcome = run(&client, operation).await;
        assert_eq!(outcome.result, "Transport(Connect)", "{operation}");
        assert!(outcome.elapsed < BOUND, "{operation}: {outcome:?}");
    }
}

#[tokio::test]
async fn a_reset_before_the_request_is_read() {
    let (peer, _) = check(Fault::ResetBeforeRead, IO).await;
    assert!(peer.requests().is_empty());
}

/// Half a JSON document (or stream) is an error; half an error text is still the error.
const CUT_BODY_OR_ERROR_TEXT: Allowed = Allowed {
    json: &["Truncated"],
    stream: &["Truncated"],
    empty: &["Internal"],
    long: Some(&["Truncated", "Timeout(Unanswered)"]),
};

#[tokio::test]
async fn a_close_before_the_answer() {
    let (peer, _) = check(Fault::CloseBeforeAnswer, IO).await;
    // Every call's own request arrived (each operation has a path of its own); the status polls
    // that follow a restore come on top.
    let paths: std::collections::BTreeSet<_> = peer.requests().into_iter().collect();
    let calls = paths.iter().filter(|p| *p != "/.well-known/health").count();
    assert_eq!(calls, Operation::http().count(), "{paths:?}");
}

#[tokio::test]
async fn a_reset_in_the_middle_of_the_body() {
    let (_, outcomes) = check(Fault::ResetMidBody, IO).await;
    // Half a stream holds its first event, which arrives before the error.
    for outcome in streamed(&outcomes) {
        assert!(outcome.events >= 1, "{outcome:?}");
    }
}

#[tokio::test]
async fn a_stall_before_the_headers_hits_the_request_timeout() {
    let timeout =
        Allowed::all(&["Timeout(Request)"]).with_long(&["Timeout(Request)", "Timeout(Unanswered)"]);
    let (_, outcomes) = check(Fault::StallBeforeHeaders, timeout).await;
    for outcome in &outcomes {
        assert!(outcome.elapsed >= TIMEOUT, "{outcome:?}");
    }
}

#[tokio::test]
async fn a_stall_in_the_middle_of_the_body() {
    let allowed = Allowed {
        stream: &["Timeout(Idle)"],
        ..Allowed::all(&["Timeout(Request)"])
    }
    .with_long(&["Timeout(Idle)", "Timeout(Unanswered)"]);
    let (_, outcomes) = check(Fault::StallMidStream, allowed).await;
    for outcome in streamed(&outcomes) {
        assert!(outcome.events >= 1, "{outcome:?}");
    }
}

#[tokio::test]
async fn a_head_sent_one_byte_at_a_time_hits_the_request_timeout() {
    let allowed =
        Allowed::all(&["Timeout(Request)"]).with_long(&["Timeout(Request)", "Timeout(Unanswered)"]);
    check(Fault::DripHead, allowed).await;
}

/// A plain call's body must arrive before the request deadline; a progress stream, a plain
/// create or a plain restore that keeps sending is never cut by it, however long it takes (a
/// plain restore's status polls, dripped as slowly, may go unanswered for the follow bound).
#[tokio::test]
async fn a_body_sent_one_byte_at_a_time() {
    let allowed = Allowed {
        stream: &["ok"],
        ..Allowed::all(&["Timeout(Request)"])
    }
    .with_long(&["ok", "Timeout(Unanswered)"]);
    let (_, outcomes) = check(Fault::DripBody, allowed).await;
    for outcome in streamed(&outcomes) {
        assert_eq!(outcome.events, 3, "{outcome:?}");
        assert!(
            outcome.elapsed > TIMEOUT,
            "the stream outlived the request timeout: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn a_content_length_shorter_than_the_body() {
    // The client reads what was declared: half a JSON document (or stream) is an error; half an
    // error text is still the error.
    let (_, outcomes) = check(Fault::ShortContentLength, CUT_BODY_OR_ERROR_TEXT).await;
    for outcome in streamed(&outcomes) {
        assert!(outcome.events >= 1, "{outcome:?}");
    }
}

#[tokio::test]
async fn a_content_length_longer_than_the_body() {
    let allowed = Allowed::all(&["Truncated"]).with_long(&["Truncated", "Timeout(Unanswered)"]);
    let (_, outcomes) = check(Fault::LongContentLength, allowed).await;
    // Every event arrived, then the stream still reports the missing bytes.
    for outcome in streamed(&outcomes) {
        assert_eq!(outcome.events, 3, "{outcome:?}");
    }
}

#[tokio::test]
async fn broken_chunked_encoding() {
    // Io, not a timeout: the client fails on the bytes themselves.
    check(Fault::BrokenChunked, IO).await;
}

/// The peer could not send the body it offered: the client stopped reading at its limit, so the
/// memory used is bounded by the limit, not by what the peer offers.
async fn check_refused_at_the_limit(fault: Fault) {
    let allowed = Allowed {
        stream: &["FrameTooLarge"],
        ..Allowed::all(&["BodyTooLarge"])
    };
    let (peer, _) = check(fault, allowed).await;
    // The peer notices the hang-up on its next write, which a loaded machine may delay.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !peer.write_failed() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(peer.write_failed(), "the client hung up");
    eprintln!("{fault:?}: the peer wrote {} bytes", peer.written());
    assert!(peer.written() < 64 * 1024 * 1024, "{}", peer.written());
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_unread() {
    // Every call offered 1 GiB.
    check_refused_at_the_limit(Fault::OverLimitDeclared).await;
}

#[tokio::test]
async fn an_endless_chunked_body_stops_at_the_limit() {
    check_refused_at_the_limit(Fault::OverLimitChunked).await;
}

/// HTTP/1.0 without a length: the body ends at the close, which is a normal end.
#[tokio::test]
async fn a_close_delimited_http10_body_is_read_whole() {
    let (_, outcomes) = check(Fault::Http10Complete, Allowed::all(&["ok"])).await;
    for outcome in streamed(&outcomes) {
        assert_eq!(outcome.events, 3, "{outcome:?}");
    }
}

/// When the close comes early, the JSON or the stream is visibly cut: never a quiet success.
#[tokio::test]
async fn a_close_delimited_body_cut_short_is_an_error() {
    let (_, outcomes) = check(Fault::Http10Cut, CUT_BODY_OR_ERROR_TEXT).await;
    for outcome in streamed(&outcomes) {
        assert!(outcome.events >= 1, "{outcome:?}");
    }
}

/// The first two connection attempts are refused (the port is reserved but not listening yet);
/// list retries and succeeds on the third, and the peer sees exactly one connection.
#[tokio::test]
async fn list_succeeds_after_two_refused_connections() {
    let policy = RetryPolicy::new(5)
        .with_base_delay(Duration::from_millis(150))
        .with_max_delay(Duration::from_millis(600));
    // Attempts at 0 ms, 150 ms and 450 ms; the listener opens at 300 ms.
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = std_listener.local_addr().expect("addr");
    drop(std_listener);
    let client = BackupsClient::builder()
        .base_url(format!("http://{addr}"))
        .connect_timeout(TIMEOUT)
        .request_timeout(Duration::from_secs(5))
        .retry(policy)
        .build()
        .expect("client");
    let opener = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = TcpListener::bind(addr).await.expect("rebind");
        FaultPeer::on(listener, Fault::Http10Complete)
    });
    let started = Instant::now();
    let backups = client.list().await.expect("list after two refusals");
    let elapsed = started.elapsed();
    assert_eq!(backups.iterable.len(), 2);
    // Two waits (150 + 300 ms) happened, so the third attempt is the one that worked.
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    let peer = opener.await.expect("peer");
    assert_eq!(
        peer.counters
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(peer.requests_to("/backups"), 1);
}

/// Whatever goes wrong after the connection is made, a POST (create, delete, restore, cancel)
/// reaches the peer once, however patient the retry policy.
#[tokio::test]
async fn no_post_is_ever_sent_twice() {
    let patient = RetryPolicy::new(5).with_base_delay(Duration::from_millis(5));
    for fault in [
        Fault::CloseBeforeAnswer,
        Fault::ResetMidBody,
        Fault::StallBeforeHeaders,
        Fault::BrokenChunked,
    ] {
        let peer = FaultPeer::start(fault).await;
        let client = client(&peer.url(), patient);
        let posts = Operation::http().filter(|op| !op.is_idempotent());
        for operation in posts {
            let outcome = run(&client, operation).await;
            assert_ne!(outcome.result, "ok", "{fault:?} {operation}");
            tokio::time::sleep(Duration::from_millis(20)).await;
            let path = operation.path_template().replace("{backup}", "a");
            assert_eq!(peer.requests_to(&path), 1, "{fault:?} {operation}");
        }
    }
}

#[test]
fn every_fault_is_covered() {
    // A new fault needs a test above; this count is the reminder.
    assert_eq!(Fault::ALL.len(), 14);
}
