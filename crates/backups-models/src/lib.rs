//! Serde models of the Pieces OS **Backups API**, exact on the wire.
//!
//! This crate is plain data: no IO, no HTTP. Take it alone to read or write the API's JSON with
//! any HTTP stack; `backups-proto` builds requests from it and `backups-hyper` sends them.
//!
//! What these models promise:
//! - field names exactly as on the wire; unset optional fields are omitted, and `null` is read as
//!   unset (the Dart SDK writes it);
//! - an enum value this version does not know is kept in `Other` and written back unchanged;
//!   unknown object fields are accepted;
//! - every model is a JSON object: an array, which serde's derive would read as the fields in
//!   order, is refused;
//! - `bytes` and `percentage` keep their written form (`1024` stays `1024`, `1.5` stays `1.5`);
//! - timestamps read any RFC 3339 offset and precision and are written in UTC with `Z`;
//! - [`Assets`] and [`Asset`], the bodies of `POST /backup` and `POST /backup/asset`, keep their
//!   JSON whole: every field, known or not, is written back unchanged (their timestamps too).
//!
//! ```
//! use backups_models::{Backups, Platform};
//!
//! let json = r#"{
//!   "iterable": [{
//!     "id": "1700000000000", "bytes": 1024, "device_name": "laptop",
//!     "platform": "FUTURE_OS", "timestamp": "1700000000000", "version": "10.1.0",
//!     "created": {"value": "2026-11-26T23:00:00+02:00", "readable": null}
//!   }],
//!   "indices": {"1700000000000": 0}
//! }"#;
//! let backups: Backups = serde_json::from_str(json)?;
//! let backup = backups.get("1700000000000").unwrap();
//! assert_eq!(backup.platform, Platform::Other("FUTURE_OS".into()));
//!
//! let written = serde_json::to_value(&backups)?;
//! assert_eq!(written["iterable"][0]["platform"], "FUTURE_OS");
//! assert_eq!(written["iterable"][0]["bytes"], 1024);
//! assert_eq!(written["iterable"][0]["created"]["value"], "2026-11-26T21:00:00Z");
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # Features
//!
//! None: the crate is always the whole set of models, and depends on `serde`, `time` and
//! `serde_json` (the asset models hold their fields as `serde_json` values).

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod assets;
mod backup;
mod enums;
mod number;
mod object;
mod progress;
mod schema;
mod select;
mod timestamp;
mod wire_enum;

pub use assets::{Asset, AssetError, Assets, Mechanism};
pub use backup::{Backup, BackupParts, Backups, SeededBackup};
pub use enums::{Platform, ProgressStatus, SemanticVersion};
pub use number::Number;
pub use progress::{BackupStatus, BackupStreamedProgress, BackupsStreamedProgress};
pub use schema::{EmbeddedModelSchema, Score};
pub use select::{Filter, Pick, SelectError};
pub use timestamp::GroupedTimestamp;

/// The JSON crate the asset models hold their fields in, re-exported so that callers share one
/// version.
pub use serde_json;
/// The date-time crate the models use, re-exported so that callers share one version.
pub use time;
