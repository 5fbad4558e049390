//! [`Case`]: a HAR file turned into what a test needs: the calls to make, the requests they must
//! produce, the responses to replay chunk by chunk, and the expected outcome.
//!
//! The parts of a case, each in its module: `call` (the SDK call an exchange makes, given or
//! worked out from its request), `request` (what the request must look like), `response` (what
//! is replayed, chunk by chunk), `socket` (a WebSocket exchange's messages), `expect` (the
//! expected outcome) and `exchange` (an entry of the HAR file checked and turned into an
//! exchange of the parts above). This module holds the case itself and its loading.

use std::path::{Path, PathBuf};

use backups_proto::Operation;

use crate::case::exchange::exchange;
use crate::har::{Har, Live, LiveStep};

mod call;
mod exchange;
mod expect;
mod request;
mod response;
mod socket;

pub use call::{Call, ChannelCall};
pub use exchange::Exchange;
pub use expect::Expect;
pub use request::{ExpectedBody, ExpectedRequest, RELAXED};
pub use response::RecordedResponse;
pub use socket::{ExpectedMessage, ReplayMessage, SocketScript, SocketStep};

/// The directory of the cases shipped with this crate.
pub const BUILTIN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/exchanges");

/// Why a case could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not a HAR document.
    #[error("{path} is not a HAR 1.2 document: {source}")]
    Har {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// The HAR document does not describe a valid case.
    #[error("case {case}: {reason}")]
    Invalid {
        /// The case name.
        case: String,
        /// What is wrong.
        reason: String,
    },
}

/// One conformance case: a HAR file of one or more exchanges, strictly ordered.
#[derive(Debug, Clone)]
pub struct Case {
    /// The file name without `.har`; also the name of its snapshot.
    pub name: String,
    /// The case family the results table counts it under, such as `error-status`.
    pub family: String,
    /// Where the case's facts come from.
    pub source: String,
    /// What the case is about.
    pub comment: String,
    /// How a live server reproduces the case, if it can.
    pub live: Option<LiveSetup>,
    /// The exchanges, in order.
    pub exchanges: Vec<Exchange>,
}

/// How a live server reproduces a case (the `_live` field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveSetup {
    /// The server as it starts.
    Plain,
    /// The server simulating a failure: `unauthenticated`, `outdated` or `internal-error`.
    Fault(String),
    /// A backup is created first; the case's calls of operations that name a backup use its id.
    CreateFirst,
    /// A backup is created and restored first; the case's calls use its id.
    RestoreFirst,
    /// The streamed create or restore the case's calls read the status of or cancel runs while
    /// they are made; they use its id.
    WhileRunning,
}

impl Case {
    /// Reads a case from a HAR file.
    pub fn load(path: &Path) -> Result<Case, CaseError> {
        let text = std::fs::read_to_string(path).map_err(|source| CaseError::Io {
            path: path.to_owned(),
            source,
        })?;
        let har = Har::from_json(&text).map_err(|source| CaseError::Har {
            path: path.to_owned(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        Case::from_har(name, &har)
    }

    /// Reads every `*.har` file of a directory, sorted by name.
    pub fn load_dir(dir: &Path) -> Result<Vec<Case>, CaseError> {
        let entries = std::fs::read_dir(dir).map_err(|source| CaseError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| CaseError::Io {
                path: dir.to_owned(),
                source,
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "har") {
                paths.push(path);
            }
        }
        paths.sort();
        paths.iter().map(|path| Case::load(path)).collect()
    }

    /// The cases shipped with this crate, in `conformance/exchanges/`.
    pub fn builtin() -> Result<Vec<Case>, CaseError> {
        Case::load_dir(Path::new(BUILTIN_DIR))
    }

    /// Builds a case from a parsed HAR document.
    pub fn from_har(name: String, har: &Har) -> Result<Case, CaseError> {
        let invalid = |reason: String| CaseError::Invalid {
            case: name.clone(),
            reason,
        };
        if har.log.entries.is_empty() {
            return Err(invalid("the log has no entries".into()));
        }
        let mut exchanges: Vec<Exchange> = Vec::with_capacity(har.log.entries.len());
        for (index, entry) in har.log.entries.iter().enumerate() {
            let exchange = exchange(entry, exchanges.iter().rev().find(|e| !e.follow_up))
                .map_err(|reason| invalid(format!("entry {index}: {reason}")))?;
            exchanges.push(exchange);
        }
        let live = har.log.live.as_ref().and_then(live_setup);
        Ok(Case {
            family: har.log.family.clone().unwrap_or_else(|| "recorded".into()),
            source: har.log.source.clone().unwrap_or_default(),
            comment: har.log.comment.clone().unwrap_or_default(),
            live,
            exchanges,
            name,
        })
    }

    /// The operation of the case's first call, which the results table files it under.
    pub fn operation(&self) -> Operation {
        self.exchanges[0].call.operation()
    }

    /// The exchanges that start a call of their own, with their index among all exchanges:
    /// what a runner calls, in order (follow-ups are made by the call before them).
    pub fn calls(&self) -> impl Iterator<Item = (usize, &Exchange)> {
        self.exchanges
            .iter()
            .enumerate()
            .filter(|(_, exchange)| !exchange.follow_up)
    }

    /// The exchanges a server sees, in order: all but the calls the client refuses
    /// (`_refused`).
    pub fn served(&self) -> Vec<Exchange> {
        self.exchanges
            .iter()
            .filter(|exchange| !exchange.refused)
            .cloned()
            .collect()
    }
}

fn live_setup(live: &Live) -> Option<LiveSetup> {
    match live {
        Live::Plain(true) => Some(LiveSetup::Plain),
        Live::Plain(false) => None,
        Live::Step(LiveStep::CreateFirst) => Some(LiveSetup::CreateFirst),
        Live::Step(LiveStep::RestoreFirst) => Some(LiveSetup::RestoreFirst),
        Live::Step(LiveStep::WhileRunning) => Some(LiveSetup::WhileRunning),
        Live::Fault { fault } => Some(LiveSetup::Fault(fault.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::har::{ExpectField, ExpectedOutcome};
    use serde_json::json;

    /// A case of these entries: the first a streamed restore, the rest as given.
    fn entries(rest: Vec<serde_json::Value>) -> Result<Case, CaseError> {
        let entry = |method: &str, path: &str| {
            json!({
                "request": {"method": method, "url": format!("http://h{path}")},
                "response": {"status": 200, "content": {"text": ""}},
            })
        };
        let mut first = entry("POST", "/backup/b1/restore/streamed");
        first["_operation"] = json!({"name": "restore_streamed", "id": "b1"});
        first["_expect"] = json!({"outcome": "ok"});
        let rest = rest.into_iter().map(|fields| {
            let mut e = entry(
                fields["method"].as_str().unwrap(),
                fields["path"].as_str().unwrap(),
            );
            for (key, value) in fields.as_object().unwrap() {
                if key.starts_with('_') {
                    e[key] = value.clone();
                }
            }
            e
        });
        let har = json!({"log": {
            "version": "1.2",
            "creator": {"name": "t", "version": "1"},
            "entries": std::iter::once(first).chain(rest).collect::<Vec<_>>(),
        }});
        Case::from_har("t".into(), &serde_json::from_value(har).unwrap())
    }

    #[test]
    fn a_follow_up_is_made_by_the_previous_call() {
        let status = |extra: serde_json::Value| {
            let mut fields = json!({
                "method": "GET",
                "path": "/backup/b1/restoration/status",
                "_followUp": true,
            });
            for (key, value) in extra.as_object().unwrap() {
                fields[key] = value.clone();
            }
            fields
        };
        let case = entries(vec![status(json!({})), status(json!({}))]).unwrap();
        assert_eq!(case.exchanges.len(), 3);
        assert!(case.exchanges[1].follow_up && case.exchanges[2].follow_up);
        assert_eq!(
            case.exchanges[1].call.operation(),
            Operation::RestorationStatus
        );
        let calls: Vec<usize> = case.calls().map(|(index, _)| index).collect();
        assert_eq!(calls, [0], "one call makes the three exchanges");

        let err = |rest| entries(rest).unwrap_err().to_string();
        let text = err(vec![status(json!({"_expect": {"outcome": "ok"}}))]);
        assert!(text.contains("no _operation or _expect"), "{text}");
        let text = err(vec![status(json!({"_operation": "list"}))]);
        assert!(text.contains("no _operation or _expect"), "{text}");
        let text = err(vec![json!({
            "method": "GET",
            "path": "/backup/b1/creation/status",
            "_followUp": true,
        })]);
        assert!(
            text.contains("a restore_streamed call does not make a creation_status request"),
            "{text}"
        );
        let text = err(vec![
            json!({"method": "GET", "path": "/backup/b1/restoration/status"}),
        ]);
        assert!(text.contains("_expect is missing"), "{text}");

        let mut alone = entries(vec![]).unwrap();
        assert!(!alone.exchanges[0].follow_up);
        let mut har: Har = serde_json::from_value(json!({"log": {
            "version": "1.2",
            "creator": {"name": "t", "version": "1"},
            "entries": [{
                "request": {"method": "GET", "url": "http://h/backups"},
                "response": {"status": 200, "content": {}},
                "_followUp": true,
            }],
        }}))
        .unwrap();
        let text = Case::from_har("t".into(), &har).unwrap_err().to_string();
        assert!(text.contains("the first entry is made by a call"), "{text}");
        har.log.entries[0].follow_up = Some(false);
        har.log.entries[0].expect = Some(ExpectField {
            outcome: ExpectedOutcome::Ok,
            error: None,
            status: None,
            path: None,
            events: None,
        });
        alone = Case::from_har("t".into(), &har).unwrap();
        assert_eq!(
            alone.calls().count(),
            1,
            "_followUp: false is an ordinary call"
        );
    }
}
