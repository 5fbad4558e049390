//! The policy (`--keep-last`, `--keep-hourly` ... `--keep-yearly`, `--keep-within`), what it says
//! in words, and the reasons it gives for keeping a backup.

use std::fmt;

use super::within::Within;

/// The rules of a retention policy; `None` for a rule not given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    /// `--keep-last N`: the newest N backups.
    pub(crate) last: Option<u32>,
    /// `--keep-hourly N`: the newest backup of each of the last N hours that hold one.
    pub(crate) hourly: Option<u32>,
    /// `--keep-daily N`: the same per day.
    pub(crate) daily: Option<u32>,
    /// `--keep-weekly N`: the same per ISO week (Monday to Sunday).
    pub(crate) weekly: Option<u32>,
    /// `--keep-monthly N`: the same per month.
    pub(crate) monthly: Option<u32>,
    /// `--keep-yearly N`: the same per year.
    pub(crate) yearly: Option<u32>,
    /// `--keep-within D`: every backup within D of the newest one.
    pub(crate) within: Option<Within>,
}

impl Policy {
    /// The counting rules with the reason each gives, in restic's order.
    pub(crate) fn counts(&self) -> [(Option<u32>, Reason); 6] {
        [
            (self.last, Reason::Last),
            (self.hourly, Reason::Hourly),
            (self.daily, Reason::Daily),
            (self.weekly, Reason::Weekly),
            (self.monthly, Reason::Monthly),
            (self.yearly, Reason::Yearly),
        ]
    }

    /// Whether any rule was given (restic refuses a policy with none).
    pub(crate) fn is_given(&self) -> bool {
        self.within.is_some() || self.counts().iter().any(|(count, _)| count.is_some())
    }

    /// Whether it keeps no backup at all: every rule given is zero. Any other policy keeps at
    /// least the newest backup of each group.
    pub(crate) fn keeps_nothing(&self) -> bool {
        self.within.is_none_or(Within::is_zero)
            && self
                .counts()
                .iter()
                .all(|(count, _)| count.unwrap_or(0) == 0)
    }
}

/// In words, for the command's messages: `the newest 5`, `the newest 3, 7 daily, 4 weekly and
/// all within 7d`; `nothing` for a policy that keeps nothing.
impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        for (count, reason) in self.counts() {
            match (count, reason) {
                (Some(0) | None, _) => {}
                (Some(count), Reason::Last) => parts.push(format!("the newest {count}")),
                (Some(count), reason) => parts.push(format!("{count} {}", reason.period())),
            }
        }
        if let Some(within) = self.within.filter(|within| !within.is_zero()) {
            parts.push(format!("all within {within}"));
        }
        match parts.split_last() {
            None => f.write_str("nothing"),
            Some((last, [])) => f.write_str(last),
            Some((last, rest)) => write!(f, "{} and {last}", rest.join(", ")),
        }
    }
}

/// Why a backup is kept, in restic's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// `--keep-last`: "last snapshot".
    Last,
    /// `--keep-hourly`: "hourly snapshot".
    Hourly,
    /// `--keep-daily`: "daily snapshot".
    Daily,
    /// `--keep-weekly`: "weekly snapshot".
    Weekly,
    /// `--keep-monthly`: "monthly snapshot".
    Monthly,
    /// `--keep-yearly`: "yearly snapshot".
    Yearly,
    /// `--keep-within`: "within 7d".
    Within(Within),
}

impl Reason {
    /// The adjective of its period: `daily`.
    fn period(self) -> &'static str {
        match self {
            Self::Last => "last",
            Self::Hourly => "hourly",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Yearly => "yearly",
            Self::Within(_) => "within",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Within(within) => write!(f, "within {within}"),
            other => write!(f, "{} snapshot", other.period()),
        }
    }
}

/// Reads a rule's count: a whole number, 0 or more (0 keeps nothing by that rule). The message
/// says what is wrong; clap names the flag.
pub(crate) fn parse_count(text: &str) -> Result<u32, String> {
    let digits = text.trim();
    if digits.starts_with('-') && digits.len() > 1 {
        return Err(format!(
            "{text:?} is negative: give a count of backups, 0 or more, such as 7"
        ));
    }
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "{text:?} is not a count of backups: give a whole number such as 7"
        ));
    }
    digits
        .parse()
        .map_err(|_| format!("{text:?} is too large: give at most {}", u32::MAX))
}
