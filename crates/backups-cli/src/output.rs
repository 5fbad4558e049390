//! How backups and progress events are shown: tables and lines for people, JSON for programs.

use std::fmt::Write as _;
use std::io::IsTerminal;

use backups_models::{Backup, BackupStatus, BackupStreamedProgress, Number, ProgressStatus};
use backups_proto::escape_controls;
use indicatif::HumanBytes;
use tabled::builder::Builder;
use tabled::settings::object::{Columns, Object, Rows};
use tabled::settings::{Alignment, Color, Padding, Style};
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

const CREATED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");

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
pub(crate) struct Look {
    /// For a person at a terminal, the moment that ages are counted from: sizes right-aligned
    /// and how long ago beside each date. `None` for pipes and scripts: left-aligned columns and
    /// the date alone.
    pub(crate) now: Option<OffsetDateTime>,
    /// Whether the table has colour (bold headers, yellow ids, dim ages).
    pub(crate) colour: bool,
}

impl Look {
    /// For pipes and scripts, without colour.
    #[cfg(test)]
    pub(crate) const PLAIN: Self = Self {
        now: None,
        colour: false,
    };

    /// For stdout: a person's table when it is a terminal, in colour when [`colour_on`] says so.
    pub(crate) fn for_stdout() -> Self {
        let stdout = std::io::stdout();
        Self {
            now: stdout.is_terminal().then(OffsetDateTime::now_utc),
            colour: colour_on(&stdout),
        }
    }
}

/// Whether `stream` gets colour, by anstream's rule (as clap's help does): never when `NO_COLOR`
/// is set to anything but the empty string (<https://no-color.org>) or `CLICOLOR` is `0`;
/// always when `CLICOLOR_FORCE` is set; else only on a terminal whose `TERM` is set and not
/// `dumb`.
pub(crate) fn colour_on(stream: &impl anstream::stream::RawStream) -> bool {
    anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never
}

/// How long before `now` a moment was, as a person says it: "just now", "1 minute ago",
/// "3 hours ago", "2 weeks ago"; a moment after `now` (a clock ahead) is "in 5 minutes".
pub(crate) fn ago(then: OffsetDateTime, now: OffsetDateTime) -> String {
    let elapsed = now - then;
    if elapsed.is_negative() {
        in_words(
            timeago::Formatter::with_language(Ahead),
            elapsed.unsigned_abs(),
        )
    } else {
        in_words(timeago::Formatter::new(), elapsed.unsigned_abs())
    }
}

/// `span` in its largest whole unit, from a minute up; "just now" below.
fn in_words<L: timeago::Language>(
    mut formatter: timeago::Formatter<L>,
    span: std::time::Duration,
) -> String {
    formatter
        .min_unit(timeago::TimeUnit::Minutes)
        .too_low("just now");
    formatter.convert(span)
}

/// English that looks ahead ("in 5 minutes"): timeago's own English only looks back.
struct Ahead;

impl timeago::Language for Ahead {
    fn too_low(&self) -> &'static str {
        timeago::English.too_low()
    }

    fn too_high(&self) -> &'static str {
        timeago::English.too_high()
    }

    fn ago(&self) -> &'static str {
        "in"
    }

    fn get_word(&self, unit: timeago::TimeUnit, count: u64) -> &'static str {
        timeago::English.get_word(unit, count)
    }

    fn place_ago_before(&self) -> bool {
        true
    }

    fn clone_boxed(&self) -> timeago::BoxedLanguage {
        Box::new(Ahead)
    }
}

/// The column of the dates; in a person's table, the ages follow in a column of their own with
/// no header, one space from the dates so that they read as the date's.
const DATE_COLUMN: usize = 1;
const AGE_COLUMN: usize = DATE_COLUMN + 1;

fn headers(look: Look) -> Vec<&'static str> {
    let mut headers = vec!["ID", "CREATED", "SIZE", "DEVICE", "PLATFORM", "VERSION"];
    if look.now.is_some() {
        headers.insert(AGE_COLUMN, "");
    }
    headers
}

fn row(backup: &Backup, look: Look) -> Vec<String> {
    let mut row = vec![
        shown(&backup.id),
        created(backup),
        size(backup),
        shown(&backup.device_name),
        shown(&backup.platform.to_string()),
        shown(&backup.version),
    ];
    if let Some(now) = look.now {
        row.insert(AGE_COLUMN, format!("({})", ago(backup.created.value, now)));
    }
    row
}

/// `style` as tabled writes it around a cell's text, once the column widths are measured.
fn paint(style: anstyle::Style) -> Color {
    Color::new(style.render().to_string(), style.render_reset().to_string())
}

/// A table of backups with aligned columns, drawn the way `look` says; a line saying so when
/// there are none.
pub(crate) fn table_with<'a>(backups: impl IntoIterator<Item = &'a Backup>, look: Look) -> String {
    let mut builder = Builder::default();
    builder.push_record(headers(look));
    let mut any = false;
    for backup in backups {
        builder.push_record(row(backup, look));
        any = true;
    }
    if !any {
        return "No backups.\n".to_owned();
    }
    let mut table = builder.build();
    // No borders; two spaces after each column but the last.
    table.with(Style::empty()).with(Padding::new(0, 2, 0, 0));
    table.modify(Columns::last(), Padding::zero());
    let body = Rows::new(1..);
    if look.now.is_some() {
        table.modify(Columns::one(DATE_COLUMN), Padding::new(0, 1, 0, 0));
        // The sizes, after the ages.
        table.modify(Columns::one(AGE_COLUMN + 1), Alignment::right());
    }
    if look.colour {
        let bold = paint(anstyle::Style::new().bold());
        table.modify(
            Columns::first().intersect(body.clone()),
            paint(anstyle::AnsiColor::Yellow.on_default()),
        );
        if look.now.is_some() {
            // The ages' empty header stays free of escapes.
            table.modify(Rows::first().not(Columns::one(AGE_COLUMN)), bold);
            table.modify(
                Columns::one(AGE_COLUMN).intersect(body),
                paint(anstyle::Style::new().dimmed()),
            );
        } else {
            table.modify(Rows::first(), bold);
        }
    }
    // Cells are padded to their column's width, the last column's too: a line ends at its last
    // character.
    let mut out = String::new();
    for line in table.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Text from Pieces OS as it may be shown on a terminal: its control characters escaped
/// ([`escape_controls`]), so that a hostile server cannot move the cursor, recolour the screen or
/// set the window's title through a device name.
pub(crate) fn shown(text: &str) -> String {
    escape_controls(text).into_owned()
}

/// One backup described in a line: `id (size, created)`.
pub(crate) fn summary(backup: &Backup) -> String {
    format!(
        "{} ({}, created {})",
        shown(&backup.id),
        size(backup),
        created(backup)
    )
}

/// Where an operation stands: `IN-PROGRESS 40%`.
pub(crate) fn standing(status: Option<&ProgressStatus>, percentage: Option<&Number>) -> String {
    let status = status.map_or("(no status)".to_owned(), |status| {
        shown(&status.to_string())
    });
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
    use backups_models::{Backup, BackupParts, GroupedTimestamp, Platform};
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};

    use super::{Look, ago, table_with};

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
            (Duration::days(6), "6 days ago"),
            // timeago counts weeks, as git's relative dates do, months of 30.4 days and years
            // of 12 such months (365 days and 36 seconds).
            (Duration::days(7), "1 week ago"),
            (Duration::days(29), "4 weeks ago"),
            (Duration::days(61), "2 months ago"),
            (Duration::days(365), "11 months ago"),
            (Duration::days(366), "1 year ago"),
            (Duration::days(800), "2 years ago"),
            // A clock ahead of this machine's.
            (Duration::seconds(-30), "just now"),
            (Duration::minutes(-5), "in 5 minutes"),
            (Duration::days(-1), "in 1 day"),
        ] {
            assert_eq!(ago(NOW - before, NOW), said, "{before}");
        }
    }

    fn two() -> [Backup; 2] {
        [
            backup("1764190800000", 300, NOW - Duration::hours(3)),
            backup("1764100000000", 12_345_678, NOW - Duration::days(2)),
        ]
    }

    fn terminal(colour: bool) -> Look {
        Look {
            now: Some(NOW),
            colour,
        }
    }

    #[test]
    fn the_plain_table_is_left_aligned_without_relative_times_or_escapes() {
        assert_eq!(
            table_with(&two(), Look::PLAIN),
            "\
ID             CREATED                  SIZE       DEVICE  PLATFORM  VERSION
1764190800000  2025-11-26 18:00:00 UTC  300 B      laptop  LINUX     12.0.0
1764100000000  2025-11-24 21:00:00 UTC  11.77 MiB  laptop  LINUX     12.0.0
"
        );
    }

    #[test]
    fn a_terminal_table_right_aligns_sizes_and_says_how_long_ago() {
        assert_eq!(
            table_with(&two(), terminal(false)),
            "\
ID             CREATED                                     SIZE  DEVICE  PLATFORM  VERSION
1764190800000  2025-11-26 18:00:00 UTC (3 hours ago)      300 B  laptop  LINUX     12.0.0
1764100000000  2025-11-24 21:00:00 UTC (2 days ago)   11.77 MiB  laptop  LINUX     12.0.0
"
        );
    }

    fn bold() -> anstyle::Style {
        anstyle::Style::new().bold()
    }

    /// `text` in `style`, as a terminal gets it.
    fn painted(style: anstyle::Style, text: &str) -> String {
        format!("{}{text}{}", style.render(), style.render_reset())
    }

    #[test]
    fn colour_changes_no_column_width() {
        for (plain, coloured) in [
            (
                Look::PLAIN,
                Look {
                    colour: true,
                    ..Look::PLAIN
                },
            ),
            (terminal(false), terminal(true)),
        ] {
            let plain = table_with(&two(), plain);
            let coloured = table_with(&two(), coloured);
            assert!(coloured.contains(&painted(bold(), "ID")), "{coloured}");
            let id = painted(anstyle::AnsiColor::Yellow.on_default(), "1764190800000");
            assert!(coloured.contains(&id), "{coloured}");
            assert_eq!(anstream::adapter::strip_str(&coloured).to_string(), plain);
        }
    }

    #[test]
    fn a_terminal_table_dims_the_ages_and_gives_their_empty_header_no_escapes() {
        let coloured = table_with(&two(), terminal(true));
        let dim = anstyle::Style::new().dimmed();
        assert!(
            coloured.contains(&format!(" {}", painted(dim, "(3 hours ago)"))),
            "{coloured}"
        );
        assert!(!coloured.contains(&painted(bold(), "")), "{coloured:?}");
        // Each line ends at its last character, escapes included.
        assert!(
            coloured.lines().all(|line| !line.ends_with(' ')),
            "{coloured:?}"
        );
    }

    #[test]
    fn wide_characters_take_their_width_on_screen() {
        let mut wide = backup("1764190800000", 300, NOW - Duration::hours(3));
        // 5 characters, 8 columns on screen: the column is 8 wide.
        wide.device_name = "ノートPC".to_owned();
        assert_eq!(
            table_with(&[wide], Look::PLAIN),
            "\
ID             CREATED                  SIZE   DEVICE    PLATFORM  VERSION
1764190800000  2025-11-26 18:00:00 UTC  300 B  ノートPC  LINUX     12.0.0
"
        );
    }

    #[test]
    fn no_backups_is_one_line_either_way() {
        assert_eq!(table_with(&[], terminal(true)), "No backups.\n");
        assert_eq!(table_with(&[], Look::PLAIN), "No backups.\n");
    }
}
