//! The WebSocket channels over a scripted `SocketTransport`: handshake requests, first
//! messages, decoding of each message, and how each stream ends.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use backups_proto::{
    BackupId, Client, Endpoint, Error, ErrorKind, Handshake, Message, Operation, SocketTransport,
};
use bytes::Bytes;
use futures_core::Stream;
use http::{Request, Response};

/// A socket that yields scripted messages, then ends.
struct Scripted(VecDeque<Result<Message, Error>>);

impl Stream for Scripted {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.pop_front())
    }
}

/// Answers every handshake with `answer`, noting the request and the first message.
struct Sockets {
    answer: Mutex<Option<Handshake<Scripted>>>,
    seen: Mutex<Vec<(Request<Bytes>, Option<String>)>>,
}

impl Sockets {
    fn upgraded(messages: Vec<Result<Message, Error>>) -> Arc<Self> {
        Self::answering(Handshake::Upgraded(Scripted(messages.into())))
    }

    fn answering(answer: Handshake<Scripted>) -> Arc<Self> {
        Arc::new(Self {
            answer: Mutex::new(Some(answer)),
            seen: Mutex::new(Vec::new()),
        })
    }
}

impl SocketTransport for Sockets {
    type Socket = Scripted;

    async fn connect(
        &self,
        request: Request<Bytes>,
        first: Option<String>,
    ) -> Result<Handshake<Scripted>, Error> {
        self.seen.lock().unwrap().push((request, first));
        Ok(self.answer.lock().unwrap().take().expect("one handshake"))
    }
}

fn text(json: &str) -> Result<Message, Error> {
    Ok(Message::Text(Bytes::copy_from_slice(json.as_bytes())))
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

fn client(sockets: &Arc<Sockets>) -> Client<Arc<Sockets>> {
    let endpoint = Endpoint::new("http://127.0.0.1:39300".parse().unwrap());
    Client::new(sockets.clone(), endpoint)
}

const BACKUP: &str = r#"{"id":"b1","bytes":10,"device_name":"d","platform":"LINUX","timestamp":"1","version":"1","created":{"value":"2026-01-01T00:00:00Z"}}"#;

#[test]
fn a_restore_socket_sends_its_handshake_and_input_and_ends_at_the_final_event() {
    let sockets = Sockets::upgraded(vec![
        text(&format!(
            r#"{{"status":"INITIALIZED","percentage":0,"backup":{BACKUP}}}"#
        )),
        text(r#"{"status":"IN-PROGRESS","percentage":50}"#),
        text(&format!(
            r#"{{"status":"COMPLETED","percentage":100,"backup":{BACKUP}}}"#
        )),
        // Never read: the final event ends the stream.
        text("not json"),
    ]);
    let client = client(&sockets);
    let id = BackupId::new("a b").unwrap();
    let backup = block_on(async {
        let stream = client.restore_over_websocket(&id).await.unwrap();
        assert_eq!(stream.operation(), Operation::RestoreOverWebSocket);
        stream.finish(|_| {}).await
    })
    .unwrap();
    assert_eq!(backup.id, "b1");
    let (request, first) = sockets.seen.lock().unwrap().pop().unwrap();
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(
        request.uri().path(),
        "/backup/a%20b/restore/streamed/websocket"
    );
    assert_eq!(request.headers()["upgrade"], "websocket");
    assert_eq!(request.headers()["connection"], "Upgrade");
    assert_eq!(request.headers()["sec-websocket-version"], "13");
    assert!(
        !request.headers().contains_key("sec-websocket-key"),
        "the transport's to add"
    );
    assert!(!request.headers().contains_key("content-length"));
    assert_eq!(
        first.as_deref(),
        Some("{}"),
        "an input, at least {{}}, goes first"
    );
}

#[test]
fn a_close_before_the_final_event_is_truncated() {
    let sockets = Sockets::upgraded(vec![
        text(r#"{"status":"INITIALIZED","percentage":0}"#),
        Ok(Message::Close(Some(1000))),
    ]);
    let client = client(&sockets);
    let err = block_on(async {
        let stream = client.create_over_websocket().await.unwrap();
        stream.finish(|_| {}).await
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated);
    assert_eq!(err.operation(), Some(Operation::CreateOverWebSocket));
}

#[test]
fn a_binary_message_and_bad_json_are_typed_errors() {
    let binary = Sockets::upgraded(vec![Ok(Message::Binary(Bytes::from_static(&[0, 1])))]);
    let err = block_on(async {
        client(&binary)
            .create_over_websocket()
            .await
            .unwrap()
            .finish(|_| {})
            .await
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedMessage);

    let bad = Sockets::upgraded(vec![text(r#"{"status":"IN-PROGRESS","percentage":"x"}"#)]);
    let err = block_on(async {
        client(&bad)
            .create_over_websocket()
            .await
            .unwrap()
            .finish(|_| {})
            .await
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("percentage"), "{err}");
}

#[test]
fn the_progress_socket_yields_snapshots_until_it_closes() {
    let sockets = Sockets::upgraded(vec![
        text(r#"{"backups":[],"restorations":[]}"#),
        text(r#"{"backups":[{"status":"IN-PROGRESS","percentage":5}],"restorations":[]}"#),
        text(r#"{"backups":[{"status":"FUTURE","percentage":6}]}"#),
        Ok(Message::Close(None)),
    ]);
    let client = client(&sockets);
    let snapshots = block_on(async {
        let mut stream = client.watch_progress().await.unwrap();
        let mut all = Vec::new();
        while let Some(snapshot) = stream.next_snapshot().await {
            all.push(snapshot.unwrap());
        }
        all
    });
    assert_eq!(snapshots.len(), 3);
    let unknown = &snapshots[2].backups.as_ref().unwrap()[0];
    assert_eq!(
        unknown.status.as_ref().unwrap().to_string(),
        "FUTURE",
        "unknown values kept"
    );
    let (request, first) = sockets.seen.lock().unwrap().pop().unwrap();
    assert_eq!(request.uri().path(), "/backups/streamed/progress");
    assert_eq!(first, None, "the progress socket takes no input");
}

#[test]
fn a_refused_handshake_reads_as_the_http_error() {
    let answer = Response::builder()
        .status(511)
        .header("content-type", "text/plain")
        .body(Bytes::from_static(b"sign in first"))
        .unwrap();
    let sockets = Sockets::answering(Handshake::Refused(answer));
    let err = block_on(client(&sockets).watch_progress()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(err.operation(), Some(Operation::WatchProgress));

    let missing = Response::builder().status(404).body(Bytes::new()).unwrap();
    let sockets = Sockets::answering(Handshake::Refused(missing));
    let id = BackupId::new("gone").unwrap();
    let err = block_on(client(&sockets).restore_over_websocket(&id)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn a_whole_message_cut_inside_its_json_is_malformed_not_truncated() {
    let sockets = Sockets::upgraded(vec![text(r#"{"status":"IN-PROG"#)]);
    let err = block_on(async {
        client(&sockets)
            .create_over_websocket()
            .await
            .unwrap()
            .finish(|_| {})
            .await
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
}

#[test]
fn an_abnormal_close_of_the_progress_socket_is_an_error() {
    let sockets = Sockets::upgraded(vec![
        text(r#"{"backups":[],"restorations":[]}"#),
        Ok(Message::Close(Some(1011))),
    ]);
    let client = client(&sockets);
    let (snapshots, last) = block_on(async {
        let mut stream = client.watch_progress().await.unwrap();
        let first = stream.next_snapshot().await.unwrap().unwrap();
        (vec![first], stream.next_snapshot().await)
    });
    assert_eq!(snapshots.len(), 1);
    let err = last.expect("an item").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedMessage);
    assert!(err.to_string().contains("1011"), "{err}");
}
