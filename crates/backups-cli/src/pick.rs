//! Naming backups on the command line as people say it: an id, or `latest` for the newest,
//! narrowed by `--device` and `--platform` (for the commands that take one backup), and the
//! filters of `list`. The meaning is the SDK's (`backups_models::Backups::select`).

use backups_hyper::BackupsClient;
use backups_models::time::format_description::well_known::Rfc3339;
use backups_models::time::macros::format_description;
use backups_models::time::{Date, OffsetDateTime, Time};
use backups_models::{Filter, Pick, Platform};
use clap::Args;

use crate::exit::Exit;
use crate::stop::Stop;

/// One backup: by id, or `latest`.
#[derive(Debug, Args)]
pub(crate) struct Chosen {
    /// The id of the backup, as `list` shows it, or `latest` for the newest one (of the device or
    /// platform given)
    #[arg(value_name = "ID|latest")]
    pub(crate) id: String,
    /// Only a backup made on this device (its name as `list` shows it, any case): with `latest`,
    /// the newest of that device
    #[arg(long, value_name = "NAME")]
    pub(crate) device: Option<String>,
    /// Only a backup made on this platform (LINUX, MACOS, WINDOWS, ...)
    #[arg(long, value_name = "PLATFORM", value_parser = parse_platform)]
    pub(crate) platform: Option<Platform>,
}

impl Chosen {
    /// The id of the backup meant. An id that nothing narrows goes to Pieces OS as it is (no
    /// extra call); otherwise the listing says which backup it is. An empty or ambiguous choice
    /// is exit status 9, saying what was looked for.
    pub(crate) async fn resolve(&self, client: &BackupsClient) -> Result<String, Stop> {
        let pick = Pick::parse(&self.id);
        let mut filter = Filter::default();
        filter.device.clone_from(&self.device);
        filter.platform.clone_from(&self.platform);
        if let (Pick::Id(id), true) = (&pick, filter.is_empty()) {
            return Ok(id.clone());
        }
        let listing = client.list().await?;
        match listing.select(&pick, &filter) {
            Ok(backup) => Ok(backup.id.clone()),
            Err(err) => Err(Stop::Failed {
                exit: Exit::NotFound,
                message: format!("{err} (see `pieces-backups list`)"),
            }),
        }
    }
}

/// The filters of `list`.
#[derive(Debug, Default, Args)]
pub(crate) struct Listed {
    /// Only the backups of this device (its name as `list` shows it, any case)
    #[arg(long, value_name = "NAME")]
    pub(crate) device: Option<String>,
    /// Only the backups made on this platform (LINUX, MACOS, WINDOWS, ...)
    #[arg(long, value_name = "PLATFORM", value_parser = parse_platform)]
    pub(crate) platform: Option<Platform>,
    /// Only the backups made on or after this day (YYYY-MM-DD, UTC) or time (RFC 3339)
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub(crate) since: Option<OffsetDateTime>,
    /// Only the backups made on or before this day (YYYY-MM-DD, UTC: the whole day) or time
    /// (RFC 3339)
    #[arg(long, value_name = "DATE", value_parser = parse_until)]
    pub(crate) until: Option<OffsetDateTime>,
}

impl Listed {
    /// The SDK's filter for these options.
    pub(crate) fn filter(&self) -> Filter {
        let mut filter = Filter::default();
        filter.device.clone_from(&self.device);
        filter.platform.clone_from(&self.platform);
        filter.since = self.since;
        filter.until = self.until;
        filter
    }
}

/// A platform as the wire spells it, in any case; an unknown one is refused with the known ones.
fn parse_platform(text: &str) -> Result<Platform, String> {
    let platform = Platform::from_wire(&text.to_ascii_uppercase());
    if platform.is_known() {
        Ok(platform)
    } else {
        Err(format!(
            "{text:?} is no platform: give one of UNKNOWN, WEB, MACOS, LINUX, WINDOWS, FUCHSIA, \
             IOS, ANDROID"
        ))
    }
}

/// A day (its start, UTC) or an RFC 3339 time.
fn parse_since(text: &str) -> Result<OffsetDateTime, String> {
    parse_moment(text, Time::MIDNIGHT)
}

/// A day (its end, UTC) or an RFC 3339 time.
fn parse_until(text: &str) -> Result<OffsetDateTime, String> {
    parse_moment(text, Time::MAX)
}

fn parse_moment(text: &str, at: Time) -> Result<OffsetDateTime, String> {
    if let Ok(moment) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(moment);
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map(|day| day.with_time(at).assume_utc())
        .map_err(|_| {
            format!("{text:?} is no date: give a day such as 2026-06-01, or an RFC 3339 time")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_cover_the_whole_day_and_times_are_exact() {
        let since = parse_since("2026-06-01").unwrap();
        let until = parse_until("2026-06-01").unwrap();
        assert_eq!(since.to_string(), "2026-06-01 0:00:00.0 +00:00:00");
        assert!(until > since + time::Duration::hours(23));
        assert_eq!(
            parse_since("2026-06-01T10:00:00+02:00")
                .unwrap()
                .unix_timestamp(),
            since.unix_timestamp() + 8 * 3600
        );
        assert!(parse_since("June").unwrap_err().contains("no date"));
    }

    #[test]
    fn platforms_in_any_case_and_unknown_ones_refused() {
        assert_eq!(parse_platform("macos"), Ok(Platform::Macos));
        assert!(parse_platform("beos").unwrap_err().contains("LINUX"));
    }
}
