//! `Client::follow`: a progress stream that ends cleanly before a final status is followed to
//! its end by polling the status of the backup it named.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use backups_proto::{
    BackupId, Client, Endpoint, Error, ErrorKind, Operation, Polling, TimeoutKind, Transport,
};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;

const BACKUP: &str = r#"{"id":"b1","bytes":10,"device_name":"d","platform":"LINUX","timestamp":"1","version":"1","created":{"value":"2026-01-01T00:00:00Z"}}"#;

fn status(value: &str, percentage: u32) -> (u16, String) {
    (
        200,
        format!(r#"{{"backup":{BACKUP},"value":"{value}","percentage":{percentage}}}"#),
    )
}

/// Answers the streamed call with `stream`, then each status call with the next answer; its
/// timer is instant (`timer: false` has none).
struct Script {
    stream: String,
    statuses: Mutex<VecDeque<(u16, String)>>,
    paths: Mutex<Vec<String>>,
    timer: bool,
}

impl Script {
    fn new(stream: &str, statuses: Vec<(u16, String)>) -> Arc<Self> {
        Arc::new(Self {
            stream: stream.to_owned(),
            statuses: Mutex::new(statuses.into()),
            paths: Mutex::new(Vec::new()),
            timer: true,
        })
    }
}

impl Transport for Script {
    type Body = Full<Bytes>;

    async fn send(&self, request: Request<Bytes>) -> Result<Response<Full<Bytes>>, Error> {
        self.paths
            .lock()
            .unwrap()
            .push(request.uri().path().to_owned());
        let (status, body, kind) = if request.uri().path().ends_with("/status") {
            let (status, body) = self.statuses.lock().unwrap().pop_front().expect("a status");
            let kind = if status == 200 {
                "application/json"
            } else {
                "text/plain"
            };
            (status, body, kind)
        } else {
            (200, self.stream.clone(), "application/x-ndjson")
        };
        Ok(Response::builder()
            .status(status)
            .header("content-type", kind)
            .body(Full::new(Bytes::from(body)))
            .unwrap())
    }

    fn sleep(&self, _: Duration) -> Option<impl Future<Output = ()> + Send> {
        self.timer.then(|| std::future::ready(()))
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

fn client(script: &Arc<Script>) -> Client<Arc<Script>> {
    let polling = Polling::default()
        .with_interval(Duration::from_millis(100))
        .with_idle(Duration::from_millis(300));
    Client::new(script.clone(), Endpoint::default()).with_polling(polling)
}

/// Follows a restore; returns the statuses the events reported, and the result.
fn follow(script: &Arc<Script>) -> (Vec<String>, Result<backups_models::Backup, Error>) {
    let client = client(script);
    let id = BackupId::new("b1").unwrap();
    block_on(async {
        let stream = client.restore_streamed(&id).await.unwrap();
        let mut seen = Vec::new();
        let result = client
            .follow(stream, |event| {
                seen.push(
                    event
                        .status
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                )
            })
            .await;
        (seen, result)
    })
}

fn initialized() -> String {
    format!("{{\"status\":\"INITIALIZED\",\"percentage\":0,\"backup\":{BACKUP}}}\n")
}

#[test]
fn an_early_end_is_followed_by_polling_to_completion() {
    let script = Script::new(
        &initialized(),
        vec![
            status("IN-PROGRESS", 50),
            status("IN-PROGRESS", 50),
            status("COMPLETED", 100),
        ],
    );
    let (seen, result) = follow(&script);
    assert_eq!(result.unwrap().id, "b1");
    // The unchanged second status is not reported again.
    assert_eq!(seen, ["INITIALIZED", "IN-PROGRESS", "COMPLETED"]);
    let paths = script.paths.lock().unwrap().clone();
    assert_eq!(paths[0], "/backup/b1/restore/streamed");
    assert!(
        paths[1..]
            .iter()
            .all(|p| p == "/backup/b1/restoration/status"),
        "{paths:?}"
    );
}

#[test]
fn a_final_failure_found_by_polling_is_the_operations_error() {
    let script = Script::new(&initialized(), vec![status("CANCELED", 40)]);
    let err = follow(&script).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Ended);
    assert_eq!(err.operation(), Some(Operation::RestoreStreamed));
    assert!(err.to_string().contains("CANCELED"), "{err}");
    assert!(!err.is_retryable(), "a cancel was somebody's decision");
}

#[test]
fn a_status_that_never_changes_times_out_after_the_idle_time() {
    let script = Script::new(
        &initialized(),
        (0..10).map(|_| status("IN-PROGRESS", 7)).collect(),
    );
    let err = follow(&script).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Idle));
    // 300 ms of unchanged status at one poll per 100 ms: the first poll and three more.
    assert_eq!(script.statuses.lock().unwrap().len(), 6);
}

#[test]
fn a_404_while_following_is_not_found() {
    let script = Script::new(&initialized(), vec![(404, "no such restoration".into())]);
    let err = follow(&script).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.operation(), Some(Operation::RestorationStatus));
}

#[test]
fn without_an_id_or_a_timer_an_early_end_stays_an_error() {
    let anonymous = Script::new("{\"status\":\"INITIALIZED\",\"percentage\":0}\n", vec![]);
    let err = follow(&anonymous).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated);
    assert_eq!(
        anonymous.paths.lock().unwrap().len(),
        1,
        "no status was asked"
    );

    let mut no_timer = Script::new(&initialized(), vec![status("IN-PROGRESS", 1)]);
    Arc::get_mut(&mut no_timer).unwrap().timer = false;
    let err = follow(&no_timer).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated);
}

#[test]
fn a_stream_cut_inside_an_event_is_not_followed() {
    let cut = &initialized()[..40];
    let script = Script::new(cut, vec![status("COMPLETED", 100)]);
    let err = follow(&script).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated);
    assert_eq!(script.paths.lock().unwrap().len(), 1, "no status was asked");
}
