//! How backups and progress events are shown: tables and lines for people, JSON for programs.

use std::fmt::Write as _;

use backups_models::{Backup, BackupStatus, BackupStreamedProgress, Number, ProgressStatus};
use indicatif::HumanBytes;
use time::format_description::FormatItem;
use time::macros::format_description;

const CREATED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");

const HEADERS: [&str; 6] = ["ID", "CREATED", "SIZE", "DEVICE", "PLATFORM", "VERSION"];

/// The size of a backup in human units; a fractional or negative size is shown as written.
pub(crate) fn size(backup: &Backup) -> String {
    match backup.bytes.as_u64() {
        Some(bytes) => HumanBytes(bytes).to_string(),
        None => format!("{} B", backup.bytes),
    }
}

/// When a backup was made, in UTC.
pub(crate) fn created(backup: &Backup) -> String {
    let utc = backup.created.value.to_offset(time::UtcOffset::UTC);
    utc.format(CREATED)
        .unwrap_or_else(|_| backup.created.value.to_string())
}

fn row(backup: &Backup) -> [String; 6] {
    [
        backup.id.clone(),
        created(backup),
        size(backup),
        backup.device_name.clone(),
        backup.platform.to_string(),
        backup.version.clone(),
    ]
}

/// A table of backups with aligned columns; a line saying so when there are none.
pub(crate) fn table<'a>(backups: impl IntoIterator<Item = &'a Backup>) -> String {
    let rows: Vec<[String; 6]> = backups.into_iter().map(row).collect();
    if rows.is_empty() {
        return "No backups.\n".to_owned();
    }
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = HEADERS.map(str::to_owned);
    for cells in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One backup described in a line: `id (size, created)`.
pub(crate) fn summary(backup: &Backup) -> String {
    format!(
        "{} ({}, created {})",
        backup.id,
        size(backup),
        created(backup)
    )
}

/// Where an operation stands: `IN-PROGRESS 40%`.
pub(crate) fn standing(status: Option<&ProgressStatus>, percentage: Option<&Number>) -> String {
    let status = status.map_or("(no status)".to_owned(), ToString::to_string);
    match percentage {
        Some(percentage) => format!("{status} {percentage}%"),
        None => status,
    }
}

/// A status as `status` shows it: `COMPLETED 100%`.
pub(crate) fn status_line(status: &BackupStatus) -> String {
    standing(status.value.as_ref(), status.percentage.as_ref())
}

/// A progress event as a plain line, for logs and pipes.
pub(crate) fn event_line(event: &BackupStreamedProgress) -> String {
    let mut line = standing(event.status.as_ref(), event.percentage.as_ref());
    if let Some(backup) = &event.backup {
        let _ = write!(line, " {}", summary(backup));
    }
    line
}

/// A value as one line of JSON.
pub(crate) fn json_line<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
}
