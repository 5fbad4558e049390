//! Applying a policy to a listing: the backups grouped, each group newest first, and for each
//! backup the reasons it is kept (none: it is removed).

use std::collections::BTreeMap;

use backups_models::Backup;
use time::OffsetDateTime;

use super::policy::{Policy, Reason};
use super::zone::{Zone, local};

/// What the policy applies to on its own (`--group-by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum GroupBy {
    /// Each device's backups (by device name): one device's backups never push out another's.
    Device,
    /// Each platform's backups.
    Platform,
    /// All the backups together.
    None,
}

impl GroupBy {
    /// The group `backup` falls in; the empty string for [`GroupBy::None`].
    pub(crate) fn key(self, backup: &Backup) -> String {
        match self {
            Self::Device => backup.device_name.clone(),
            Self::Platform => backup.platform.to_string(),
            Self::None => String::new(),
        }
    }

    /// The flag's value: `device`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::Platform => "platform",
            Self::None => "none",
        }
    }
}

/// One backup and why it is kept.
#[derive(Debug)]
pub(crate) struct Verdict<'a> {
    /// The backup.
    pub(crate) backup: &'a Backup,
    /// The rules that keep it, in restic's order; empty when it is removed.
    pub(crate) reasons: Vec<Reason>,
}

impl Verdict<'_> {
    /// Whether any rule keeps it.
    pub(crate) fn kept(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// The backups of one group, newest first, with their verdicts.
#[derive(Debug)]
pub(crate) struct Group<'a> {
    /// The device name or platform the group shares; empty with `--group-by none`.
    pub(crate) key: String,
    /// Newest first (by creation time; the greater id first on a tie).
    pub(crate) verdicts: Vec<Verdict<'a>>,
}

/// The policy applied to every group.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    /// By key.
    pub(crate) groups: Vec<Group<'a>>,
}

/// Newest first: by creation time, then the greater id, so that a tie is decided the same way
/// whatever order the server listed them in.
fn newest_first(a: &&Backup, b: &&Backup) -> std::cmp::Ordering {
    (b.created.value, &b.id).cmp(&(a.created.value, &a.id))
}

impl<'a> Plan<'a> {
    /// Every verdict, newest first across the groups.
    fn all(&self) -> Vec<&Verdict<'a>> {
        let mut all: Vec<&Verdict<'a>> = self.groups.iter().flat_map(|g| &g.verdicts).collect();
        all.sort_by(|a, b| newest_first(&a.backup, &b.backup));
        all
    }

    /// The kept backups, newest first.
    pub(crate) fn keep(&self) -> Vec<&'a Backup> {
        let all = self.all().into_iter();
        all.filter(|v| v.kept()).map(|v| v.backup).collect()
    }

    /// The removed backups, oldest first: the order they are deleted in, so that a prune
    /// stopped part-way has deleted the oldest.
    pub(crate) fn remove(&self) -> Vec<&'a Backup> {
        let all = self.all().into_iter().rev();
        all.filter(|v| !v.kept()).map(|v| v.backup).collect()
    }
}

/// Which backups `policy` keeps, per group of `group_by`, with calendar periods cut on the wall
/// clocks of `zone`.
pub(crate) fn plan<'a>(
    backups: impl IntoIterator<Item = &'a Backup>,
    policy: &Policy,
    group_by: GroupBy,
    zone: &dyn Zone,
) -> Plan<'a> {
    let mut groups: BTreeMap<String, Vec<&'a Backup>> = BTreeMap::new();
    for backup in backups {
        groups.entry(group_by.key(backup)).or_default().push(backup);
    }
    let groups = groups
        .into_iter()
        .map(|(key, mut backups)| {
            backups.sort_by(newest_first);
            let verdicts = apply(&backups, policy, zone);
            Group { key, verdicts }
        })
        .collect();
    Plan { groups }
}

/// One period a backup falls in, for one rule: equal keys are the same hour, day, ...
type Bucket = (i32, u32);

/// The period of a counting rule that `local` (a wall-clock time) falls in; for `--keep-last`
/// each backup is its own, numbered `nr`.
fn bucket(reason: Reason, local: OffsetDateTime, nr: usize) -> Bucket {
    let year = local.year();
    match reason {
        Reason::Last => (0, u32::try_from(nr).unwrap_or(u32::MAX)),
        Reason::Hourly => (
            year,
            u32::from(local.ordinal()) * 100 + u32::from(local.hour()),
        ),
        Reason::Daily => (year, u32::from(local.ordinal())),
        // The ISO week's own year: 31 December may be in week 1 of the next year.
        Reason::Weekly => {
            let (week_year, week, _) = local.to_iso_week_date();
            (week_year, u32::from(week))
        }
        Reason::Monthly => (year, u32::from(u8::from(local.month()))),
        Reason::Yearly | Reason::Within(_) => (year, 0),
    }
}

/// restic's `ApplyPolicy` on one group, newest first: each counting rule with a count left
/// keeps a backup whose period differs from that of the last backup it kept.
fn apply<'a>(newest_first: &[&'a Backup], policy: &Policy, zone: &dyn Zone) -> Vec<Verdict<'a>> {
    let Some(latest) = newest_first.first() else {
        return Vec::new();
    };
    let within = policy.within.filter(|within| !within.is_zero());
    let earliest = within.map(|within| within.earliest(latest.created.value, zone));
    let mut rules: Vec<(u32, Reason, Option<Bucket>)> = policy
        .counts()
        .into_iter()
        .filter_map(|(count, reason)| Some((count?, reason, None)))
        .collect();
    newest_first
        .iter()
        .enumerate()
        .map(|(nr, backup)| {
            let mut reasons = Vec::new();
            if let (Some(within), Some(earliest)) = (within, earliest) {
                if earliest.is_none_or(|earliest| backup.created.value >= earliest) {
                    reasons.push(Reason::Within(within));
                }
            }
            let wall = local(backup.created.value, zone);
            for (left, reason, last) in &mut rules {
                if *left == 0 {
                    continue;
                }
                let period = bucket(*reason, wall, nr);
                if *last != Some(period) {
                    *last = Some(period);
                    *left -= 1;
                    reasons.push(*reason);
                }
            }
            Verdict { backup, reasons }
        })
        .collect()
}
