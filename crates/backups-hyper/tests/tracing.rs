//! Each call is a `backups_call` span with its operation, method, path, status, attempt and
//! duration, checked with a tiny capturing subscriber.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use backups_hyper::{BackupsClient, RetryPolicy};
use common::{Reply, TestServer, free_port};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

type Fields = BTreeMap<String, String>;

/// Records every span's name and fields, and the messages of events.
#[derive(Default)]
struct Capture {
    spans: Mutex<Vec<(String, Fields)>>,
    events: Mutex<Vec<Fields>>,
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
}

#[derive(Clone, Default)]
struct Shared(Arc<Capture>);

impl Subscriber for Shared {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields::new();
        span.record(&mut Visitor(&mut fields));
        let mut spans = self.0.spans.lock().expect("lock");
        spans.push((span.metadata().name().into(), fields));
        Id::from_u64(spans.len() as u64)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.0.spans.lock().expect("lock");
        if let Some((_, fields)) = spans.get_mut(span.into_u64() as usize - 1) {
            values.record(&mut Visitor(fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        self.0.events.lock().expect("lock").push(fields);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

impl Shared {
    fn calls(&self) -> Vec<Fields> {
        self.0
            .spans
            .lock()
            .expect("lock")
            .iter()
            .filter(|(name, _)| name == "backups_call")
            .map(|(_, fields)| fields.clone())
            .collect()
    }
}

#[tokio::test]
async fn each_call_is_a_span_with_its_outcome() {
    let capture = Shared::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let server = TestServer::start(|request| match request.path.as_str() {
        "/backups" => Reply::json(200, r#"{"iterable":[]}"#),
        _ => Reply::text(511, "User is not authenticated"),
    })
    .await;
    let client = BackupsClient::builder()
        .base_url(server.url())
        .build()
        .expect("client");
    client.list().await.expect("list");
    client.create().await.expect_err("511");
    let refused = BackupsClient::builder()
        .base_url(format!("http://127.0.0.1:{}", free_port()))
        .retry(RetryPolicy::new(2).with_base_delay(std::time::Duration::from_millis(1)))
        .build()
        .expect("client");
    refused.list().await.expect_err("refused");

    let calls = capture.calls();
    // The refused list is two calls of the transport: the client retried it once.
    assert_eq!(calls.len(), 4, "{calls:#?}");
    let field = |call: usize, name: &str| calls[call].get(name).cloned().unwrap_or_default();

    assert_eq!(field(0, "operation"), "list");
    assert_eq!(field(0, "method"), "GET");
    assert_eq!(field(0, "path"), "/backups");
    assert_eq!(field(0, "status"), "200");
    assert_eq!(field(0, "attempt"), "1");
    assert!(
        field(0, "duration_ms").parse::<u64>().is_ok(),
        "{:?}",
        calls[0]
    );
    assert!(!calls[0].contains_key("error"));

    assert_eq!(field(1, "operation"), "create");
    assert_eq!(field(1, "method"), "POST");
    assert_eq!(field(1, "path"), "/backups/create");
    assert_eq!(field(1, "status"), "511");
    assert!(calls[1].contains_key("duration_ms"));

    assert_eq!(field(2, "operation"), "list");
    assert!(!calls[2].contains_key("status"));
    assert!(
        field(2, "error").contains("could not connect"),
        "{:?}",
        calls[2]
    );
    assert!(calls[2].contains_key("duration_ms"));
    assert_eq!(field(2, "attempt"), "1");
    assert_eq!(field(3, "operation"), "list");
    assert_eq!(field(3, "attempt"), "2");
    assert!(
        field(3, "error").contains("could not connect"),
        "{:?}",
        calls[3]
    );

    let events = capture.0.events.lock().expect("lock").clone();
    let messages: Vec<_> = events
        .iter()
        .filter_map(|e| e.get("message").cloned())
        .collect();
    assert!(messages.iter().any(|m| m == "retrying"), "{messages:?}");
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.starts_with("backups call"))
            .count(),
        4,
        "{messages:?}"
    );
}
