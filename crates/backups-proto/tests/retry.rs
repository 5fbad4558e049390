//! Retries belong to the client: over any transport with a timer, an idempotent call that could
//! not connect is sent again under the `RetryPolicy`, each retry marked with its `Attempt`; a
//! POST never is, and a transport without a timer gets none.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use backups_proto::{
    Attempt, Client, Endpoint, Error, Operation, RetryPolicy, Transport, TransportKind,
};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;

/// What a request said of itself: its operation and its attempt (none on a first one).
type Seen = (Option<Operation>, Option<u32>);

/// Refuses the first `refusals` connections, then answers an empty listing; records each
/// request's operation and attempt. Its timer is ready at once, and records the waits asked.
#[derive(Debug, Clone, Default)]
struct Flaky {
    refusals: usize,
    timer: bool,
    seen: Arc<Mutex<Vec<Seen>>>,
    waits: Arc<Mutex<Vec<Duration>>>,
}

impl Transport for Flaky {
    type Body = Full<Bytes>;

    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Self::Body>, Error>> + Send {
        let mut seen = self.seen.lock().unwrap();
        seen.push((
            request.extensions().get::<Operation>().copied(),
            request.extensions().get::<Attempt>().map(|a| a.0),
        ));
        let refused = seen.len() <= self.refusals;
        async move {
            if refused {
                return Err(Error::transport(TransportKind::Connect, "refused"));
            }
            Ok(Response::new(Full::new(Bytes::from_static(
                br#"{"iterable":[]}"#,
            ))))
        }
    }

    fn sleep(&self, duration: Duration) -> Option<impl Future<Output = ()> + Send> {
        self.timer.then(|| {
            self.waits.lock().unwrap().push(duration);
            std::future::ready(())
        })
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

#[test]
fn an_idempotent_call_that_could_not_connect_is_retried_with_backoff() {
    let transport = Flaky {
        refusals: 2,
        timer: true,
        ..Flaky::default()
    };
    let client = Client::new(transport.clone(), Endpoint::default());
    assert!(block_on(client.list()).unwrap().is_empty());
    let list = Some(Operation::List);
    assert_eq!(
        *transport.seen.lock().unwrap(),
        [(list, None), (list, Some(2)), (list, Some(3))]
    );
    let policy = RetryPolicy::default();
    assert_eq!(
        *transport.waits.lock().unwrap(),
        [
            policy.delay_after(1).unwrap(),
            policy.delay_after(2).unwrap()
        ]
    );
}

#[test]
fn the_last_attempt_s_error_is_returned() {
    let transport = Flaky {
        refusals: 10,
        timer: true,
        ..Flaky::default()
    };
    let client =
        Client::new(transport.clone(), Endpoint::default()).with_retry(RetryPolicy::new(4));
    let err = block_on(client.get("b1")).unwrap_err();
    assert!(err.is_connect(), "{err}");
    assert_eq!(err.operation(), Some(Operation::Get));
    assert_eq!(transport.seen.lock().unwrap().len(), 4);
}

#[test]
fn a_post_is_never_resent() {
    let transport = Flaky {
        refusals: 10,
        timer: true,
        ..Flaky::default()
    };
    let client =
        Client::new(transport.clone(), Endpoint::default()).with_retry(RetryPolicy::new(5));
    block_on(client.delete("b1")).unwrap_err();
    block_on(client.cancel_creation("b1")).unwrap_err();
    assert_eq!(transport.seen.lock().unwrap().len(), 2);
}

#[test]
fn no_retry_without_a_timer_or_with_the_none_policy() {
    let untimed = Flaky {
        refusals: 1,
        ..Flaky::default()
    };
    let client = Client::new(untimed.clone(), Endpoint::default());
    assert!(block_on(client.list()).unwrap_err().is_connect());
    assert_eq!(untimed.seen.lock().unwrap().len(), 1);

    let timed = Flaky {
        refusals: 1,
        timer: true,
        ..Flaky::default()
    };
    let client = Client::new(timed.clone(), Endpoint::default()).with_retry(RetryPolicy::none());
    assert!(block_on(client.list()).unwrap_err().is_connect());
    assert_eq!(timed.seen.lock().unwrap().len(), 1);
    assert!(timed.waits.lock().unwrap().is_empty());
}
