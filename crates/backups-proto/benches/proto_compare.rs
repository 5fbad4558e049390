//! Side-by-side comparisons of the sans-IO hot paths, for `cargo xtask bench`.
//!
//! - `list-parse`: `List::parse_response` on a listing of 100,000 backups versus
//!   `serde_json::from_slice` into plain derived structs with the same fields (MB/s).
//! - `list-parse-peak-mem`: peak resident memory of one parse of each, in a fresh process.
//! - `progress-decode`: 1,000,000 NDJSON progress events pushed to
//!   `ProgressDecoder::push_bytes` in 64 KiB `Bytes` chunks versus serde_json's
//!   `StreamDeserializer` over the whole buffer (events/s).
//! - `progress-decode-mem`: peak resident memory decoding a stream generated on the fly, at
//!   10 MB and at 1 GB (`--quick`: 100 MB).
//!
//! Prints one JSON object per comparison on stdout; progress goes to stderr. Samples of ours
//! and the baseline alternate (which goes first alternates too), and medians are reported.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use backups_models::{
    Backup, BackupParts, BackupStreamedProgress, Backups, EmbeddedModelSchema, GroupedTimestamp,
    Number, Platform, ProgressStatus, SemanticVersion,
};
use backups_proto::ProgressDecoder;
use backups_proto::operations::{ApiOperation, List};
use bytes::Bytes;
use serde::Deserialize;

#[path = "../../../xtask/bench-support/emit.rs"]
mod emit;
use emit::{Options, emit};
#[path = "../../../xtask/bench-support/memory.rs"]
mod memory;
use memory::vm_hwm_kib;

const CHUNK: usize = 64 * 1024;

fn main() {
    let options = Options::from_env();
    let (args, quick) = (&options.args, options.quick);
    // A child run that measures the memory of one case: `--mem <case> <size>`.
    if let Some(at) = args.iter().position(|a| a == "--mem") {
        let case = args[at + 1].as_str();
        let size: u64 = args[at + 2].parse().expect("size");
        mem_child(case, size);
        return;
    }
    // Only the work of one side, untimed, for an instruction counter: `--work <case> <side> <n>`.
    if let Some(at) = args.iter().position(|a| a == "--work") {
        let sdk = args.get(at + 2).map(String::as_str) == Some("ours");
        let n: usize = args
            .get(at + 3)
            .and_then(|n| n.parse().ok())
            .expect("count");
        work(args[at + 1].as_str(), sdk, n);
        return;
    }
    // Each function prints its speed row and its memory row.
    if options.wants_any(&["list-parse", "list-parse-peak-mem"]) {
        list_parse(quick);
    }
    if options.wants_any(&["progress-decode", "progress-decode-mem"]) {
        progress_decode(quick);
    }
}

// ---------------------------------------------------------------- listing parse

/// The floor: what a user would write with serde alone, the same fields and the same checks
/// (RFC 3339 dates parsed), no error paths, no wire-enum types.
#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainBackups {
    #[serde(default)]
    schema: Option<PlainSchema>,
    iterable: Vec<PlainBackup>,
    #[serde(default)]
    indices: Option<BTreeMap<String, i64>>,
    #[serde(default)]
    score: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainSchema {
    migration: i64,
    semantic: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainBackup {
    #[serde(default)]
    schema: Option<PlainSchema>,
    id: String,
    bytes: u64,
    created: PlainTimestamp,
    device_name: String,
    platform: String,
    timestamp: String,
    version: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainTimestamp {
    #[serde(default)]
    schema: Option<PlainSchema>,
    #[serde(with = "time::serde::rfc3339")]
    value: time::OffsetDateTime,
    #[serde(default)]
    readable: Option<String>,
}

fn listing(count: usize) -> Bytes {
    let schema = EmbeddedModelSchema::new(0, SemanticVersion::Major0Minor0Patch1);
    let start = 1_700_000_000_000i64;
    let backups: Vec<Backup> = (0..count)
        .map(|i| {
            let millis = start + i as i64 * 60_000;
            let created =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
                    .expect("valid time");
            Backup::from(BackupParts {
                id: format!("{millis}-{i:06}"),
                bytes: Number::from(1_000_000 + i as u64 * 977),
                created: GroupedTimestamp::new(created).with_readable("2023-11-14 22:13:20 UTC"),
                device_name: "workstation-7.example.internal".into(),
                platform: Platform::Linux,
                timestamp: millis.to_string(),
                version: "11.2.4".into(),
            })
            .with_schema(schema.clone())
        })
        .collect();
    Bytes::from(serde_json::to_vec(&Backups::new(backups)).expect("serialize"))
}

fn list_response(body: Bytes) -> http::Response<Bytes> {
    http::Response::builder()
        .header("content-type", "application/json")
        .body(body)
        .expect("response")
}

fn sdk_parse(body: &Bytes) -> usize {
    let parsed = List::parse_response(list_response(body.clone())).expect("parse");
    black_box(&parsed);
    parsed.len()
}

fn plain_parse(body: &Bytes) -> usize {
    let parsed: PlainBackups = serde_json::from_slice(body).expect("parse");
    black_box(&parsed);
    parsed.iterable.len()
}

fn list_parse(quick: bool) {
    let count = 100_000;
    let body = listing(count);
    let mb = body.len() as f64 / 1e6;
    eprintln!("list-parse: {count} backups, {mb:.1} MB");
    let rounds = if quick { 4 } else { 10 };
    let mut ours = Vec::new();
    let mut floor = Vec::new();
    // Warm-up.
    sdk_parse(&body);
    plain_parse(&body);
    for round in 0..rounds {
        let mut one = |sdk: bool| {
            let start = Instant::now();
            let n = if sdk {
                sdk_parse(&body)
            } else {
                plain_parse(&body)
            };
            assert_eq!(n, count);
            let rate = mb / start.elapsed().as_secs_f64();
            if sdk {
                ours.push(rate)
            } else {
                floor.push(rate)
            }
        };
        let sdk_first = round % 2 == 0;
        one(sdk_first);
        one(!sdk_first);
    }
    emit("list-parse", "MB/s", &ours, &floor, "higher", Some(0.9), "");

    let ours_mem = mem_in_child("list-sdk", count as u64);
    let floor_mem = mem_in_child("list-plain", count as u64);
    emit(
        "list-parse-peak-mem",
        "MiB",
        &[ours_mem],
        &[floor_mem],
        "lower",
        None,
        &format!("peak RSS above the body, body {mb:.1} MB"),
    );
}

// ---------------------------------------------------------------- progress stream

/// A stream of progress events as a server sends them: 1% steps with fractional percentages,
/// every event on its own line, repeated cyclically; `event(i)` is the i-th line.
struct EventSource {
    lines: Vec<Vec<u8>>,
}

impl EventSource {
    fn new() -> Self {
        let mut lines = Vec::new();
        let first = BackupStreamedProgress::new(ProgressStatus::Initialized, Number::from(0u64));
        lines.push(first);
        for i in 0..999u64 {
            let pct = Number::from_f64(i as f64 / 10.0 + 0.05).expect("finite");
            lines.push(BackupStreamedProgress::new(ProgressStatus::InProgress, pct));
        }
        let lines = lines
            .into_iter()
            .map(|event| {
                let mut line = serde_json::to_vec(&event).expect("serialize");
                line.push(b'\n');
                line
            })
            .collect();
        Self { lines }
    }

    fn line(&self, i: usize) -> &[u8] {
        &self.lines[i % self.lines.len()]
    }

    /// The first `events` events in one buffer.
    fn buffer(&self, events: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(events * 48);
        for i in 0..events {
            out.extend_from_slice(self.line(i));
        }
        out
    }

    /// Calls `each` with consecutive 64 KiB chunks of a stream of at least `bytes` bytes,
    /// generated on the fly into one reused buffer; returns the number of events.
    fn stream(&self, bytes: u64, mut each: impl FnMut(&[u8])) -> u64 {
        let mut chunk = Vec::with_capacity(CHUNK + 256);
        let mut sent = 0u64;
        let mut i = 0usize;
        while sent < bytes {
            while chunk.len() < CHUNK {
                chunk.extend_from_slice(self.line(i));
                i += 1;
            }
            each(&chunk[..CHUNK]);
            sent += CHUNK as u64;
            chunk.drain(..CHUNK);
        }
        each(&chunk);
        i as u64
    }
}

/// Ours: the buffer handed over in 64 KiB `Bytes` chunks (slices of one buffer, as a body
/// yields them), through `push_bytes`, as `ProgressStream` feeds its body.
fn decode_chunks(buffer: &Bytes) -> usize {
    let mut decoder = ProgressDecoder::new();
    let mut n = 0;
    for start in (0..buffer.len()).step_by(CHUNK) {
        decoder.push_bytes(buffer.slice(start..(start + CHUNK).min(buffer.len())));
        while let Some(event) = decoder.next_event() {
            black_box(event.expect("event"));
            n += 1;
        }
    }
    decoder.finish();
    assert!(decoder.next_event().is_none());
    n
}

fn decode_serde(buffer: &[u8]) -> usize {
    let mut n = 0;
    for event in serde_json::Deserializer::from_slice(buffer).into_iter::<BackupStreamedProgress>()
    {
        black_box(event.expect("event"));
        n += 1;
    }
    n
}

/// `n` units of one case's work from one side: events decoded for `progress-decode`.
fn work(case: &str, sdk: bool, n: usize) {
    match case {
        "progress-decode" => {
            let buffer = Bytes::from(EventSource::new().buffer(n));
            let decoded = if sdk {
                decode_chunks(&buffer)
            } else {
                decode_serde(&buffer)
            };
            assert_eq!(decoded, n);
        }
        other => panic!("no work case {other}"),
    }
}

fn progress_decode(quick: bool) {
    let events = if quick { 200_000 } else { 1_000_000 };
    let source = EventSource::new();
    let buffer = Bytes::from(source.buffer(events));
    eprintln!(
        "progress-decode: {events} events, {:.1} MB",
        buffer.len() as f64 / 1e6
    );
    let rounds = if quick { 6 } else { 20 };
    decode_chunks(&buffer);
    decode_serde(&buffer);
    let mut ours = Vec::new();
    let mut floor = Vec::new();
    for round in 0..rounds {
        let mut one = |sdk: bool| {
            let start = Instant::now();
            let n = if sdk {
                decode_chunks(&buffer)
            } else {
                decode_serde(&buffer)
            };
            assert_eq!(n, events);
            let rate = n as f64 / start.elapsed().as_secs_f64();
            if sdk {
                ours.push(rate)
            } else {
                floor.push(rate)
            }
        };
        let sdk_first = round % 2 == 0;
        one(sdk_first);
        one(!sdk_first);
    }
    emit(
        "progress-decode",
        "events/s",
        &ours,
        &floor,
        "higher",
        Some(0.8),
        "64 KiB chunks vs whole buffer",
    );
    drop(buffer);

    let small = 10_000_000u64;
    let large = if quick { 100_000_000 } else { 1_000_000_000 };
    let small_mem = mem_in_child("decode-stream", small);
    let large_mem = mem_in_child("decode-stream", large);
    emit(
        "progress-decode-mem",
        "MiB",
        &[large_mem],
        &[small_mem],
        "lower",
        Some(1.1),
        &format!(
            "peak RSS streaming {} MB (ours) vs {} MB (baseline)",
            large / 1_000_000,
            small / 1_000_000
        ),
    );
}

// ---------------------------------------------------------------- memory

/// Runs one case in a fresh copy of this binary and returns its peak RSS in MiB.
fn mem_in_child(case: &str, size: u64) -> f64 {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .args(["--mem", case, &size.to_string()])
        .output()
        .expect("run child");
    assert!(out.status.success(), "memory child {case} failed");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse::<f64>().expect("child prints MiB")
}

fn mem_child(case: &str, size: u64) {
    match case {
        "list-sdk" | "list-plain" => {
            let body = listing(size as usize);
            let base = vm_hwm_kib();
            let n = if case == "list-sdk" {
                sdk_parse(&body)
            } else {
                plain_parse(&body)
            };
            assert_eq!(n as u64, size);
            // Peak above what generating the body already took.
            println!("{:.1}", (vm_hwm_kib().saturating_sub(base)) as f64 / 1024.0);
        }
        "decode-stream" => {
            let source = EventSource::new();
            let mut decoder = ProgressDecoder::new();
            let mut decoded = 0u64;
            let sent = source.stream(size, |chunk| {
                decoder.push(chunk);
                while let Some(event) = decoder.next_event() {
                    black_box(event.expect("event"));
                    decoded += 1;
                }
            });
            decoder.finish();
            assert_eq!(decoded, sent);
            println!("{:.1}", vm_hwm_kib() as f64 / 1024.0);
        }
        other => panic!("unknown memory case {other}"),
    }
}

// ---------------------------------------------------------------- output
