//! The policy against a table of cases whose expected sets were worked out by hand from restic's
//! documented rules (each `--keep-X N` keeps the newest backup of each of the last N X-periods
//! that hold one; `--keep-within` keeps every backup within that duration of the newest), not
//! from this code. The weekday and ISO week of each date are noted beside it.

use backups_models::{Backup, BackupParts, GroupedTimestamp, Platform};
use time::macros::{datetime, offset};
use time::{OffsetDateTime, UtcOffset};

use super::policy::Reason;
use super::{GroupBy, Policy, Within, Zone, parse_count, parse_within, plan};

fn backup(id: &str, created: OffsetDateTime, device: &str, platform: Platform) -> Backup {
    Backup::from(BackupParts {
        id: id.to_owned(),
        bytes: 100u64.into(),
        created: GroupedTimestamp::new(created),
        device_name: device.to_owned(),
        platform,
        timestamp: id.to_owned(),
        version: "12.0.0".to_owned(),
    })
}

fn laptop(id: &str, created: OffsetDateTime) -> Backup {
    backup(id, created, "laptop", Platform::Linux)
}

/// One device's backups over two years, in no particular order.
fn two_years() -> Vec<Backup> {
    vec![
        laptop("a5", datetime!(2025-01-05 12:00 UTC)), // Sunday, 2025-W01
        laptop("a1", datetime!(2024-01-15 10:00 UTC)), // Monday, 2024-W03
        laptop("a10", datetime!(2025-03-11 21:00 UTC)), // Tuesday, 2025-W11
        laptop("a2", datetime!(2024-06-30 09:00 UTC)), // Sunday, 2024-W26
        laptop("a3", datetime!(2024-12-31 23:00 UTC)), // Tuesday, 2025-W01 (ISO)
        laptop("a4", datetime!(2025-01-01 08:00 UTC)), // Wednesday, 2025-W01
        laptop("a6", datetime!(2025-01-06 07:00 UTC)), // Monday, 2025-W02
        laptop("a7", datetime!(2025-03-10 10:00 UTC)), // Monday, 2025-W11
        laptop("a8", datetime!(2025-03-10 18:00 UTC)), // Monday, 2025-W11
        laptop("a9", datetime!(2025-03-11 09:00 UTC)), // Tuesday, 2025-W11
    ]
}

fn policy(edit: impl FnOnce(&mut Policy)) -> Policy {
    let mut policy = Policy::default();
    edit(&mut policy);
    policy
}

fn within(text: &str) -> Option<Within> {
    Some(parse_within(text).unwrap())
}

/// The ids `policy` keeps, sorted.
fn kept(backups: &[Backup], policy: &Policy, group_by: GroupBy, zone: &dyn Zone) -> Vec<String> {
    let plan = plan(backups, policy, group_by, zone);
    let mut ids: Vec<String> = plan.keep().iter().map(|b| b.id.clone()).collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

const UTC: UtcOffset = UtcOffset::UTC;

#[test]
fn each_rule_over_two_years_of_one_device() {
    let backups = two_years();
    let cases: [(&str, Policy, &[&str]); 16] = [
        ("last 2", policy(|p| p.last = Some(2)), &["a10", "a9"]),
        // 03-11 21h, 03-11 09h, 03-10 18h.
        (
            "hourly 3",
            policy(|p| p.hourly = Some(3)),
            &["a10", "a9", "a8"],
        ),
        // 03-11, 03-10, 01-06: the newest of each day.
        (
            "daily 3",
            policy(|p| p.daily = Some(3)),
            &["a10", "a8", "a6"],
        ),
        ("weekly 2", policy(|p| p.weekly = Some(2)), &["a10", "a6"]),
        // 31 December 2024 is in 2025-W01 with a4 and a5: a5 is that week's newest, and the
        // fourth week is 2024-W26.
        (
            "weekly 4",
            policy(|p| p.weekly = Some(4)),
            &["a10", "a6", "a5", "a2"],
        ),
        (
            "monthly 3",
            policy(|p| p.monthly = Some(3)),
            &["a10", "a6", "a3"],
        ),
        // Only two years hold a backup: a count beyond them keeps no more.
        ("yearly 5", policy(|p| p.yearly = Some(5)), &["a10", "a3"]),
        // From 2025-03-11 21:00: back to 03-09 21:00.
        (
            "within 2d",
            policy(|p| p.within = within("2d")),
            &["a10", "a9", "a8", "a7"],
        ),
        (
            "within 1d",
            policy(|p| p.within = within("1d")),
            &["a10", "a9"],
        ),
        // 03-10 21:00 less 12 hours: 03-10 09:00, before a7 (10:00).
        (
            "within 1d12h",
            policy(|p| p.within = within("1d12h")),
            &["a10", "a9", "a8", "a7"],
        ),
        // Back to 2025-01-11 21:00.
        (
            "within 2m",
            policy(|p| p.within = within("2m")),
            &["a10", "a9", "a8", "a7"],
        ),
        // Back to 2024-03-11 21:00: a1 (2024-01-15) is out.
        (
            "within 1y",
            policy(|p| p.within = within("1y")),
            &["a10", "a9", "a8", "a7", "a6", "a5", "a4", "a3", "a2"],
        ),
        // The rules add up: a10 (last, daily, monthly), a8 (daily), a6 (monthly).
        (
            "last 1, daily 2, monthly 2",
            policy(|p| {
                p.last = Some(1);
                p.daily = Some(2);
                p.monthly = Some(2);
            }),
            &["a10", "a8", "a6"],
        ),
        // A zero count keeps nothing by that rule.
        (
            "daily 0, weekly 2",
            policy(|p| {
                p.daily = Some(0);
                p.weekly = Some(2);
            }),
            &["a10", "a6"],
        ),
        ("last 0", policy(|p| p.last = Some(0)), &[]),
        ("within 0d", policy(|p| p.within = within("0d")), &[]),
    ];
    for (name, policy, expected) in cases {
        assert_eq!(
            kept(&backups, &policy, GroupBy::Device, &UTC),
            sorted(expected),
            "{name}"
        );
    }
}

#[test]
fn the_reasons_are_restics_in_its_order() {
    let backups = two_years();
    let policy = policy(|p| {
        p.last = Some(1);
        p.daily = Some(2);
        p.monthly = Some(2);
        p.within = within("7d");
    });
    let plan = plan(&backups, &policy, GroupBy::Device, &UTC);
    let reasons: Vec<(String, Vec<String>)> = plan.groups[0]
        .verdicts
        .iter()
        .map(|v| {
            let reasons = v.reasons.iter().map(ToString::to_string).collect();
            (v.backup.id.clone(), reasons)
        })
        .collect();
    let expect = |id: &str, reasons: &[&str]| {
        let reasons = reasons.iter().map(|r| (*r).to_owned()).collect();
        (id.to_owned(), reasons)
    };
    assert_eq!(
        reasons,
        [
            expect(
                "a10",
                &[
                    "within 7d",
                    "last snapshot",
                    "daily snapshot",
                    "monthly snapshot"
                ]
            ),
            expect("a9", &["within 7d"]),
            expect("a8", &["within 7d", "daily snapshot"]),
            expect("a7", &["within 7d"]),
            expect("a6", &["monthly snapshot"]),
            expect("a5", &[]),
            expect("a4", &[]),
            expect("a3", &[]),
            expect("a2", &[]),
            expect("a1", &[]),
        ]
    );
    assert_eq!(
        plan.remove()
            .iter()
            .map(|b| b.id.as_str())
            .collect::<Vec<_>>(),
        ["a1", "a2", "a3", "a4", "a5"],
        "removed oldest first"
    );
}

#[test]
fn keep_within_counts_months_on_the_calendar_as_restic_does() {
    // A month back from 31 March is "31 February", which Go's AddDate (and so restic) rolls
    // over to 3 March in 2025; the bound is inclusive.
    let backups = [
        laptop("newest", datetime!(2025-03-31 12:00 UTC)),
        laptop("on-the-bound", datetime!(2025-03-03 12:00 UTC)),
        laptop("a-day-before", datetime!(2025-03-02 13:00 UTC)),
    ];
    let policy = policy(|p| p.within = within("1m"));
    assert_eq!(
        kept(&backups, &policy, GroupBy::Device, &UTC),
        sorted(&["newest", "on-the-bound"])
    );
    // Further back than any date: everything is within.
    let policy = self::policy(|p| p.within = within("4000000000y"));
    assert_eq!(kept(&backups, &policy, GroupBy::Device, &UTC).len(), 3);
}

#[test]
fn a_tie_within_a_bucket_keeps_the_greater_id_whatever_the_listing_order() {
    let at = datetime!(2025-05-05 10:00 UTC);
    let tie = [laptop("t1", at), laptop("t2", at)];
    let reversed = [laptop("t2", at), laptop("t1", at)];
    let daily = policy(|p| p.daily = Some(1));
    for backups in [&tie, &reversed] {
        assert_eq!(kept(backups, &daily, GroupBy::Device, &UTC), ["t2"]);
    }
    // Each backup is its own period for --keep-last: both are kept.
    let last = policy(|p| p.last = Some(2));
    assert_eq!(kept(&tie, &last, GroupBy::Device, &UTC), ["t1", "t2"]);
}

#[test]
fn the_iso_week_of_31_december_2020_is_2020_w53_into_january() {
    let backups = [
        laptop("w1", datetime!(2020-12-28 09:00 UTC)), // Monday, 2020-W53
        laptop("w2", datetime!(2021-01-03 09:00 UTC)), // Sunday, still 2020-W53
        laptop("w3", datetime!(2021-01-04 09:00 UTC)), // Monday, 2021-W01
    ];
    let weekly = policy(|p| p.weekly = Some(3));
    assert_eq!(
        kept(&backups, &weekly, GroupBy::Device, &UTC),
        sorted(&["w3", "w2"])
    );
    // By calendar year the same dates fall in two years.
    let yearly = policy(|p| p.yearly = Some(3));
    assert_eq!(
        kept(&backups, &yearly, GroupBy::Device, &UTC),
        sorted(&["w3", "w1"])
    );
}

#[test]
fn days_and_years_are_cut_on_the_wall_clocks_of_the_zone() {
    let backups = [
        laptop("late", datetime!(2025-03-11 00:30 UTC)),
        laptop("early", datetime!(2025-03-10 23:30 UTC)),
        laptop("before", datetime!(2025-03-09 12:00 UTC)),
    ];
    let daily = policy(|p| p.daily = Some(2));
    for (zone, expected) in [
        // 03-11 and 03-10.
        (UTC, &["late", "early"]),
        // 03-11 02:30 and 01:30, the same day; then 03-09.
        (offset!(+2), &["late", "before"]),
        // 03-10 19:30 and 18:30, the same day; then 03-09.
        (offset!(-5), &["late", "before"]),
    ] {
        assert_eq!(
            kept(&backups, &daily, GroupBy::Device, &zone),
            sorted(expected),
            "{zone}"
        );
    }

    // 2024-12-31 23:30 UTC is in 2025 an hour east of UTC.
    let backups = [
        laptop("new-year", datetime!(2024-12-31 23:30 UTC)),
        laptop("june", datetime!(2024-06-01 12:00 UTC)),
    ];
    let yearly = policy(|p| p.yearly = Some(2));
    assert_eq!(kept(&backups, &yearly, GroupBy::Device, &UTC), ["new-year"]);
    assert_eq!(
        kept(&backups, &yearly, GroupBy::Device, &offset!(+1)),
        sorted(&["new-year", "june"])
    );
}

/// Central European time: UTC+1, and UTC+2 from 30 March 2025 01:00 UTC to 26 October 2025
/// 01:00 UTC.
struct Berlin2025;

impl Zone for Berlin2025 {
    fn offset_at(&self, instant: OffsetDateTime) -> UtcOffset {
        let summer = datetime!(2025-03-30 01:00 UTC)..datetime!(2025-10-26 01:00 UTC);
        if summer.contains(&instant) {
            offset!(+2)
        } else {
            offset!(+1)
        }
    }
}

#[test]
fn summer_time_moves_the_day_boundary_by_the_offset_of_each_backup() {
    let backups = [
        // 2025-03-31 00:30 in summer time (+2).
        laptop("monday", datetime!(2025-03-30 22:30 UTC)),
        // 2025-03-30 00:30 in winter time (+1).
        laptop("sunday", datetime!(2025-03-29 23:30 UTC)),
    ];
    let daily = policy(|p| p.daily = Some(2));
    assert_eq!(
        kept(&backups, &daily, GroupBy::Device, &Berlin2025),
        sorted(&["monday", "sunday"])
    );
    // At a fixed +1 both are on 30 March.
    assert_eq!(
        kept(&backups, &daily, GroupBy::Device, &offset!(+1)),
        ["monday"]
    );
}

/// A laptop backing up daily, a second laptop (same platform) and a desktop weekly.
fn three_devices() -> Vec<Backup> {
    let mut backups = Vec::new();
    for day in 1..=6u8 {
        let at = datetime!(2025-06-01 12:00 UTC).replace_day(day).unwrap();
        backups.push(laptop(&format!("l{day}"), at));
    }
    let desktop = |id: &str, at| backup(id, at, "desktop", Platform::Macos);
    backups.push(desktop("d1", datetime!(2025-05-18 08:00 UTC)));
    backups.push(desktop("d2", datetime!(2025-05-25 08:00 UTC)));
    let other = |id: &str, at| backup(id, at, "laptop2", Platform::Linux);
    backups.push(other("o1", datetime!(2025-05-20 08:00 UTC)));
    backups
}

#[test]
fn the_policy_applies_to_each_device_on_its_own_by_default() {
    let backups = three_devices();
    let last = policy(|p| p.last = Some(2));
    assert_eq!(
        kept(&backups, &last, GroupBy::Device, &UTC),
        sorted(&["l6", "l5", "d2", "d1", "o1"])
    );
    // The two Linux laptops share a group: o1 is older than l5.
    assert_eq!(
        kept(&backups, &last, GroupBy::Platform, &UTC),
        sorted(&["l6", "l5", "d2", "d1"])
    );
    assert_eq!(
        kept(&backups, &last, GroupBy::None, &UTC),
        sorted(&["l6", "l5"])
    );
    // keep-within reaches back from each group's newest backup.
    let within = policy(|p| p.within = within("1d"));
    assert_eq!(
        kept(&backups, &within, GroupBy::Device, &UTC),
        sorted(&["l6", "l5", "d2", "o1"])
    );
    let plan = plan(&backups, &within, GroupBy::Device, &UTC);
    let keys: Vec<&str> = plan.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["desktop", "laptop", "laptop2"]);
}

#[test]
fn a_policy_of_zeros_keeps_nothing_and_says_so() {
    let zeros = policy(|p| {
        p.last = Some(0);
        p.within = within("0h");
    });
    assert!(zeros.is_given());
    assert!(zeros.keeps_nothing());
    assert_eq!(zeros.to_string(), "nothing");
    assert!(kept(&two_years(), &zeros, GroupBy::Device, &UTC).is_empty());
    assert!(!Policy::default().is_given());
    assert!(!policy(|p| p.yearly = Some(1)).keeps_nothing());
    assert!(plan(&[], &zeros, GroupBy::Device, &UTC).groups.is_empty());
}

#[test]
fn a_policy_in_words() {
    assert_eq!(policy(|p| p.last = Some(5)).to_string(), "the newest 5");
    let many = policy(|p| {
        p.last = Some(3);
        p.daily = Some(7);
        p.weekly = Some(4);
        p.within = within("2y5m7d3h");
    });
    assert_eq!(
        many.to_string(),
        "the newest 3, 7 daily, 4 weekly and all within 2y5m7d3h"
    );
    assert_eq!(
        Reason::Within(parse_within("7d").unwrap()).to_string(),
        "within 7d"
    );
    assert_eq!(Reason::Hourly.to_string(), "hourly snapshot");
}

#[test]
fn durations_read_as_restic_writes_them() {
    let full = parse_within("2y5m7d3h").unwrap();
    assert_eq!(
        (full.years, full.months, full.days, full.hours),
        (2, 5, 7, 3)
    );
    assert_eq!(parse_within("36h").unwrap().to_string(), "36h");
    assert_eq!(parse_within("3h1d").unwrap().to_string(), "1d3h");
    for bad in [
        "3q",
        "",
        "7",
        "d",
        "1d1d",
        "-1d",
        "99999999999d",
        "1.5d",
        "1 d",
    ] {
        assert!(parse_within(bad).is_err(), "{bad:?}");
    }
    assert!(parse_within("3q").unwrap_err().contains("'q'"));
}

#[test]
fn counts_are_whole_numbers_of_zero_or_more() {
    assert_eq!(parse_count("0"), Ok(0));
    assert_eq!(parse_count("7"), Ok(7));
    assert!(parse_count("-1").unwrap_err().contains("negative"));
    for bad in ["", "x", "1.5", "+", "4294967296"] {
        assert!(parse_count(bad).is_err(), "{bad:?}");
    }
}
