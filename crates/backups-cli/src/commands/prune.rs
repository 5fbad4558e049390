//! `prune --keep-*`: deleting the backups that a retention policy does not keep, the retention
//! job of a cron line. The policy itself is `crate::retention`; this is its plan shown, agreed
//! to and carried out.

use std::fmt::Write as _;
use std::io::Write;

use backups_hyper::BackupsClient;
use backups_models::Backup;
use backups_proto::Error;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::ask;
use crate::exit::Exit;
use crate::output;
use crate::retention::{self, GroupBy, Plan, Policy, Zone};
use crate::stop::Stop;

/// What `prune` was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// The rules.
    pub(crate) policy: Policy,
    /// `--group-by`: what the policy applies to on its own.
    pub(crate) group_by: GroupBy,
    /// `--utc`: cut hours, days, weeks, months and years in UTC rather than local time.
    pub(crate) utc: bool,
    /// `--allow-empty`: a policy that keeps nothing may delete every backup.
    pub(crate) allow_empty: bool,
    /// `--dry-run`: show the plan, delete nothing.
    pub(crate) dry_run: bool,
    /// `--yes`: delete without asking.
    pub(crate) yes: bool,
    /// `--json`: the plan and the result as one JSON object.
    pub(crate) json: bool,
}

/// The machine's time zone, read by tz-rs from `TZ` or `/etc/localtime` without libc: its rules
/// give each backup the offset in force when it was made, summer time included.
struct SystemZone(tz::TimeZone);

impl Zone for SystemZone {
    fn offset_at(&self, instant: OffsetDateTime) -> UtcOffset {
        self.0
            .find_local_time_type(instant.unix_timestamp())
            .ok()
            .and_then(|kind| UtcOffset::from_whole_seconds(kind.ut_offset()).ok())
            .unwrap_or(UtcOffset::UTC)
    }
}

/// The zone that periods are cut in: UTC with `--utc`, else the local zone as libc would read
/// it (`TZ` when set, a name, a `:path` or a POSIX rule; the empty `TZ` is UTC; else
/// `/etc/localtime`). A zone that cannot be read is UTC, with a word on stderr.
fn zone(utc: bool) -> Box<dyn Zone> {
    if utc {
        return Box::new(UtcOffset::UTC);
    }
    let read = match std::env::var("TZ") {
        Ok(tz) if tz.is_empty() => return Box::new(UtcOffset::UTC),
        Ok(tz) => tz::TimeZone::from_posix_tz(&tz).map_err(|err| format!("TZ={tz:?}: {err}")),
        Err(_) => tz::TimeZone::local().map_err(|err| format!("/etc/localtime: {err}")),
    };
    match read {
        Ok(zone) => Box::new(SystemZone(zone)),
        Err(err) => {
            eprintln!(
                "pieces-backups: cannot read the local time zone ({err}); cutting days in UTC \
                 (pass --utc to say so)"
            );
            Box::new(UtcOffset::UTC)
        }
    }
}

/// Refuses, as a usage error, a policy with no rule (as restic does), and one that keeps
/// nothing unless `--allow-empty`.
fn check(options: &Options) -> Result<(), Stop> {
    let usage = |message: &str| Stop::Failed {
        exit: Exit::Usage,
        message: message.to_owned(),
    };
    if !options.policy.is_given() {
        return Err(usage(
            "prune needs a policy: give at least one of --keep-last, --keep-hourly, \
             --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly or --keep-within",
        ));
    }
    if options.policy.keeps_nothing() && !options.allow_empty {
        return Err(usage(
            "this policy keeps nothing (every --keep-* rule given is 0) and would delete every \
             backup; pass --allow-empty to do that",
        ));
    }
    Ok(())
}

/// The one-line message of a prune that failed part-way: what was deleted, what was not, and
/// why it stopped.
pub(crate) fn failure_message(deleted: &[&str], not_deleted: &[&str], error: &Error) -> String {
    let total = deleted.len() + not_deleted.len();
    let deleted_list = if deleted.is_empty() {
        "none".to_owned()
    } else {
        deleted.join(", ")
    };
    format!(
        "prune stopped: deleting backup {} failed: {error}; deleted {} of {total} ({deleted_list}); \
         not deleted: {} (run the prune again to delete them)",
        not_deleted.first().copied().unwrap_or("?"),
        deleted.len(),
        not_deleted.join(", "),
    )
}

fn ids<'a>(backups: &[&'a Backup]) -> Vec<&'a str> {
    backups.iter().map(|backup| backup.id.as_str()).collect()
}

/// When a backup was made, on the wall clocks that its periods were cut on.
fn created(backup: &Backup, utc: bool, zone: &dyn Zone) -> String {
    if utc {
        return output::created(backup);
    }
    let at = backup.created.value;
    let local = at.checked_to_offset(zone.offset_at(at)).unwrap_or(at);
    local
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] [offset_hour sign:mandatory]:[offset_minute]"
        ))
        .unwrap_or_else(|_| output::created(backup))
}

/// The policy in words, and whose: `the newest 5`, `the newest 5 of each device`.
fn keeping(options: &Options, plan: &Plan<'_>) -> String {
    if plan.groups.len() > 1 {
        format!("{} of each {}", options.policy, options.group_by.name())
    } else {
        options.policy.to_string()
    }
}

/// restic's table: each backup, group by group and newest first, whether it is kept, and why.
fn table(options: &Options, plan: &Plan<'_>, zone: &dyn Zone) -> String {
    const HEADERS: [&str; 7] = [
        "ID", "CREATED", "SIZE", "DEVICE", "PLATFORM", "ACTION", "REASONS",
    ];
    let mut rows: Vec<[String; 7]> = Vec::new();
    for verdict in plan.groups.iter().flat_map(|group| &group.verdicts) {
        let backup = verdict.backup;
        let reasons: Vec<String> = verdict.reasons.iter().map(ToString::to_string).collect();
        rows.push([
            backup.id.clone(),
            created(backup, options.utc, zone),
            output::size(backup),
            backup.device_name.clone(),
            backup.platform.to_string(),
            if verdict.kept() { "keep" } else { "remove" }.to_owned(),
            reasons.join(", "),
        ]);
    }
    let mut widths = HEADERS.map(|header| header.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let headers = HEADERS.map(str::to_owned);
    for row in std::iter::once(&headers).chain(&rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The plan and what became of it, as `--json` prints it.
fn json_report(
    options: &Options,
    plan: &Plan<'_>,
    zone: &dyn Zone,
    deleted: &[&str],
    error: Option<&Error>,
) -> serde_json::Value {
    let to_delete = plan.remove();
    let not_deleted: Vec<&str> = if options.dry_run {
        Vec::new()
    } else {
        ids(&to_delete)[deleted.len()..].to_vec()
    };
    let policy = &options.policy;
    let backups: Vec<serde_json::Value> = plan
        .groups
        .iter()
        .flat_map(|group| {
            group
                .verdicts
                .iter()
                .map(move |verdict| (&group.key, verdict))
        })
        .map(|(group, verdict)| {
            let reasons: Vec<String> = verdict.reasons.iter().map(ToString::to_string).collect();
            serde_json::json!({
                "id": verdict.backup.id,
                "group": group,
                "created": created(verdict.backup, options.utc, zone),
                "device_name": verdict.backup.device_name,
                "platform": verdict.backup.platform.to_string(),
                "action": if verdict.kept() { "keep" } else { "remove" },
                "reasons": reasons,
            })
        })
        .collect();
    let mut report = serde_json::json!({
        "policy": {
            "keep_last": policy.last,
            "keep_hourly": policy.hourly,
            "keep_daily": policy.daily,
            "keep_weekly": policy.weekly,
            "keep_monthly": policy.monthly,
            "keep_yearly": policy.yearly,
            "keep_within": policy.within.map(|within| within.to_string()),
        },
        "group_by": options.group_by.name(),
        "time_zone": if options.utc { "UTC" } else { "local" },
        // As before the other rules, for the scripts that read it.
        "keep_last": policy.last,
        "dry_run": options.dry_run,
        "backups": backups,
        "kept": ids(&plan.keep()),
        "to_delete": ids(&to_delete),
        "deleted": deleted,
        "not_deleted": not_deleted,
    });
    if let Some(error) = error {
        report["error"] = error.to_string().into();
    }
    report
}

/// `prune --keep-* [--group-by ...] [--utc] [--allow-empty] [--dry-run] [--yes]`.
pub(crate) async fn prune(
    client: &BackupsClient,
    options: Options,
    out: &mut impl Write,
) -> Result<(), Stop> {
    check(&options)?;
    let zone = zone(options.utc);
    let zone = zone.as_ref();
    let backups = client.list().await?;
    let plan = retention::plan(&backups, &options.policy, options.group_by, zone);
    let to_delete = plan.remove();
    let total = backups.iter().count();
    let keeping = keeping(&options, &plan);

    if !options.json {
        if to_delete.is_empty() {
            writeln!(
                out,
                "Nothing to prune: {total} backup{}, keeping {keeping}.",
                plural(total)
            )
            .ok();
        } else {
            let verb = if options.dry_run {
                "Would delete"
            } else {
                "Deleting"
            };
            writeln!(
                out,
                "{verb} {} of {total} backups, keeping {keeping}:",
                to_delete.len()
            )
            .ok();
        }
        if options.dry_run || !to_delete.is_empty() {
            write!(out, "{}", table(&options, &plan, zone)).ok();
        }
        out.flush().ok();
    }
    if options.dry_run || to_delete.is_empty() {
        if options.json {
            let report = json_report(&options, &plan, zone, &[], None);
            writeln!(out, "{}", output::json_line(&report)).ok();
        } else if options.dry_run && !to_delete.is_empty() {
            writeln!(out, "Dry run: nothing deleted.").ok();
        }
        return Ok(());
    }
    if !options.yes {
        confirm(to_delete.len())?;
    }

    let mut deleted: Vec<&str> = Vec::new();
    for backup in &to_delete {
        if let Err(err) = client.delete(*backup).await {
            let not_deleted = &ids(&to_delete)[deleted.len()..];
            if options.json {
                let report = json_report(&options, &plan, zone, &deleted, Some(&err));
                writeln!(out, "{}", output::json_line(&report)).ok();
            }
            return Err(Stop::Failed {
                exit: Exit::for_error(&err),
                message: failure_message(&deleted, not_deleted, &err),
            });
        }
        deleted.push(backup.id.as_str());
        if !options.json {
            writeln!(out, "Deleted backup {}", backup.id).ok();
            out.flush().ok();
        }
    }
    if options.json {
        let report = json_report(&options, &plan, zone, &deleted, None);
        writeln!(out, "{}", output::json_line(&report)).ok();
    } else {
        writeln!(
            out,
            "Pruned {} backup{}; kept {keeping}.",
            deleted.len(),
            plural(deleted.len()),
        )
        .ok();
    }
    Ok(())
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// Asks on the terminal before deleting `count` backups; refuses where there is none to ask on.
fn confirm(count: usize) -> Result<(), Stop> {
    if !ask::can_ask() {
        return Err(Stop::Failed {
            exit: Exit::Usage,
            message: format!(
                "not pruning: deleting {count} backup{} cannot be undone, and stdin is not a \
                 terminal to ask on; pass --yes to delete without asking, or --dry-run to only \
                 list them",
                plural(count)
            ),
        });
    }
    ask::yes_or_stop(
        &format!(
            "Delete {count} backup{}? This cannot be undone.",
            plural(count)
        ),
        "nothing deleted (answer y to delete, or pass --yes)".into(),
    )
}

#[cfg(test)]
mod tests {
    use backups_models::{Backup, BackupParts, GroupedTimestamp, Platform};
    use backups_proto::{Error, TimeoutKind};
    use time::macros::{datetime, offset};
    use time::{Duration, UtcOffset};

    use super::{Options, check, failure_message, table};
    use crate::exit::Exit;
    use crate::retention::{GroupBy, Policy, plan};
    use crate::stop::Stop;

    fn backup(id: &str, hours_ago: i64) -> Backup {
        Backup::from(BackupParts {
            id: id.to_owned(),
            bytes: 100u64.into(),
            created: GroupedTimestamp::new(
                datetime!(2025-11-26 21:00:00 UTC) - Duration::hours(hours_ago),
            ),
            device_name: "laptop".to_owned(),
            platform: Platform::Linux,
            timestamp: id.to_owned(),
            version: "12.0.0".to_owned(),
        })
    }

    fn options(policy: Policy) -> Options {
        Options {
            policy,
            group_by: GroupBy::Device,
            utc: false,
            allow_empty: false,
            dry_run: true,
            yes: false,
            json: false,
        }
    }

    fn last(count: u32) -> Policy {
        Policy {
            last: Some(count),
            ..Policy::default()
        }
    }

    #[test]
    fn keep_last_keeps_the_newest_whatever_the_listing_order() {
        let backups = [
            backup("b", 2),
            backup("d", 0),
            backup("a", 3),
            backup("c", 1),
        ];
        let plan = plan(&backups, &last(2), GroupBy::Device, &UtcOffset::UTC);
        let ids = |backups: Vec<&Backup>| backups.iter().map(|b| b.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(plan.keep()), ["d", "c"]);
        assert_eq!(ids(plan.remove()), ["a", "b"], "oldest first");
    }

    #[test]
    fn the_table_says_keep_or_remove_and_why_in_the_zones_time() {
        let backups = [backup("new", 0), backup("old", 30)];
        let options = options(Policy {
            daily: Some(1),
            ..Policy::default()
        });
        let zone = offset!(+2);
        let plan = plan(&backups, &options.policy, options.group_by, &zone);
        assert_eq!(
            table(&options, &plan, &zone),
            "\
ID   CREATED                     SIZE   DEVICE  PLATFORM  ACTION  REASONS
new  2025-11-26 23:00:00 +02:00  100 B  laptop  LINUX     keep    daily snapshot
old  2025-11-25 17:00:00 +02:00  100 B  laptop  LINUX     remove
"
        );
        let utc = Options {
            utc: true,
            ..options
        };
        assert!(table(&utc, &plan, &zone).contains("2025-11-26 21:00:00 UTC"));
    }

    #[test]
    fn no_rule_or_a_policy_that_keeps_nothing_is_a_usage_error() {
        let usage = |result: Result<(), Stop>| match result {
            Err(Stop::Failed { exit, message }) => {
                assert_eq!(exit, Exit::Usage);
                message
            }
            other => panic!("{other:?}"),
        };
        let none = usage(check(&options(Policy::default())));
        assert!(none.contains("--keep-within"), "{none}");
        let empty = usage(check(&options(last(0))));
        assert!(empty.contains("--allow-empty"), "{empty}");
        let allowed = Options {
            allow_empty: true,
            ..options(last(0))
        };
        assert!(check(&allowed).is_ok());
        assert!(check(&options(last(1))).is_ok());
    }

    #[test]
    fn a_failure_part_way_says_what_was_and_was_not_deleted() {
        let error = Error::timeout(TimeoutKind::Request);
        let message = failure_message(&["a"], &["b", "c"], &error);
        assert!(message.contains("deleting backup b failed"), "{message}");
        assert!(message.contains("deleted 1 of 3 (a)"), "{message}");
        assert!(message.contains("not deleted: b, c"), "{message}");
        assert!(message.contains("run the prune again"), "{message}");
        let first = failure_message(&[], &["a"], &error);
        assert!(first.contains("deleted 0 of 1 (none)"), "{first}");
    }
}
