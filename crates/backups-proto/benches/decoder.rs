//! Criterion micro-benchmarks of the sans-IO hot paths: the progress decoder over several chunk
//! sizes and the listing parser, each beside serde_json alone.

use std::hint::black_box;

use backups_models::{BackupStreamedProgress, Backups, Number, ProgressStatus};
use backups_proto::ProgressDecoder;
use backups_proto::operations::{ApiOperation, List};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn progress_stream(events: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..events {
        let pct = Number::from_f64((i % 1000) as f64 / 10.0 + 0.05).expect("finite");
        let event = BackupStreamedProgress::new(ProgressStatus::InProgress, pct);
        serde_json::to_writer(&mut out, &event).expect("serialize");
        out.push(b'\n');
    }
    out
}

fn decoder(c: &mut Criterion) {
    let events = 10_000;
    let stream = progress_stream(events);
    let mut group = c.benchmark_group("progress_decoder");
    group.throughput(Throughput::Elements(events as u64));
    for chunk in [64usize, 4096, 64 * 1024] {
        group.bench_with_input(BenchmarkId::new("push", chunk), &chunk, |b, &chunk| {
            b.iter(|| {
                let mut decoder = ProgressDecoder::new();
                let mut n = 0;
                for part in stream.chunks(chunk) {
                    decoder.push(part);
                    while let Some(event) = decoder.next_event() {
                        black_box(event.expect("event"));
                        n += 1;
                    }
                }
                decoder.finish();
                assert_eq!(n, events);
            })
        });
    }
    group.bench_function("serde_json_stream", |b| {
        b.iter(|| {
            let mut n = 0;
            for event in
                serde_json::Deserializer::from_slice(&stream).into_iter::<BackupStreamedProgress>()
            {
                black_box(event.expect("event"));
                n += 1;
            }
            assert_eq!(n, events);
        })
    });
    group.finish();
}

fn listing(c: &mut Criterion) {
    let count = 1_000;
    let backups: Vec<_> = (0..count)
        .map(|i| {
            serde_json::json!({
                "id": format!("1700000000000-{i:06}"),
                "bytes": 1_000_000 + i,
                "created": {"value": "2023-11-14T22:13:20.000Z", "readable": "2023-11-14 22:13:20 UTC"},
                "device_name": "workstation-7",
                "platform": "LINUX",
                "timestamp": "1700000000000",
                "version": "11.2.4"
            })
        })
        .collect();
    let body =
        Bytes::from(serde_json::to_vec(&serde_json::json!({ "iterable": backups })).expect("json"));
    let mut group = c.benchmark_group("list_parse");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("parse_response", |b| {
        b.iter(|| {
            let response = http::Response::builder()
                .header("content-type", "application/json")
                .body(body.clone())
                .expect("response");
            black_box(List::parse_response(response).expect("parse"))
        })
    });
    group.bench_function("serde_json_models", |b| {
        b.iter(|| black_box(serde_json::from_slice::<Backups>(&body).expect("parse")))
    });
    group.finish();
}

criterion_group!(benches, decoder, listing);
criterion_main!(benches);
