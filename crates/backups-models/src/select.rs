//! Selecting backups the way people say it: "the newest backup of my old Mac", "what the laptop
//! made since June". [`Filter`] narrows a listing; [`Backups::select`] picks one backup by id or
//! as the newest ([`Pick::Latest`]), so that applications and the CLI mean the same thing.

use core::fmt;

use time::OffsetDateTime;

use crate::{Backup, Backups, Platform};

/// Which backups are meant: every field that is set must match (device names compare without
/// regard to ASCII case, platforms exactly; `since` and `until` bound the creation time,
/// both inclusive).
///
/// ```
/// use backups_models::{Filter, Platform};
///
/// let filter = Filter::default().device("Old Mac").platform(Platform::Macos);
/// assert_eq!(filter.to_string(), "device \"Old Mac\", platform MACOS");
/// assert_eq!(Filter::default().to_string(), "any backup");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Filter {
    /// The device the backup was made on ([`Backup::device_name`]).
    pub device: Option<String>,
    /// The platform it was made on ([`Backup::platform`]).
    pub platform: Option<Platform>,
    /// Made at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Made at or before this time.
    pub until: Option<OffsetDateTime>,
}

impl Filter {
    /// Only the backups of device `name`.
    pub fn device(mut self, name: impl Into<String>) -> Self {
        self.device = Some(name.into());
        self
    }

    /// Only the backups made on `platform`.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// Only the backups made at or after `time`.
    pub fn since(mut self, time: OffsetDateTime) -> Self {
        self.since = Some(time);
        self
    }

    /// Only the backups made at or before `time`.
    pub fn until(mut self, time: OffsetDateTime) -> Self {
        self.until = Some(time);
        self
    }

    /// Whether nothing is filtered out.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether `backup` is one of those meant.
    pub fn matches(&self, backup: &Backup) -> bool {
        let created = backup.created.value;
        self.device
            .as_ref()
            .is_none_or(|device| backup.device_name.eq_ignore_ascii_case(device))
            && self
                .platform
                .as_ref()
                .is_none_or(|platform| backup.platform == *platform)
            && self.since.is_none_or(|since| created >= since)
            && self.until.is_none_or(|until| created <= until)
    }
}

impl fmt::Display for Filter {
    /// What was looked for, in words for messages: `device "Old Mac", platform MACOS`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(device) = &self.device {
            parts.push(format!("device {device:?}"));
        }
        if let Some(platform) = &self.platform {
            parts.push(format!("platform {platform}"));
        }
        if let Some(since) = self.since {
            parts.push(format!("made since {since}"));
        }
        if let Some(until) = self.until {
            parts.push(format!("made until {until}"));
        }
        if parts.is_empty() {
            f.write_str("any backup")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Which one backup is meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The backup with this id (which must also match the filter).
    Id(String),
    /// The newest backup that matches the filter (`latest` on the command line).
    Latest,
}

impl Pick {
    /// `latest` (any case) is [`Pick::Latest`]; anything else is an id.
    pub fn parse(text: &str) -> Self {
        if text.eq_ignore_ascii_case("latest") {
            Self::Latest
        } else {
            Self::Id(text.to_owned())
        }
    }
}

/// Why [`Backups::select`] found no one backup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SelectError {
    /// No backup is both the one picked and one the filter matches.
    None {
        /// What was looked for, in words.
        looked_for: String,
    },
    /// Several backups are equally the newest that the filter matches (made at the same time on
    /// different devices): narrow it with a device or platform, or give an id.
    Ambiguous {
        /// What was looked for, in words.
        looked_for: String,
        /// The ids of the backups that tie.
        ids: Vec<String>,
    },
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None { looked_for } => write!(f, "no backup matches: {looked_for}"),
            Self::Ambiguous { looked_for, ids } => write!(
                f,
                "{} backups are the newest of {looked_for} (made at the same time): {}; name one \
                 by its id, or narrow the choice by device or platform",
                ids.len(),
                ids.join(", ")
            ),
        }
    }
}

impl std::error::Error for SelectError {}

impl Backups {
    /// The backups that `filter` matches, in the order of the listing.
    pub fn filtered<'a>(&'a self, filter: &'a Filter) -> impl Iterator<Item = &'a Backup> + 'a {
        self.iter().filter(move |backup| filter.matches(backup))
    }

    /// The one backup meant by `pick` among those `filter` matches: by id, or the newest by
    /// creation time.
    ///
    /// ```
    /// use backups_models::{Backups, Filter, Pick, SelectError};
    ///
    /// let listing: Backups = serde_json::from_str(r#"{"iterable":[
    ///     {"id":"a","bytes":1,"created":{"value":"2026-01-01T00:00:00Z"},"device_name":"laptop","platform":"LINUX","timestamp":"1","version":"1"},
    ///     {"id":"b","bytes":1,"created":{"value":"2026-03-01T00:00:00Z"},"device_name":"desktop","platform":"WINDOWS","timestamp":"2","version":"1"}
    /// ]}"#)?;
    /// assert_eq!(listing.select(&Pick::Latest, &Filter::default())?.id, "b");
    /// assert_eq!(listing.select(&Pick::Latest, &Filter::default().device("laptop"))?.id, "a");
    /// let none = listing.select(&Pick::Id("a".into()), &Filter::default().device("desktop"));
    /// assert!(matches!(none, Err(SelectError::None { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn select<'a>(&'a self, pick: &Pick, filter: &Filter) -> Result<&'a Backup, SelectError> {
        match pick {
            Pick::Id(id) => self
                .get(id)
                .filter(|backup| filter.matches(backup))
                .ok_or_else(|| SelectError::None {
                    looked_for: if filter.is_empty() {
                        format!("id {id:?}")
                    } else {
                        format!("id {id:?} with {filter}")
                    },
                }),
            Pick::Latest => {
                let matching = || self.iter().filter(|backup| filter.matches(backup));
                let newest = matching().map(|b| b.created.value).max();
                let Some(newest) = newest else {
                    return Err(SelectError::None {
                        looked_for: filter.to_string(),
                    });
                };
                let mut ties = matching().filter(|backup| backup.created.value == newest);
                let first = ties.next().ok_or_else(|| SelectError::None {
                    looked_for: filter.to_string(),
                })?;
                let rest: Vec<&Backup> = ties.collect();
                if rest.is_empty() {
                    return Ok(first);
                }
                Err(SelectError::Ambiguous {
                    looked_for: filter.to_string(),
                    ids: std::iter::once(first)
                        .chain(rest)
                        .map(|backup| backup.id.clone())
                        .collect(),
                })
            }
        }
    }
}
