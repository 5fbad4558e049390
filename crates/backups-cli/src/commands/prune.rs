//! `prune --keep-last N`: deleting all but the newest backups, the retention job of a cron line.

use std::io::Write;

use backups_hyper::BackupsClient;
use backups_models::Backup;
use backups_proto::Error;

use crate::ask;
use crate::exit::Exit;
use crate::output;
use crate::stop::Stop;

/// What `prune` was asked to do, besides how many to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// How many of the newest backups to keep.
    pub(crate) keep_last: u64,
    /// `--dry-run`: list, delete nothing.
    pub(crate) dry_run: bool,
    /// `--yes`: delete without asking.
    pub(crate) yes: bool,
    /// `--json`: the plan and the result as one JSON object.
    pub(crate) json: bool,
}

/// Which backups stay and which go.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    /// The newest `keep_last`, newest first.
    pub(crate) keep: Vec<&'a Backup>,
    /// The rest, oldest first: the order they are deleted in, so that a prune stopped part-way
    /// has deleted the oldest.
    pub(crate) delete: Vec<&'a Backup>,
}

/// Keeps the `keep_last` newest backups by creation time (the id breaks a tie), whatever order
/// the server listed them in.
pub(crate) fn plan<'a>(backups: impl IntoIterator<Item = &'a Backup>, keep_last: u64) -> Plan<'a> {
    let mut newest_first: Vec<&Backup> = backups.into_iter().collect();
    newest_first.sort_by(|a, b| (b.created.value, &b.id).cmp(&(a.created.value, &a.id)));
    let keep_count = usize::try_from(keep_last).unwrap_or(usize::MAX);
    let delete = if newest_first.len() > keep_count {
        newest_first.split_off(keep_count)
    } else {
        Vec::new()
    };
    Plan {
        keep: newest_first,
        delete: delete.into_iter().rev().collect(),
    }
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

/// The plan and what became of it, as `--json` prints it.
fn json_report(
    options: Options,
    plan: &Plan<'_>,
    deleted: &[&str],
    error: Option<&Error>,
) -> serde_json::Value {
    let not_deleted: Vec<&str> = if options.dry_run {
        Vec::new()
    } else {
        ids(&plan.delete)[deleted.len()..].to_vec()
    };
    let mut report = serde_json::json!({
        "keep_last": options.keep_last,
        "dry_run": options.dry_run,
        "kept": ids(&plan.keep),
        "to_delete": ids(&plan.delete),
        "deleted": deleted,
        "not_deleted": not_deleted,
    });
    if let Some(error) = error {
        report["error"] = error.to_string().into();
    }
    report
}

/// `prune --keep-last N [--dry-run] [--yes]`.
pub(crate) async fn prune(
    client: &BackupsClient,
    options: Options,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let backups = client.list().await?;
    let plan = plan(&backups, options.keep_last);
    let total = plan.keep.len() + plan.delete.len();

    if !options.json {
        if plan.delete.is_empty() {
            writeln!(
                out,
                "Nothing to prune: {total} backup{}, keeping the newest {}.",
                plural(total),
                options.keep_last
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
                "{verb} {} of {total} backups, keeping the newest {}:",
                plan.delete.len(),
                plan.keep.len()
            )
            .ok();
            for backup in &plan.delete {
                writeln!(out, "  {}", output::summary(backup)).ok();
            }
        }
        out.flush().ok();
    }
    if options.dry_run || plan.delete.is_empty() {
        if options.json {
            let report = json_report(options, &plan, &[], None);
            writeln!(out, "{}", output::json_line(&report)).ok();
        } else if options.dry_run && !plan.delete.is_empty() {
            writeln!(out, "Dry run: nothing deleted.").ok();
        }
        return Ok(());
    }
    if !options.yes {
        confirm(plan.delete.len())?;
    }

    let mut deleted: Vec<&str> = Vec::new();
    for backup in &plan.delete {
        if let Err(err) = client.delete(*backup).await {
            let not_deleted = &ids(&plan.delete)[deleted.len()..];
            if options.json {
                let report = json_report(options, &plan, &deleted, Some(&err));
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
        let report = json_report(options, &plan, &deleted, None);
        writeln!(out, "{}", output::json_line(&report)).ok();
    } else {
        writeln!(
            out,
            "Pruned {} backup{}; kept the newest {}.",
            deleted.len(),
            plural(deleted.len()),
            plan.keep.len()
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
    use time::Duration;
    use time::macros::datetime;

    use super::{failure_message, plan};

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

    fn ids(backups: &[&Backup]) -> Vec<String> {
        backups.iter().map(|b| b.id.clone()).collect()
    }

    #[test]
    fn keeps_the_newest_by_creation_whatever_the_listing_order() {
        // Listed in no particular order.
        let backups = [
            backup("b", 2),
            backup("d", 0),
            backup("a", 3),
            backup("c", 1),
        ];
        let plan = plan(&backups, 2);
        assert_eq!(ids(&plan.keep), ["d", "c"]);
        assert_eq!(ids(&plan.delete), ["a", "b"], "oldest first");
    }

    #[test]
    fn keeping_as_many_as_there_are_or_more_deletes_nothing() {
        let backups = [backup("a", 1), backup("b", 0)];
        for keep_last in [2, 3, u64::MAX] {
            let plan = plan(&backups, keep_last);
            assert_eq!(ids(&plan.keep), ["b", "a"]);
            assert!(plan.delete.is_empty());
        }
        assert!(plan([], 1).delete.is_empty());
    }

    #[test]
    fn a_tie_in_creation_time_is_broken_by_id() {
        let backups = [backup("x1", 1), backup("x2", 1)];
        let plan = plan(&backups, 1);
        assert_eq!(ids(&plan.keep), ["x2"]);
        assert_eq!(ids(&plan.delete), ["x1"]);
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
