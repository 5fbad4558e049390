//! [`TraceCapture`]: a subscriber that keeps the spans and events of the SDK's calls, for the
//! tests of the `backups_call` spans of each transport.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// The fields of a span or an event, by name, as text.
pub type Fields = BTreeMap<String, String>;

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

/// A `tracing` subscriber that keeps every span (its name and fields, as recorded so far) and
/// every event's fields: set it with `tracing::subscriber::set_default` and read what a call
/// recorded.
#[derive(Clone, Default)]
pub struct TraceCapture(Arc<Capture>);

impl Subscriber for TraceCapture {
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

impl TraceCapture {
    /// The fields of every `backups_call` span, in the order they were opened.
    pub fn calls(&self) -> Vec<Fields> {
        self.0
            .spans
            .lock()
            .expect("lock")
            .iter()
            .filter(|(name, _)| name == "backups_call")
            .map(|(_, fields)| fields.clone())
            .collect()
    }

    /// The messages of every event, in order.
    pub fn messages(&self) -> Vec<String> {
        self.0
            .events
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|event| event.get("message").cloned())
            .collect()
    }
}
