//! The generic client over a closure transport: bodies in many chunks, limits, streams.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use backups_models::ProgressStatus;
use backups_proto::{BackupId, Client, Endpoint, Error, Limits, Operation, transport_fn};
use bytes::Bytes;
use http::Response;
use http_body::Frame;

/// A body delivered in the given chunks, optionally failing after them.
#[derive(Debug, Clone)]
struct Chunks {
    chunks: VecDeque<Bytes>,
    fail_at_end: bool,
}

impl Chunks {
    fn new(chunks: &[&[u8]]) -> Self {
        Self {
            chunks: chunks.iter().map(|c| Bytes::copy_from_slice(c)).collect(),
            fail_at_end: false,
        }
    }
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match self.chunks.pop_front() {
            Some(chunk) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            None if self.fail_at_end => {
                self.fail_at_end = false;
                Poll::Ready(Some(Err(Error::transport(
                    backups_proto::TransportKind::Io,
                    "connection reset",
                ))))
            }
            None => Poll::Ready(None),
        }
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

fn client_answering(
    status: u16,
    content_type: &'static str,
    body: Chunks,
) -> Client<impl backups_proto::Transport> {
    let transport = transport_fn(move |_request| {
        let body = body.clone();
        async move {
            Ok(Response::builder()
                .status(status)
                .header("content-type", content_type)
                .body(body)
                .unwrap())
        }
    });
    Client::new(transport, Endpoint::default())
}

const LISTING: &[u8] = br#"{"iterable":[{"id":"b1","bytes":10,"created":{"value":"2026-11-26T21:00:00Z"},"device_name":"d","platform":"LINUX","timestamp":"t","version":"v"}]}"#;

#[test]
fn a_body_in_many_chunks_is_read_whole() {
    let chunks: Vec<&[u8]> = LISTING.chunks(3).collect();
    let client = client_answering(200, "application/json", Chunks::new(&chunks));
    let backups = block_on(client.list()).unwrap();
    assert_eq!(backups.iter().next().unwrap().id, "b1");
}

#[test]
fn a_body_over_the_limit_is_refused() {
    let chunks: Vec<&[u8]> = LISTING.chunks(10).collect();
    let client = client_answering(200, "application/json", Chunks::new(&chunks))
        .with_limits(Limits::default().with_max_body(50));
    let err = block_on(client.list()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                limit: 50,
                operation: Some(Operation::List)
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let transport = transport_fn(|_request| async {
        Ok(Response::builder()
            .header("content-length", "1000000")
            .body(Chunks::new(&[]))
            .unwrap())
    });
    let client = Client::new(transport, Endpoint::default())
        .with_limits(Limits::default().with_max_body(1000));
    assert!(matches!(
        block_on(client.list()),
        Err(Error::BodyTooLarge { .. })
    ));
}

#[test]
fn a_body_error_keeps_its_kind_and_gains_the_operation() {
    let mut body = Chunks::new(&[&LISTING[..20]]);
    body.fail_at_end = true;
    let client = client_answering(200, "application/json", body);
    let err = block_on(client.list()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                operation: Some(Operation::List),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_stream_yields_events_as_chunks_arrive() {
    let stream = "{\"status\":\"INITIALIZED\",\"percentage\":0}\n{\"status\":\"IN-PROG\
                  RESS\",\"percentage\":50}\n{\"status\":\"COMPLETED\",\"percentage\":100,\"backup\":\
                  {\"id\":\"b2\",\"bytes\":1,\"created\":{\"value\":\"2026-11-26T21:00:00Z\"},\
                  \"device_name\":\"d\",\"platform\":\"LINUX\",\"timestamp\":\"t\",\"version\":\"v\"}}\n";
    let chunks: Vec<&[u8]> = stream.as_bytes().chunks(13).collect();
    let client = client_answering(200, "application/x-ndjson", Chunks::new(&chunks));
    let mut progress = block_on(client.create_streamed()).unwrap();
    let mut seen = Vec::new();
    while let Some(event) = block_on(progress.next_event()) {
        seen.push(event.unwrap().status.unwrap());
    }
    assert_eq!(
        seen,
        [
            ProgressStatus::Initialized,
            ProgressStatus::InProgress,
            ProgressStatus::Completed
        ]
    );

    let progress = block_on(client.create_streamed()).unwrap();
    let mut count = 0;
    let backup = block_on(progress.finish(|_| count += 1)).unwrap();
    assert_eq!((backup.id.as_str(), count), ("b2", 3));
}

#[test]
fn a_stream_ending_before_a_final_status_is_truncated() {
    let body = Chunks::new(&[b"{\"status\":\"IN-PROGRESS\",\"percentage\":10}\n"]);
    let client = client_answering(200, "application/x-ndjson", body);
    let mut progress = block_on(client.create_streamed()).unwrap();
    assert!(block_on(progress.next_event()).unwrap().is_ok());
    let err = block_on(progress.next_event()).unwrap().unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert!(block_on(progress.next_event()).is_none());
}

#[test]
fn a_stream_cut_mid_event_is_truncated() {
    let body = Chunks::new(&[b"{\"status\":\"IN-PROGRESS\",\"perc"]);
    let client = client_answering(200, "application/x-ndjson", body);
    let progress = block_on(client.create_streamed()).unwrap();
    let err = block_on(progress.finish(|_| {})).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
}

#[test]
fn a_failed_backup_is_an_error_from_finish() {
    let body = Chunks::new(&[b"{\"status\":\"FAILED\",\"percentage\":30}"]);
    let client = client_answering(200, "application/x-ndjson", body);
    let progress = block_on(client.create_streamed()).unwrap();
    let err = block_on(progress.finish(|_| {})).unwrap_err();
    assert!(err.to_string().contains("FAILED"), "{err}");
}

#[test]
fn an_error_status_on_the_stream_is_the_typed_error() {
    let client = client_answering(511, "text/plain", Chunks::new(&[b"sign in please"]));
    let err = block_on(client.create_streamed()).unwrap_err();
    assert!(matches!(err, Error::Unauthenticated { .. }), "{err:?}");
}

#[test]
fn delete_sends_the_encoded_id_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let transport = transport_fn(move |request: http::Request<Bytes>| {
        seen.fetch_add(1, Ordering::SeqCst);
        let path = request.uri().path().to_owned();
        async move {
            assert_eq!(path, "/backups/x%2Fy/delete");
            Ok(Response::builder()
                .status(204)
                .body(Chunks::new(&[]))
                .unwrap())
        }
    });
    let client = Client::new(transport, Endpoint::default());
    block_on(client.delete(&BackupId::new("x/y").unwrap())).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_method_naming_a_backup_takes_a_backup_an_id_or_a_string() {
    let paths = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = paths.clone();
    let transport = transport_fn(move |request: http::Request<Bytes>| {
        seen.lock().unwrap().push(request.uri().path().to_owned());
        async move {
            Ok(Response::builder()
                .status(204)
                .body(Chunks::new(&[]))
                .unwrap())
        }
    });
    let client = Client::new(transport, Endpoint::default());
    let listing: backups_models::Backups = serde_json::from_slice(LISTING).unwrap();
    let backup = listing.iter().next().unwrap();
    let id = BackupId::new("b1").unwrap();
    block_on(client.delete(backup)).unwrap();
    block_on(client.delete(&id)).unwrap();
    block_on(client.delete(id.clone())).unwrap();
    block_on(client.delete("b1")).unwrap();
    block_on(client.delete(String::from("b1"))).unwrap();
    block_on(client.delete(&backup.id)).unwrap();
    assert_eq!(*paths.lock().unwrap(), vec!["/backups/b1/delete"; 6]);

    // An empty id is refused before any IO, whatever it came as.
    for refused in [
        block_on(client.delete("")),
        block_on(client.cancel_restoration(String::new())),
    ] {
        let err = refused.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    }
    assert!(block_on(client.get("")).is_err());
    assert!(block_on(client.restore_streamed("")).is_err());
    assert_eq!(
        paths.lock().unwrap().len(),
        6,
        "nothing was sent for an empty id"
    );
}

#[test]
fn execute_raw_returns_the_value_and_the_body_as_sent() {
    use backups_proto::operations::List;
    let chunks: Vec<&[u8]> = LISTING.chunks(7).collect();
    let client = client_answering(200, "application/json", Chunks::new(&chunks));
    let (backups, raw) = block_on(client.execute_raw(&List)).unwrap();
    assert_eq!(backups.len(), 1);
    assert_eq!(&raw[..], LISTING);
}
