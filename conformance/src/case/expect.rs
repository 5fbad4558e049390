//! [`Expect`]: the outcome a case expects of a call (the `_expect` field), as the results table
//! and failure messages print it.

use std::fmt;

use crate::har::{ExpectField, ExpectedOutcome};

/// The outcome a case expects (the `_expect` field); the snapshot holds the full outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// `None` for success, or the name of the [`backups_proto::Error`] variant.
    pub error: Option<String>,
    /// The HTTP status the error carries.
    pub status: Option<u16>,
    /// The JSON path a decode error names.
    pub path: Option<String>,
    /// How many progress events a streamed call yields before its result.
    pub events: Option<usize>,
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            None => f.write_str("ok")?,
            Some(kind) => write!(f, "error {kind}")?,
        }
        if let Some(status) = self.status {
            write!(f, " status {status}")?;
        }
        if let Some(path) = &self.path {
            write!(f, " at `{path}`")?;
        }
        if let Some(events) = self.events {
            write!(f, " after {events} events")?;
        }
        Ok(())
    }
}

impl Expect {
    pub(crate) fn from_field(field: &ExpectField) -> Result<Expect, String> {
        let error = match (field.outcome, &field.error) {
            (ExpectedOutcome::Ok, None) => None,
            (ExpectedOutcome::Ok, Some(error)) => {
                return Err(format!(
                    "_expect: an ok outcome has no error, got {error:?}"
                ));
            }
            (ExpectedOutcome::Error, Some(error)) => Some(error.clone()),
            (ExpectedOutcome::Error, None) => {
                return Err("_expect: an error outcome names its \"error\"".into());
            }
        };
        Ok(Expect {
            error,
            status: field.status,
            path: field.path.clone(),
            events: field.events,
        })
    }
}
