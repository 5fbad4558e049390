//! The time zone that calendar buckets are cut in: an input of the policy, so that the tests
//! name their zones and the command passes the machine's.

use time::{OffsetDateTime, UtcOffset};

/// A time zone: the offset from UTC in force at each instant (a zone with summer time answers
/// differently across the year).
pub(crate) trait Zone {
    /// The offset in force at `instant`.
    fn offset_at(&self, instant: OffsetDateTime) -> UtcOffset;
}

/// A fixed offset: UTC for `--utc`, and the tests' zones.
impl Zone for UtcOffset {
    fn offset_at(&self, _instant: OffsetDateTime) -> UtcOffset {
        *self
    }
}

/// `instant` on the wall clocks of `zone`; `instant` as it is when the zone's offset would take
/// it out of the representable years (only at the ends of year -9999 and 9999).
pub(crate) fn local(instant: OffsetDateTime, zone: &dyn Zone) -> OffsetDateTime {
    instant
        .checked_to_offset(zone.offset_at(instant))
        .unwrap_or(instant)
}
