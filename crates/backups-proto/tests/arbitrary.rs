//! The proptest twins of the cargo-fuzz targets in `fuzz/` (`response`, `socket_message`,
//! `progress_decoder`, `delete_id`), so that CI, which has no nightly toolchain, still runs each
//! property over arbitrary bytes. `decoder.rs` already checks that arbitrary bytes never panic the decoder;
//! here the decoder must also give the same answer however arbitrary bytes are cut.

use backups_models::{BackupStreamedProgress, BackupsStreamedProgress};
use backups_proto::operations::{AnyOperation, ApiOperation, Delete};
use backups_proto::{
    BackupId, EXCERPT_LIMIT, Endpoint, ErrorKind, Message, Operation, ProgressDecoder, read_message,
};
use bytes::Bytes;
use proptest::prelude::*;

const CONTENT_TYPES: [Option<&str>; 7] = [
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("text/plain"),
    Some("application/x-ndjson"),
    Some("text/html"),
    Some("json;; = \"garbage"),
];

fn response(status: u16, content_type: usize, body: &[u8]) -> http::Response<Bytes> {
    let mut builder = http::Response::builder().status(status);
    if let Some(content_type) = CONTENT_TYPES[content_type] {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Bytes::copy_from_slice(body)).unwrap()
}

/// Arbitrary bytes, and bytes that look like the JSON the parsers expect, so that the parsers
/// get past their first character.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(&b"{"[..]),
        Just(&b"}"[..]),
        Just(&b"["[..]),
        Just(&b"]"[..]),
        Just(&b","[..]),
        Just(&b":"[..]),
        Just(&b"\""[..]),
        Just(&b"\"iterable\":"[..]),
        Just(&b"\"indices\":"[..]),
        Just(&b"\"id\":\"x\""[..]),
        Just(&b"\"created\":{\"value\":\"2026-11-26T21:00:00Z\"}"[..]),
        Just(&b"\"status\":\"COMPLETED\""[..]),
        Just(&b"\"backup\":"[..]),
        Just(&b"1e999"[..]),
        Just(&b"-0.0"[..]),
        Just(&b"null"[..]),
        Just(&b"\n"[..]),
        Just(&b"\xc3"[..]),
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec(piece, 0..60).prop_map(|parts| parts.concat()),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => prop::sample::select(vec![200u16, 201, 204, 400, 404, 500, 505, 511]),
        1 => 100u16..1000,
    ]
}

fn check(
    operation: Operation,
    status: u16,
    content_type: usize,
    body: &[u8],
) -> Result<(), TestCaseError> {
    match AnyOperation::parse_response(operation, response(status, content_type, body)) {
        Ok(_) => prop_assert!((200..300).contains(&status), "{status} parsed as success"),
        Err(error) => {
            prop_assert_eq!(error.operation(), Some(operation), "{:?}", error);
            let text = error.to_string();
            prop_assert!(
                text.len() < 4 * EXCERPT_LIMIT + 1024,
                "{} bytes",
                text.len()
            );
        }
    }
    Ok(())
}

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

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn response_parsers_never_panic(status in status(), content_type in 0..CONTENT_TYPES.len(), body in body()) {
        // Every operation's parser, by the table: a new operation is fuzzed here as it is added.
        for operation in Operation::http() {
            check(operation, status, content_type, &body)?;
        }
    }

    #[test]
    fn socket_messages_give_the_contracts_errors(binary in any::<bool>(), limit in 0usize..1024, payload in body()) {
        let bytes = Bytes::from(payload);
        let message = if binary { Message::Binary(bytes.clone()) } else { Message::Text(bytes.clone()) };
        for operation in Operation::websockets() {
            let read = if operation == Operation::WatchProgress {
                read_message::<BackupsStreamedProgress>(operation, message.clone(), limit).map(drop)
            } else {
                read_message::<BackupStreamedProgress>(operation, message.clone(), limit).map(drop)
            };
            let Err(error) = read else { continue };
            prop_assert_eq!(error.operation(), Some(operation));
            let kind = error.kind();
            if binary {
                prop_assert_eq!(kind, ErrorKind::UnexpectedMessage);
            } else if kind == ErrorKind::FrameTooLarge {
                prop_assert!(bytes.len() > limit);
            } else {
                prop_assert!(matches!(kind, ErrorKind::Decode | ErrorKind::UnexpectedMessage), "{:?}", kind);
            }
            prop_assert!(error.to_string().len() < 4 * EXCERPT_LIMIT + 1024);
        }
    }

    #[test]
    fn the_decoder_result_does_not_depend_on_the_cuts(
        body in body(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(decode(&body, &[]), decode(&body, &cuts), "cuts {:?}", cuts);
    }

    #[test]
    fn any_id_is_one_segment_that_decodes_back(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let id = String::from_utf8_lossy(&bytes).into_owned();
        let Ok(backup_id) = BackupId::new(id.clone()) else {
            prop_assert!(id.is_empty());
            return Ok(());
        };
        let request = Delete::new(backup_id).request(&Endpoint::default()).unwrap();
        let path = request.uri().path();
        let segment = path
            .strip_prefix("/backups/")
            .and_then(|rest| rest.strip_suffix("/delete"))
            .unwrap_or_else(|| panic!("path {path}"));
        prop_assert!(
            segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_~%".contains(&b)),
            "{}",
            segment
        );
        let decoded: Vec<u8> = percent_encoding::percent_decode_str(segment).collect();
        prop_assert_eq!(decoded, id.as_bytes());
    }
}
