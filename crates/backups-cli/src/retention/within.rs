//! `--keep-within DURATION`: a calendar duration such as `2y5m7d3h`, as restic writes it, and the
//! earliest moment it reaches back to from the newest backup.

use std::fmt;

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime};

use super::zone::{Zone, local};

/// A duration in calendar units: years, months, days and hours (`2y5m7d3h`). Years, months and
/// days are counted on the calendar, as restic does (a month back from 31 March is 3 March, or
/// 2 March in a leap year, as Go's `AddDate` normalises 31 February); hours are exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Within {
    /// `y`.
    pub(crate) years: u32,
    /// `m`.
    pub(crate) months: u32,
    /// `d`.
    pub(crate) days: u32,
    /// `h`.
    pub(crate) hours: u32,
}

impl Within {
    /// Whether it reaches back no time at all (restic ignores such a rule: it keeps nothing).
    pub(crate) fn is_zero(self) -> bool {
        self == Self::default()
    }

    /// The earliest moment within this duration of `latest`, on the wall clocks of `zone`;
    /// `None` when that is before any representable date, so that every backup is within.
    pub(crate) fn earliest(
        self,
        latest: OffsetDateTime,
        zone: &dyn Zone,
    ) -> Option<OffsetDateTime> {
        let wall = local(latest, zone);
        let (year, month, day) = wall.date().to_calendar_date();
        let months = i64::from(year) * 12 + i64::from(u8::from(month))
            - 1
            - i64::from(self.years) * 12
            - i64::from(self.months);
        let year = i32::try_from(months.div_euclid(12)).ok()?;
        let month = Month::try_from(u8::try_from(months.rem_euclid(12) + 1).ok()?).ok()?;
        // The day counted from the first of the month, so that an overflowing day rolls over
        // into the next month as Go's `AddDate` does.
        let first = Date::from_calendar_date(year, month, 1).ok()?;
        let date = first.checked_add(Duration::days(i64::from(day) - 1 - i64::from(self.days)))?;
        let back = PrimitiveDateTime::new(date, wall.time());
        // The wall time back then, at the offset in force back then (summer time may differ).
        let guess = back.assume_offset(wall.offset());
        let then = back.assume_offset(zone.offset_at(guess));
        then.checked_sub(Duration::hours(i64::from(self.hours)))
    }
}

/// As restic writes it: each non-zero unit, largest first (`2y5m7d3h`, `7d`); `0h` for none.
impl fmt::Display for Within {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0h");
        }
        for (count, unit) in [
            (self.years, 'y'),
            (self.months, 'm'),
            (self.days, 'd'),
            (self.hours, 'h'),
        ] {
            if count != 0 {
                write!(f, "{count}{unit}")?;
            }
        }
        Ok(())
    }
}

/// Reads `--keep-within`'s value: numbers each followed by `y`, `m`, `d` or `h`, each unit at
/// most once (`2y5m7d3h`, `36h`, `1y`). The message says what is wrong; clap names the flag.
pub(crate) fn parse_within(text: &str) -> Result<Within, String> {
    const EXPECTED: &str = "give a duration such as 7d, 36h or 2y5m7d3h (y years, m months, \
                            d days, h hours)";
    let mut within = Within::default();
    let mut seen = String::new();
    let mut digits = String::new();
    if text.is_empty() {
        return Err(format!("the duration is empty: {EXPECTED}"));
    }
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let slot = match c {
            'y' => &mut within.years,
            'm' => &mut within.months,
            'd' => &mut within.days,
            'h' => &mut within.hours,
            '-' => return Err(format!("{text:?} is negative: {EXPECTED}")),
            _ => return Err(format!("{text:?} has {c:?}, which is no unit: {EXPECTED}")),
        };
        if digits.is_empty() {
            return Err(format!("{text:?} has no number before {c:?}: {EXPECTED}"));
        }
        if seen.contains(c) {
            return Err(format!("{text:?} gives {c:?} twice: {EXPECTED}"));
        }
        seen.push(c);
        *slot = digits
            .parse()
            .map_err(|_| format!("{digits} is too large a count of {c:?} in {text:?}"))?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!("{text:?} ends without a unit: {EXPECTED}"));
    }
    Ok(within)
}
