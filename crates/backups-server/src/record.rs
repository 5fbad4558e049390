//! The API record (`Backup`) of a backup made by this server.

use backups_models::{Backup, BackupParts, GroupedTimestamp, Number};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::id::NewId;
use crate::origin::Origin;

/// The record of backup `new_id` holding `bytes` bytes, made here now: the final one, and the
/// one a running create reports with the bytes so far.
pub(crate) fn backup_record(new_id: &NewId, origin: &Origin, bytes: u64) -> Backup {
    // The creation time is the id's millisecond, so `created` and `timestamp` agree and carry
    // the millisecond precision the Dart and TypeScript clients write.
    let created = OffsetDateTime::from_unix_timestamp_nanos(i128::from(new_id.millis) * 1_000_000)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    let readable = created
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_default();
    Backup::from(BackupParts {
        id: new_id.id.clone(),
        bytes: Number::from(bytes),
        created: GroupedTimestamp::new(created).with_readable(readable),
        device_name: origin.device_name.clone(),
        platform: origin.platform.clone(),
        timestamp: new_id.millis.to_string(),
        version: origin.version.clone(),
    })
}
