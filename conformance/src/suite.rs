//! Running cases: in process through the [`ReplayTransport`], and over HTTP against any
//! [`Transport`] through the [`ReplayServer`].

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_timer::Delay;
use futures_util::future::{Either, select};

use backups_proto::{Client, Endpoint, SocketTransport, Transport};

use crate::case::{Call, Case};
use crate::outcome::Outcome;
use crate::replay::ReplayTransport;
use crate::report::{CaseResult, SuiteReport};
use crate::server::ReplayServer;

/// The base URL the in-process replay uses; nothing is sent there.
const REPLAY_BASE: &str = "http://127.0.0.1:39300";

/// What running a case produced: the outcome of each call, and every problem found.
#[derive(Debug, Clone)]
pub struct CaseRun {
    /// The case.
    pub case: Case,
    /// The outcome of each call, in order (one per exchange that is not a follow-up).
    pub outcomes: Vec<Outcome>,
    /// Request mismatches, unused exchanges and outcomes that differ from `_expect`.
    pub problems: Vec<String>,
}

impl CaseRun {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// The case's line in a report.
    pub fn result(&self, suite: &str) -> CaseResult {
        CaseResult {
            suite: suite.to_owned(),
            case: self.case.name.clone(),
            operation: self.case.operation().name().to_owned(),
            family: self.case.family.clone(),
            passed: self.passed(),
            detail: self.problems.join("\n"),
        }
    }
}

/// Runs a case through the SDK's [`Client`] over a [`ReplayTransport`], in process.
///
/// The replay's futures never wait on anything outside themselves, so this needs no runtime.
pub fn run_replay(case: &Case) -> CaseRun {
    let replay = ReplayTransport::new(case);
    let endpoint = Endpoint::new(REPLAY_BASE.parse().unwrap_or_else(|_| unreachable!()));
    let client = Client::new(replay.clone(), endpoint);
    let mut outcomes = Vec::new();
    let mut problems = Vec::new();
    for (index, exchange) in case.calls() {
        let outcome = block_on(Outcome::of_any_call(&client, &exchange.call));
        if let Err(problem) = outcome.check(&exchange.expect) {
            problems.push(format!("exchange {index}: {problem}"));
        }
        outcomes.push(outcome);
    }
    if let Err(report) = replay.finish() {
        problems.push(report.to_string());
    }
    CaseRun {
        case: case.clone(),
        outcomes,
        problems,
    }
}

/// Drives a future that never waits on anything outside itself (the replay's).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Runs the built-in cases against your transport, over real HTTP: the test helper for anyone
/// bringing their own [`Transport`].
///
/// It starts a [`ReplayServer`] on `127.0.0.1`, makes each case's calls through a [`Client`] over
/// `transport`, and checks for every case that the server received exactly the recorded requests
/// and that the client returned the same outcome as with the in-process [`ReplayTransport`] (the
/// text of transport errors aside) and the one the case expects. Call it from a test with your
/// runtime:
///
/// ```no_run
/// # async fn demo<T: backups_proto::Transport + backups_proto::SocketTransport>(my_transport: T) {
/// let report = backups_conformance::check_transport(my_transport).await;
/// println!("{}", report.table());
/// report.assert_passed();
/// # }
/// ```
pub async fn check_transport<T: Transport + SocketTransport>(transport: T) -> SuiteReport {
    match Case::builtin() {
        Ok(cases) => check_transport_with(transport, &cases).await,
        Err(err) => loading_failed(err),
    }
}

/// [`check_transport`] for a transport without the WebSocket channels (no
/// [`SocketTransport`]): the cases that open a channel are left out.
pub async fn check_http_transport<T: Transport>(transport: T) -> SuiteReport {
    match Case::builtin() {
        Ok(cases) => check_http_transport_within(transport, &cases, CASE_TIMEOUT).await,
        Err(err) => loading_failed(err),
    }
}

fn loading_failed(err: crate::CaseError) -> SuiteReport {
    SuiteReport {
        results: vec![CaseResult {
            suite: "transport".into(),
            case: "(loading cases)".into(),
            operation: "-".into(),
            family: "-".into(),
            passed: false,
            detail: err.to_string(),
        }],
    }
}

/// How long [`check_transport`] lets one case run before it fails as hung.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// [`check_transport`] with cases of your own.
pub async fn check_transport_with<T: Transport + SocketTransport>(
    transport: T,
    cases: &[Case],
) -> SuiteReport {
    check_transport_within(transport, cases, CASE_TIMEOUT).await
}

/// How a runner makes one call: over HTTP only, or over HTTP and the channels.
trait Caller {
    /// Whether it can make the calls of `case`.
    fn can_run(&self, case: &Case) -> bool;
    /// Makes the call.
    async fn call(&self, call: &Call) -> Outcome;
}

/// Every call, channels included.
struct AnyCaller<'a, T>(Client<&'a T>);

impl<T: Transport + SocketTransport> Caller for AnyCaller<'_, T> {
    fn can_run(&self, _: &Case) -> bool {
        true
    }

    async fn call(&self, call: &Call) -> Outcome {
        Outcome::of_any_call(&self.0, call).await
    }
}

/// The HTTP calls only.
struct HttpCaller<'a, T>(Client<&'a T>);

impl<T: Transport> Caller for HttpCaller<'_, T> {
    fn can_run(&self, case: &Case) -> bool {
        case.calls()
            .all(|(_, exchange)| !exchange.call.operation().is_websocket())
    }

    async fn call(&self, call: &Call) -> Outcome {
        Outcome::of_call(&self.0, call).await
    }
}

/// [`check_transport_with`] with a limit on each case of your own: a transport that never
/// answers fails its case with a message, and the suite goes on to the next.
///
/// The limit is kept by a timer thread, not a runtime's, so it holds under any executor.
///
/// The channel cases check the transport's [`SocketTransport`] over real WebSockets: the
/// handshake, the first message, each message as the server sends it (split across TCP
/// segments where a case says so), and an idle timeout on a server that stalls (give the
/// transport a short one: a case waits for it).
pub async fn check_transport_within<T: Transport + SocketTransport>(
    transport: T,
    cases: &[Case],
    per_case: Duration,
) -> SuiteReport {
    check_with(
        |base| AnyCaller(Client::new(&transport, base)),
        cases,
        per_case,
    )
    .await
}

/// [`check_transport_within`] for a transport without the WebSocket channels: the cases that
/// open a channel are left out.
pub async fn check_http_transport_within<T: Transport>(
    transport: T,
    cases: &[Case],
    per_case: Duration,
) -> SuiteReport {
    check_with(
        |base| HttpCaller(Client::new(&transport, base)),
        cases,
        per_case,
    )
    .await
}

async fn check_with<C: Caller>(
    caller: impl FnOnce(Endpoint) -> C,
    cases: &[Case],
    per_case: Duration,
) -> SuiteReport {
    let server = match ReplayServer::start() {
        Ok(server) => server,
        Err(err) => {
            return SuiteReport {
                results: vec![CaseResult {
                    suite: "transport".into(),
                    case: "(starting the replay server)".into(),
                    operation: "-".into(),
                    family: "-".into(),
                    passed: false,
                    detail: err.to_string(),
                }],
            };
        }
    };
    let base = server
        .base_url()
        .parse()
        .unwrap_or_else(|_| unreachable!("127.0.0.1:port is a base URL"));
    let caller = caller(Endpoint::new(base));
    let mut report = SuiteReport::default();
    for case in cases.iter().filter(|case| caller.can_run(case)) {
        let reference = run_replay(case);
        server.play(case);
        let mut problems = Vec::new();
        let mut outcomes = Vec::new();
        let hung = {
            // Dropped at the end of the block, so that a hung call lets go of the outcomes.
            let calls = pin!(run_calls(
                &caller,
                case,
                &reference,
                &mut problems,
                &mut outcomes
            ));
            matches!(select(calls, Delay::new(per_case)).await, Either::Right(_))
        };
        if hung {
            // The call that gave no outcome: the first one without one.
            let index = case
                .calls()
                .nth(outcomes.len())
                .map_or(case.exchanges.len(), |(index, _)| index);
            problems.push(format!(
                "exchange {index}: no outcome after {per_case:?}: the transport hangs"
            ));
        }
        if let Err(err) = server.finish_case() {
            problems.push(err.to_string());
        }
        let run = CaseRun {
            case: case.clone(),
            outcomes,
            problems,
        };
        report.results.push(run.result("transport"));
    }
    report
}

/// Makes a case's calls over HTTP, checking each outcome against the case and the replay's.
async fn run_calls<C: Caller>(
    caller: &C,
    case: &Case,
    reference: &CaseRun,
    problems: &mut Vec<String>,
    outcomes: &mut Vec<Outcome>,
) {
    for (call, (index, exchange)) in case.calls().enumerate() {
        let outcome = caller.call(&exchange.call).await;
        if let Err(problem) = outcome.check(&exchange.expect) {
            problems.push(format!("exchange {index}: {problem}"));
        }
        if let Some(expected) = reference.outcomes.get(call) {
            if outcome.comparable() != expected.comparable() {
                problems.push(format!(
                    "exchange {index}: the outcome differs from the replay's:\n{}",
                    crate::matching::json_diff(
                        &serde_json::to_value(expected.comparable()).unwrap_or_default(),
                        &serde_json::to_value(outcome.comparable()).unwrap_or_default(),
                    )
                ));
            }
        }
        outcomes.push(outcome);
    }
}
