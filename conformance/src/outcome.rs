//! [`Outcome`]: what the client returned for a call, in a form to snapshot and compare.

use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use backups_proto::operations::ChannelOperation;
use backups_proto::{Client, Error, SocketTransport, Transport};

use crate::case::{Call, ChannelCall, Expect};

/// The result of one call: the typed value as JSON, or the error the client returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The operation called.
    pub operation: String,
    /// The progress events a streamed call yielded before its result, as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<Value>>,
    /// The result.
    pub result: OutcomeResult,
}

/// Success or failure of a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeResult {
    /// The value returned, as JSON (summarised when it is a large listing).
    Ok(Value),
    /// The error returned.
    Error(ErrorReport),
}

/// An [`Error`] described field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    /// The variant, such as `Decode`.
    pub kind: String,
    /// The HTTP status behind it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The operation it names, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The JSON path of a decode error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Whether retrying may help.
    pub retryable: bool,
    /// The message a user sees.
    pub display: String,
}

/// Listings longer than this are summarised in outcomes so that snapshots stay readable.
const SUMMARY_OVER: usize = 10;

impl ErrorReport {
    /// Describes an error.
    pub fn of(err: &Error) -> Self {
        let path = match err {
            Error::Decode { path, .. } => Some(path.clone()),
            _ => None,
        };
        Self {
            kind: err.kind().name().to_owned(),
            status: err.status().map(|s| s.as_u16()),
            operation: err.operation().map(|op| op.name().to_owned()),
            path,
            retryable: err.is_retryable(),
            display: err.to_string(),
        }
    }
}

impl Outcome {
    /// Makes `call` through `client` and records what it returned: the events of a streamed
    /// operation, then its result.
    pub async fn of_call<T: Transport>(client: &Client<T>, call: &Call) -> Outcome {
        let operation = call.operation();
        let mut events = Vec::new();
        let result = match call.to_operation() {
            Ok(any) => {
                client
                    .run(&any, |event| {
                        events.push(serde_json::to_value(event).unwrap_or_default())
                    })
                    .await
            }
            Err(err) => Err(err),
        };
        Outcome {
            operation: operation.name().to_owned(),
            events: operation.is_streamed().then_some(events),
            result: to_result(result),
        }
    }

    /// Opens the channel of `call` through `client` and records what came: for the progress
    /// socket, every snapshot until the socket closes (`null`) or fails (the error); for a create
    /// or restore socket, its events and the result of
    /// [`ProgressStream::finish`](backups_proto::ProgressStream::finish).
    pub async fn of_channel_call<T: SocketTransport>(client: &Client<T>, call: &Call) -> Outcome {
        let operation = call.operation();
        let mut events = Vec::new();
        let mut record = |value: Value| events.push(value);
        let result = match call.to_channel() {
            Err(err) => Err(err),
            Ok(ChannelCall::Watch(_)) => snapshots(client, &mut record).await,
            Ok(ChannelCall::Create(channel)) => progress(client, &channel, &mut record).await,
            Ok(ChannelCall::Restore(channel)) => progress(client, &channel, &mut record).await,
        };
        Outcome {
            operation: operation.name().to_owned(),
            events: Some(events),
            result: to_result(result),
        }
    }

    /// Makes `call` through `client`, over its socket if it is a channel.
    pub async fn of_any_call<T: Transport + SocketTransport>(
        client: &Client<T>,
        call: &Call,
    ) -> Outcome {
        if call.operation().is_websocket() {
            Self::of_channel_call(client, call).await
        } else {
            Self::of_call(client, call).await
        }
    }

    /// The error, if the call failed.
    pub fn error(&self) -> Option<&ErrorReport> {
        match &self.result {
            OutcomeResult::Error(report) => Some(report),
            OutcomeResult::Ok(_) => None,
        }
    }

    /// Checks the outcome against a case's `_expect`; the error says what differs.
    pub fn check(&self, expect: &Expect) -> Result<(), String> {
        let mut problems = Vec::new();
        match (&expect.error, self.error()) {
            (None, None) => {}
            (None, Some(err)) => problems.push(format!(
                "expected success, got {}: {}",
                err.kind, err.display
            )),
            (Some(kind), None) => problems.push(format!("expected error {kind}, got success")),
            (Some(kind), Some(err)) => {
                if *kind != err.kind {
                    problems.push(format!(
                        "expected error {kind}, got {}: {}",
                        err.kind, err.display
                    ));
                }
                if expect.status.is_some() && expect.status != err.status {
                    problems.push(format!(
                        "expected status {:?}, got {:?}",
                        expect.status, err.status
                    ));
                }
                if expect.path.is_some() && expect.path != err.path {
                    problems.push(format!(
                        "expected path {:?}, got {:?}",
                        expect.path, err.path
                    ));
                }
            }
        }
        if let Some(count) = expect.events {
            let got = self.events.as_ref().map_or(0, Vec::len);
            if got != count {
                problems.push(format!("expected {count} progress events, got {got}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// The outcome with what legitimately differs between transports removed: the text of
    /// transport, timeout and truncation errors, which quotes the transport's own error (a body
    /// cut short is reported by the transport as `Truncated` with its own words).
    pub fn comparable(&self) -> Outcome {
        let mut outcome = self.clone();
        if let OutcomeResult::Error(report) = &mut outcome.result {
            if matches!(report.kind.as_str(), "Transport" | "Timeout" | "Truncated") {
                report.display.clear();
            }
        }
        outcome
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let events = self.events.as_ref().map(Vec::len);
        match (&self.result, events) {
            (OutcomeResult::Ok(_), None) => write!(f, "{}: ok", self.operation),
            (OutcomeResult::Ok(_), Some(n)) => write!(f, "{}: ok after {n} events", self.operation),
            (OutcomeResult::Error(err), _) => {
                write!(f, "{}: {} ({})", self.operation, err.kind, err.display)
            }
        }
    }
}

/// Reads the progress socket until it ends: `Ok(null)` on a close, else the error.
async fn snapshots<T: SocketTransport>(
    client: &Client<T>,
    record: &mut impl FnMut(Value),
) -> Result<Value, Error> {
    let mut stream = client.watch_progress().await?;
    while let Some(snapshot) = stream.next_snapshot().await {
        record(serde_json::to_value(snapshot?).unwrap_or_default());
    }
    Ok(Value::Null)
}

/// Reads a create or restore socket to its final event.
async fn progress<T: SocketTransport, C: ChannelOperation>(
    client: &Client<T>,
    channel: &C,
    record: &mut impl FnMut(Value),
) -> Result<Value, Error> {
    let stream = client.open_progress_socket(channel).await?;
    let backup = stream
        .finish(|event| record(serde_json::to_value(event).unwrap_or_default()))
        .await?;
    Ok(serde_json::to_value(backup).unwrap_or_default())
}

fn to_result<T: Serialize>(result: Result<T, Error>) -> OutcomeResult {
    match result {
        Ok(value) => OutcomeResult::Ok(summarize(serde_json::to_value(value).unwrap_or_default())),
        Err(err) => OutcomeResult::Error(ErrorReport::of(&err)),
    }
}

/// Replaces a long `iterable` by its length, first and last entries and a fingerprint of the
/// whole, so that a snapshot of thousands of backups stays small and still catches any change.
fn summarize(value: Value) -> Value {
    let Some(items) = value.get("iterable").and_then(Value::as_array) else {
        return value;
    };
    if items.len() <= SUMMARY_OVER {
        return value;
    }
    let mut summary = value.clone();
    summary["iterable"] = json!({
        "count": items.len(),
        "first": items.first(),
        "last": items.last(),
        "fingerprint": format!("{:016x}", fnv1a(value["iterable"].to_string().as_bytes())),
    });
    if let Some(indices) = value.get("indices").and_then(Value::as_object) {
        summary["indices"] = json!({
            "count": indices.len(),
            "fingerprint": format!("{:016x}", fnv1a(value["indices"].to_string().as_bytes())),
        });
    }
    summary
}

/// FNV-1a: a stable 64-bit hash, enough to notice a change in a snapshot.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
