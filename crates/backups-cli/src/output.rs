//! How backups and progress events are shown: tables and lines for people, JSON for programs.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::IsTerminal;

use backups_models::{Backup, BackupStatus, BackupStreamedProgress, Number, ProgressStatus};
use indicatif::HumanBytes;
use time::OffsetDateTime;
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

/// How a table is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Look {
    /// For pipes and scripts: left-aligned columns, the date alone, no escape codes.
    Plain,
    /// For a person at a terminal: sizes right-aligned, how long ago beside each date (as of
    /// `now`), and colour when `colour`.
    Terminal { now: OffsetDateTime, colour: bool },
}

impl Look {
    /// [`Look::Terminal`] when stdout is a terminal (in colour unless `NO_COLOR` says no),
    /// else [`Look::Plain`].
    pub(crate) fn for_stdout() -> Self {
        if std::io::stdout().is_terminal() {
            Self::Terminal {
                now: OffsetDateTime::now_utc(),
                colour: colour_allowed(std::env::var_os("NO_COLOR").as_deref()),
            }
        } else {
            Self::Plain
        }
    }
}

/// Whether a terminal may be given colour: not when `NO_COLOR` is set to anything but the empty
/// string (<https://no-color.org>).
pub(crate) fn colour_allowed(no_color: Option<&OsStr>) -> bool {
    no_color.is_none_or(OsStr::is_empty)
}

/// How long before `now` a moment was, as a person says it: "just now", "1 minute ago",
/// "3 hours ago", "2 days ago"; a moment after `now` (a clock ahead) is "in 5 minutes".
pub(crate) fn ago(then: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (now - then).whole_seconds();
    if seconds.unsigned_abs() < 60 {
        "just now".to_owned()
    } else if seconds < 0 {
        format!("in {}", span(seconds.saturating_neg()))
    } else {
        format!("{} ago", span(seconds))
    }
}

/// A length of time of at least a minute, in its largest whole unit.
fn span(seconds: i64) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    const MONTH: i64 = 30 * DAY;
    const YEAR: i64 = 365 * DAY;
    let (count, unit) = if seconds < HOUR {
        (seconds / MINUTE, "minute")
    } else if seconds < DAY {
        (seconds / HOUR, "hour")
    } else if seconds < MONTH {
        (seconds / DAY, "day")
    } else if seconds < YEAR {
        (seconds / MONTH, "month")
    } else {
        (seconds / YEAR, "year")
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// One cell: its text, which sets the column's width, and the same text as written, which may
/// carry colour codes.
struct Cell {
    text: String,
    written: String,
}

impl Cell {
    fn plain(text: String) -> Self {
        Self {
            written: text.clone(),
            text,
        }
    }

    /// `text` in `colour` when `on`.
    fn painted(text: String, colour: &str, on: bool) -> Self {
        let written = if on {
            format!("{colour}{text}{RESET}")
        } else {
            text.clone()
        };
        Self { text, written }
    }
}

const SIZE_COLUMN: usize = 2;

fn row(backup: &Backup, look: Look) -> Vec<Cell> {
    let (id, created) = match look {
        Look::Plain => (Cell::plain(backup.id.clone()), Cell::plain(created(backup))),
        Look::Terminal { now, colour } => {
            let date = created(backup);
            let ago = format!("({})", ago(backup.created.value, now));
            let created = Cell {
                text: format!("{date} {ago}"),
                written: if colour {
                    format!("{date} {DIM}{ago}{RESET}")
                } else {
                    format!("{date} {ago}")
                },
            };
            (Cell::painted(backup.id.clone(), YELLOW, colour), created)
        }
    };
    vec![
        id,
        created,
        Cell::plain(size(backup)),
        Cell::plain(backup.device_name.clone()),
        Cell::plain(backup.platform.to_string()),
        Cell::plain(backup.version.clone()),
    ]
}

/// A table of backups with aligned columns, drawn the way `look` says; a line saying so when
/// there are none.
pub(crate) fn table_with<'a>(backups: impl IntoIterator<Item = &'a Backup>, look: Look) -> String {
    let rows: Vec<Vec<Cell>> = backups.into_iter().map(|b| row(b, look)).collect();
    if rows.is_empty() {
        return "No backups.\n".to_owned();
    }
    let (terminal, colour) = match look {
        Look::Plain => (false, false),
        Look::Terminal { colour, .. } => (true, colour),
    };
    let header: Vec<Cell> = HEADERS
        .iter()
        .map(|h| Cell::painted((*h).to_owned(), BOLD, colour))
        .collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.text.chars().count());
        }
    }
    let mut out = String::new();
    for cells in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            let padding = " ".repeat(width - cell.text.chars().count());
            if terminal && i == SIZE_COLUMN {
                let _ = write!(line, "{padding}{}  ", cell.written);
            } else if i + 1 == cells.len() {
                line.push_str(&cell.written);
            } else {
                let _ = write!(line, "{}{padding}  ", cell.written);
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

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use backups_models::{Backup, BackupParts, GroupedTimestamp, Platform};
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};

    use super::{Look, ago, colour_allowed, table_with};

    const NOW: OffsetDateTime = datetime!(2025-11-26 21:00:00 UTC);

    fn backup(id: &str, bytes: u64, created: OffsetDateTime) -> Backup {
        Backup::from(BackupParts {
            id: id.to_owned(),
            bytes: bytes.into(),
            created: GroupedTimestamp::new(created),
            device_name: "laptop".to_owned(),
            platform: Platform::Linux,
            timestamp: id.to_owned(),
            version: "12.0.0".to_owned(),
        })
    }

    #[test]
    fn ago_says_how_long_ago_in_the_largest_whole_unit() {
        for (before, said) in [
            (Duration::ZERO, "just now"),
            (Duration::seconds(59), "just now"),
            (Duration::seconds(60), "1 minute ago"),
            (Duration::minutes(59), "59 minutes ago"),
            (Duration::hours(1), "1 hour ago"),
            (Duration::minutes(200), "3 hours ago"),
            (Duration::hours(47), "1 day ago"),
            (Duration::days(2), "2 days ago"),
            (Duration::days(29), "29 days ago"),
            (Duration::days(61), "2 months ago"),
            (Duration::days(365), "1 year ago"),
            (Duration::days(800), "2 years ago"),
            // A clock ahead of this machine's.
            (Duration::seconds(-30), "just now"),
            (Duration::minutes(-5), "in 5 minutes"),
        ] {
            assert_eq!(ago(NOW - before, NOW), said, "{before}");
        }
    }

    #[test]
    fn colour_unless_no_color_is_set_to_something() {
        assert!(colour_allowed(None));
        assert!(colour_allowed(Some(OsStr::new(""))));
        assert!(!colour_allowed(Some(OsStr::new("1"))));
        assert!(!colour_allowed(Some(OsStr::new("0"))));
    }

    fn two() -> [Backup; 2] {
        [
            backup("1764190800000", 300, NOW - Duration::hours(3)),
            backup("1764100000000", 12_345_678, NOW - Duration::days(2)),
        ]
    }

    #[test]
    fn the_plain_table_is_left_aligned_without_relative_times_or_escapes() {
        assert_eq!(
            table_with(&two(), Look::Plain),
            "\
ID             CREATED                  SIZE       DEVICE  PLATFORM  VERSION
1764190800000  2025-11-26 18:00:00 UTC  300 B      laptop  LINUX     12.0.0
1764100000000  2025-11-24 21:00:00 UTC  11.77 MiB  laptop  LINUX     12.0.0
"
        );
    }

    #[test]
    fn a_terminal_table_right_aligns_sizes_and_says_how_long_ago() {
        let look = Look::Terminal {
            now: NOW,
            colour: false,
        };
        assert_eq!(
            table_with(&two(), look),
            "\
ID             CREATED                                     SIZE  DEVICE  PLATFORM  VERSION
1764190800000  2025-11-26 18:00:00 UTC (3 hours ago)      300 B  laptop  LINUX     12.0.0
1764100000000  2025-11-24 21:00:00 UTC (2 days ago)   11.77 MiB  laptop  LINUX     12.0.0
"
        );
    }

    #[test]
    fn colour_changes_no_column_width() {
        let plain = table_with(
            &two(),
            Look::Terminal {
                now: NOW,
                colour: false,
            },
        );
        let coloured = table_with(
            &two(),
            Look::Terminal {
                now: NOW,
                colour: true,
            },
        );
        assert!(coloured.contains("\x1b["), "{coloured}");
        let stripped = strip_escapes(&coloured);
        assert_eq!(stripped, plain);
    }

    /// `text` without its `ESC [ ... m` sequences.
    fn strip_escapes(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn no_backups_is_one_line_either_way() {
        let look = Look::Terminal {
            now: NOW,
            colour: true,
        };
        assert_eq!(table_with(&[], look), "No backups.\n");
        assert_eq!(table_with(&[], Look::Plain), "No backups.\n");
    }
}
