//! Retention policies as restic's `forget` and borg's `prune` know them: which backups a policy
//! keeps, and why. Pure logic: the backups, the policy and the time zone are inputs, nothing is
//! read from the machine here (the command reads the zone and lists the backups).
//!
//! Each `--keep-X N` rule keeps, newest first, the newest backup of each of the last N
//! X-periods (hours, days, ISO weeks, months, years, or single backups for `--keep-last`) that
//! hold a backup; `--keep-within D` keeps every backup within D of the newest one. A backup is
//! kept when any rule keeps it. The rules apply to each group (device, platform, or all) on its
//! own, so that one device's backups never push out another's.

mod apply;
mod policy;
mod within;
mod zone;

#[cfg(test)]
mod tests;

pub(crate) use apply::{GroupBy, Plan, plan};
pub(crate) use policy::{Policy, parse_count};
pub(crate) use within::{Within, parse_within};
pub(crate) use zone::Zone;
