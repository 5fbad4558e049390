//! The properties the fuzz targets check, one function per target. Each panics when the property
//! fails; `backups-proto/tests/arbitrary.rs` and `backups-server/tests/hostile.rs` check the
//! same properties with proptest in CI.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use backups_proto::models::{BackupStreamedProgress, BackupsStreamedProgress};
use backups_proto::operations::{AnyOperation, ApiOperation, Delete};
use backups_proto::{
    BackupId, EXCERPT_LIMIT, Endpoint, ErrorKind, Message, Operation, ProgressDecoder, read_message,
};
use backups_testkit::BlockingServer;
use bytes::Bytes;

const CONTENT_TYPES: [Option<&str>; 7] = [
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("text/plain"),
    Some("application/x-ndjson"),
    Some("text/html"),
    Some("json;; = \"garbage"),
];

/// Reads a response from fuzz input: two bytes of status, one of content type, then the body.
pub fn response_from(data: &[u8]) -> http::Response<Bytes> {
    let (head, body) = data.split_at(data.len().min(3));
    let status = match head {
        [a, b, ..] => 100 + u16::from_le_bytes([*a, *b]) % 900,
        _ => 200,
    };
    let content_type = head.get(2).map_or(Some("application/json"), |c| {
        CONTENT_TYPES[usize::from(*c) % CONTENT_TYPES.len()]
    });
    let mut builder = http::Response::builder().status(status);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder
        .body(Bytes::copy_from_slice(body))
        .expect("a valid response")
}

/// Every operation's response parser never panics, succeeds only on a success status, and names
/// its operation in every error; the error's text stays bounded whatever the body. The first byte
/// picks the operation from the table, so a new operation is fuzzed as soon as it is added.
pub fn check_response(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let http: Vec<Operation> = Operation::http().collect();
    let operation = http[usize::from(pick) % http.len()];
    let response = response_from(rest);
    let status = response.status();
    match AnyOperation::parse_response(operation, response) {
        Ok(_) => assert!(
            status.is_success(),
            "{operation}: {status} parsed as success"
        ),
        Err(error) => {
            assert_eq!(error.operation(), Some(operation), "{error:?}");
            let text = error.to_string();
            assert!(
                text.len() < 4 * EXCERPT_LIMIT + 1024,
                "{} bytes",
                text.len()
            );
        }
    }
}

/// Decodes `body` pushed whole and pushed in the chunks that `cuts` mark.
fn decode(body: &[u8], cuts: &[usize]) -> String {
    let mut decoder = ProgressDecoder::with_max_frame(256);
    let mut last = 0;
    for &cut in cuts {
        decoder.push(&body[last..cut]);
        last = cut;
    }
    decoder.push(&body[last..]);
    decoder.finish();
    // The excerpt of a bad frame shows what had arrived when it was found bad, which depends on
    // the cuts; everything else may not.
    match decoder.collect() {
        Err(backups_proto::Error::Decode {
            operation,
            path,
            message,
            ..
        }) => format!("Decode {operation} {path} {message}"),
        other => format!("{other:?}"),
    }
}

/// The decoder never panics, and gives the same result however the bytes are cut. The first
/// byte says how many cut points follow, one byte each.
pub fn check_decoder(data: &[u8]) {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 8).min(rest.len());
    let (points, body) = rest.split_at(count);
    let mut cuts: Vec<usize> = points
        .iter()
        .map(|&p| usize::from(p) * body.len() / 256)
        .collect();
    cuts.sort_unstable();
    assert_eq!(decode(body, &[]), decode(body, &cuts), "cuts {cuts:?}");
}

fn percent_decode(segment: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(segment).collect()
}

/// Any non-empty id becomes exactly one path segment of unreserved characters and escapes, which
/// decodes back to the id; an empty one is refused before any request exists.
pub fn check_delete_id(data: &[u8]) {
    let id = String::from_utf8_lossy(data).into_owned();
    let Ok(backup_id) = BackupId::new(id.clone()) else {
        assert!(id.is_empty());
        return;
    };
    let request = Delete::new(backup_id)
        .request(&Endpoint::default())
        .expect("a request");
    let path = request.uri().path();
    let segment = path
        .strip_prefix("/backups/")
        .and_then(|rest| rest.strip_suffix("/delete"))
        .unwrap_or_else(|| panic!("path {path}"));
    assert!(
        segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_~%".contains(&b)),
        "{segment}"
    );
    assert_eq!(percent_decode(segment), id.as_bytes());
    assert!(request.uri().query().is_none());
}

/// One server for the whole fuzzing run: starting one per input would be all the fuzzer did.
fn fixture() -> &'static BlockingServer {
    static FIXTURE: OnceLock<BlockingServer> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        BlockingServer::start(&[("a.txt", b"alpha")], |config| {
            config.header_read_timeout = Duration::from_millis(500);
            config.max_body_bytes = 16 * 1024;
        })
    })
}

async fn exchange(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the server accepts");
    let _ = stream.write_all(raw).await;
    let _ = stream.shutdown().await;
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut seen)).await;
    seen
}

/// Arbitrary bytes sent to the server: no 5xx answer, and the server still answers its health
/// check afterwards.
pub fn check_server_request(data: &[u8]) {
    let fixture = fixture();
    let seen = fixture.block_on(exchange(fixture.local_addr(), data));
    let status = String::from_utf8_lossy(&seen[..seen.len().min(12)]).into_owned();
    assert!(
        !status.starts_with("HTTP/1.1 5") && !status.starts_with("HTTP/1.0 5"),
        "{status}"
    );
    let health = fixture.block_on(exchange(
        fixture.local_addr(),
        b"GET /.well-known/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ));
    assert!(health.starts_with(b"HTTP/1.1 200"), "{health:?}");
}

/// Reads one WebSocket message as each channel's model: never a panic; a binary message is
/// `UnexpectedMessage`, a text one over the limit `FrameTooLarge`, and any other error names
/// its channel with a bounded text. The first byte picks text or binary, the second the limit.
pub fn check_socket_message(data: &[u8]) {
    let [kind, limit, payload @ ..] = data else {
        return;
    };
    let payload = Bytes::copy_from_slice(payload);
    let max_frame = usize::from(*limit) * 4;
    let message = if kind % 2 == 0 {
        Message::Text(payload.clone())
    } else {
        Message::Binary(payload.clone())
    };
    let results = [
        (
            Operation::WatchProgress,
            read_message::<BackupsStreamedProgress>(
                Operation::WatchProgress,
                message.clone(),
                max_frame,
            )
            .map(drop),
        ),
        (
            Operation::CreateOverWebSocket,
            read_message::<BackupStreamedProgress>(Operation::CreateOverWebSocket, message, max_frame)
                .map(drop),
        ),
    ];
    for (operation, result) in results {
        let Err(error) = result else { continue };
        assert_eq!(error.operation(), Some(operation), "{error:?}");
        match (kind % 2, error.kind()) {
            (1, ErrorKind::UnexpectedMessage) => {}
            (1, other) => panic!("a binary message gave {other:?}"),
            (_, ErrorKind::FrameTooLarge) => assert!(payload.len() > max_frame),
            (_, ErrorKind::Decode | ErrorKind::UnexpectedMessage) => {}
            (_, other) => panic!("a text message gave {other:?}"),
        }
        assert!(error.to_string().len() < 4 * EXCERPT_LIMIT + 1024);
    }
}
