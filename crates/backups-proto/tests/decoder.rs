//! The progress decoder: every framing, every chunking, every kind of broken input.

use backups_models::{BackupStreamedProgress, ProgressStatus};
use backups_proto::{Error, ProgressDecoder};
use bytes::Bytes;
use proptest::prelude::*;

const EVENTS: [&str; 3] = [
    r#"{"status":"INITIALIZED","percentage":0}"#,
    r#"{"status":"IN-PROGRESS","percentage":42.5,"note":"caf\u00e9 \"quoted\" {braces} ünïcödé"}"#,
    r#"{"status":"COMPLETED","percentage":100,"backup":{"id":"b{1}","bytes":3,"created":{"value":"2026-11-26T21:00:00Z"},"device_name":"d","platform":"LINUX","timestamp":"t","version":"v"}}"#,
];

fn framings() -> Vec<(&'static str, Vec<u8>)> {
    let ndjson = EVENTS.join("\n") + "\n";
    let spaced = EVENTS.join(" \r\n\t ");
    let json_seq: String = EVENTS.iter().map(|e| format!("\u{1e}{e}\n")).collect();
    let concatenated = EVENTS.concat();
    vec![
        ("ndjson", ndjson.into_bytes()),
        ("whitespace", spaced.into_bytes()),
        ("json-seq", json_seq.into_bytes()),
        ("concatenated", concatenated.into_bytes()),
    ]
}

fn decode_chunks(chunks: &[&[u8]]) -> Result<Vec<BackupStreamedProgress>, Error> {
    let mut decoder = ProgressDecoder::new();
    for chunk in chunks {
        decoder.push(chunk);
    }
    decoder.finish();
    decoder.collect()
}

fn statuses(events: &[BackupStreamedProgress]) -> Vec<ProgressStatus> {
    events.iter().filter_map(|e| e.status.clone()).collect()
}

#[test]
fn every_framing_yields_the_same_events() {
    for (name, bytes) in framings() {
        let events = decode_chunks(&[&bytes]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            statuses(&events),
            [
                ProgressStatus::Initialized,
                ProgressStatus::InProgress,
                ProgressStatus::Completed
            ],
            "{name}"
        );
        assert_eq!(events[2].backup.as_ref().unwrap().id, "b{1}", "{name}");
    }
}

#[test]
fn a_single_object_is_a_stream_of_one() {
    let events = decode_chunks(&[EVENTS[2].as_bytes()]).unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn byte_by_byte_input_matches_whole_input() {
    let (_, bytes) = &framings()[0];
    let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(
        decode_chunks(&chunks).unwrap(),
        decode_chunks(&[bytes]).unwrap()
    );
}

#[test]
fn a_stream_cut_inside_an_event_is_truncated_not_silent() {
    let (_, bytes) = &framings()[0];
    let cut = &bytes[..bytes.len() - 20];
    let mut decoder = ProgressDecoder::new();
    decoder.push(cut);
    decoder.finish();
    let first = decoder.next_event().unwrap().unwrap();
    assert_eq!(first.status, Some(ProgressStatus::Initialized));
    decoder.next_event().unwrap().unwrap();
    let err = decoder.next_event().unwrap().unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    assert!(decoder.next_event().is_none());
}

#[test]
fn an_event_over_the_frame_limit_is_an_error() {
    let big = format!(r#"{{"status":"IN-PROGRESS","pad":"{}"}}"#, "x".repeat(1000));
    for chunk_size in [7, 100, 2000] {
        let mut decoder = ProgressDecoder::with_max_frame(512);
        for chunk in big.as_bytes().chunks(chunk_size) {
            decoder.push(chunk);
        }
        decoder.finish();
        let err = decoder.collect().unwrap_err();
        assert!(
            matches!(err, Error::FrameTooLarge { limit: 512, .. }),
            "{err:?}"
        );
    }
}

#[test]
fn memory_holds_one_unfinished_event_at_most() {
    // Many events pushed in one chunk leave nothing buffered.
    let mut decoder = ProgressDecoder::with_max_frame(200);
    let many = format!("{}\n", EVENTS[0]).repeat(10_000);
    decoder.push(many.as_bytes());
    decoder.finish();
    assert_eq!(decoder.collect().unwrap().len(), 10_000);
}

#[test]
fn non_object_values_and_garbage_are_decode_errors() {
    for bad in ["[1,2]", "42", "\"text\"", "null", "<html>", "{\"status\":}"] {
        let err = decode_chunks(&[bad.as_bytes()]).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{bad}: {err:?}");
    }
}

#[test]
fn events_before_an_error_are_still_delivered() {
    let input = format!("{}\n{}\n{{oops}}\n{}", EVENTS[0], EVENTS[1], EVENTS[2]);
    let mut decoder = ProgressDecoder::new();
    decoder.push(input.as_bytes());
    decoder.finish();
    assert!(decoder.next_event().unwrap().is_ok());
    assert!(decoder.next_event().unwrap().is_ok());
    assert!(decoder.next_event().unwrap().is_err());
    assert!(decoder.next_event().is_none(), "nothing after the error");
}

#[test]
fn an_empty_stream_has_no_events() {
    assert!(decode_chunks(&[b"", b"  \n"]).unwrap().is_empty());
}

fn split_points(len: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0..=len, 0..12).prop_map(|mut points| {
        points.sort_unstable();
        points
    })
}

fn split<'a>(bytes: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    for &point in points {
        chunks.push(&bytes[start..point]);
        start = point;
    }
    chunks.push(&bytes[start..]);
    chunks
}

proptest! {
    #[test]
    fn every_chunking_yields_the_same_result(
        (framing, points) in (0..4usize).prop_flat_map(|i| {
            let len = framings()[i].1.len();
            (Just(i), split_points(len))
        }),
        cut in proptest::option::of(0usize..400),
    ) {
        let (_, mut bytes) = framings().swap_remove(framing);
        if let Some(cut) = cut {
            bytes.truncate(cut.min(bytes.len()));
        }
        let points: Vec<usize> = points.into_iter().map(|p| p.min(bytes.len())).collect();
        let whole = decode_chunks(&[&bytes]);
        let chunked = decode_chunks(&split(&bytes, &points));
        prop_assert_eq!(format!("{whole:?}"), format!("{chunked:?}"));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), points in split_points(512)) {
        let points: Vec<usize> = points.into_iter().map(|p| p.min(bytes.len())).collect();
        let _ = decode_chunks(&split(&bytes, &points));
    }
}

#[test]
fn a_broken_event_reports_the_same_error_whole_or_in_pieces() {
    let input = format!(
        "{}\n{{\"status\":\"IN-PROGRESS\",\"percentage\":\"half\"}}\n{}\n",
        EVENTS[0], EVENTS[2]
    );
    let whole = decode_chunks(&[input.as_bytes()]);
    let pieces: Vec<&[u8]> = input.as_bytes().chunks(5).collect();
    let split = decode_chunks(&pieces);
    assert!(
        matches!(&whole, Err(Error::Decode { path, .. }) if path == "percentage"),
        "{whole:?}"
    );
    assert_eq!(format!("{whole:?}"), format!("{split:?}"));
}

/// Whole events are read ahead in runs; whatever interrupts a run must still come in order,
/// after exactly the events before it, wherever in the run it falls.
#[test]
fn a_problem_inside_a_long_run_comes_after_exactly_the_events_before_it() {
    let plain = EVENTS[0];
    let big = format!(r#"{{"status":"IN-PROGRESS","pad":"{}"}}"#, "x".repeat(600));
    let problems: [(&str, String, bool); 4] = [
        ("not an object", "[1]".into(), true),
        ("broken", r#"{"status":}"#.into(), true),
        ("over the limit", big, true),
        ("after a record separator", format!("\u{1e}{plain}"), false),
    ];
    for (what, problem, fails) in &problems {
        for at in [0, 1, 30, 31, 32, 33, 64, 70] {
            let mut lines: Vec<String> = (0..100).map(|_| plain.to_owned()).collect();
            lines.insert(at, problem.clone());
            let input = Bytes::from(lines.join("\n") + "\n");
            for by_bytes in [false, true] {
                let mut decoder = ProgressDecoder::with_max_frame(512);
                if by_bytes {
                    decoder.push_bytes(input.clone());
                } else {
                    decoder.push(&input);
                }
                decoder.finish();
                let mut ok = 0;
                let mut error = None;
                while let Some(event) = decoder.next_event() {
                    match event {
                        Ok(_) => ok += 1,
                        Err(err) => error = Some(err),
                    }
                }
                if *fails {
                    assert_eq!(ok, at, "{what} at {at} (bytes: {by_bytes})");
                    assert!(error.is_some(), "{what} at {at}");
                } else {
                    assert_eq!(ok, 101, "{what} at {at} (bytes: {by_bytes})");
                    assert!(error.is_none(), "{what} at {at}: {error:?}");
                }
            }
        }
    }
}
