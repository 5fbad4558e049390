//! Backup ids: how they are made and which strings may name one.
//!
//! An id is also a file name in the store, so every id that reaches the file system must pass
//! [`is_valid_id`], an allow-list rather than a deny-list: `..`, `/`, `\`, NUL and every other
//! character outside `[0-9A-Za-z_-]` can never name a file.

/// The longest id accepted.
const MAX_ID_LEN: usize = 64;

/// Whether `id` may name a backup: 1 to 64 characters of `[0-9A-Za-z_-]`.
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Hands out strictly increasing ids of the form `<13-digit milliseconds>-<4-digit sequence>`,
/// so that sorting ids as strings sorts backups by age, even across restarts and clock steps
/// backwards (the clock never goes below the newest id already in the store).
#[derive(Debug, Default)]
pub(crate) struct IdClock {
    last_ms: u64,
    seq: u32,
}

/// A freshly made id and the millisecond timestamp it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewId {
    pub(crate) id: String,
    pub(crate) millis: u64,
}

impl IdClock {
    /// The largest sequence number before the clock borrows the next millisecond.
    const MAX_SEQ: u32 = 9999;

    /// Makes sure every later id sorts after `id`, an id already in the store.
    pub(crate) fn observe(&mut self, id: &str) {
        let Some((ms, seq)) = id.split_once('-') else {
            return;
        };
        let (Ok(ms), Ok(seq)) = (ms.parse::<u64>(), seq.parse::<u32>()) else {
            return;
        };
        if (ms, seq) > (self.last_ms, self.seq) {
            self.last_ms = ms;
            self.seq = seq;
        }
    }

    /// The next id, given the current time in milliseconds since the Unix epoch.
    pub(crate) fn next(&mut self, now_ms: u64) -> NewId {
        if now_ms > self.last_ms {
            self.last_ms = now_ms;
            self.seq = 0;
        } else if self.seq >= Self::MAX_SEQ {
            self.last_ms += 1;
            self.seq = 0;
        } else {
            self.seq += 1;
        }
        NewId {
            id: format!("{:013}-{:04}", self.last_ms, self.seq),
            millis: self.last_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list() {
        for good in ["1700000000000-0000", "a", "A_b-9"] {
            assert!(is_valid_id(good), "{good}");
        }
        let long = "a".repeat(65);
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "a.json",
            " a",
            "é",
            long.as_str(),
        ] {
            assert!(!is_valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn ids_increase_strictly() {
        let mut clock = IdClock::default();
        let a = clock.next(1_000);
        let b = clock.next(1_000);
        let c = clock.next(999);
        let d = clock.next(2_000);
        assert_eq!(a.id, "0000000001000-0000");
        assert_eq!(b.id, "0000000001000-0001");
        assert!(a.id < b.id && b.id < c.id && c.id < d.id);
        assert!(is_valid_id(&d.id));
    }

    #[test]
    fn observed_ids_are_never_reused() {
        let mut clock = IdClock::default();
        clock.observe("0000000005000-0007");
        clock.observe("garbage");
        let next = clock.next(10);
        assert_eq!(next.id, "0000000005000-0008");
    }

    #[test]
    fn sequence_overflow_borrows_a_millisecond() {
        let mut clock = IdClock::default();
        clock.observe("0000000005000-9999");
        assert_eq!(clock.next(5_000).id, "0000000005001-0000");
    }
}
