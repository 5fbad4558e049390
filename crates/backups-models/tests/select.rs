//! Selecting backups as people say it: by device, platform and dates, and the newest (`latest`).

use backups_models::time::OffsetDateTime;
use backups_models::time::macros::datetime;
use backups_models::{
    Backup, BackupParts, Backups, Filter, GroupedTimestamp, Pick, Platform, SelectError,
};

fn backup(id: &str, device: &str, platform: Platform, created: OffsetDateTime) -> Backup {
    Backup::from(BackupParts {
        id: id.to_owned(),
        bytes: 1u64.into(),
        created: GroupedTimestamp::new(created),
        device_name: device.to_owned(),
        platform,
        timestamp: created.unix_timestamp().to_string(),
        version: "1".to_owned(),
    })
}

/// Two machines over a year: an old Mac that stopped in March, a Linux laptop that goes on.
fn listing() -> Backups {
    Backups::new(vec![
        backup(
            "mac-1",
            "Old Mac",
            Platform::Macos,
            datetime!(2026-01-10 09:00 UTC),
        ),
        backup(
            "mac-2",
            "Old Mac",
            Platform::Macos,
            datetime!(2026-03-02 18:30 UTC),
        ),
        backup(
            "lin-1",
            "laptop",
            Platform::Linux,
            datetime!(2026-02-01 12:00 UTC),
        ),
        backup(
            "lin-2",
            "laptop",
            Platform::Linux,
            datetime!(2026-06-15 08:00 UTC),
        ),
        backup(
            "lin-3",
            "laptop",
            Platform::Linux,
            datetime!(2026-11-30 23:59 UTC),
        ),
    ])
}

fn ids<'a>(backups: impl Iterator<Item = &'a Backup>) -> Vec<&'a str> {
    backups.map(|backup| backup.id.as_str()).collect()
}

#[test]
fn latest_is_the_newest_by_creation_time_whatever_the_order() {
    let backups = listing();
    let pick = |filter: &Filter| backups.select(&Pick::Latest, filter).map(|b| b.id.as_str());
    assert_eq!(pick(&Filter::default()), Ok("lin-3"));
    // "the backup from my old Mac": device names compare without regard to case.
    assert_eq!(pick(&Filter::default().device("old mac")), Ok("mac-2"));
    assert_eq!(
        pick(&Filter::default().platform(Platform::Macos)),
        Ok("mac-2")
    );
    let before_june = Filter::default().until(datetime!(2026-06-01 00:00 UTC));
    assert_eq!(pick(&before_june), Ok("mac-2"));
}

#[test]
fn filters_narrow_the_listing_and_bounds_are_inclusive() {
    let backups = listing();
    let laptop = Filter::default().device("laptop");
    assert_eq!(ids(backups.filtered(&laptop)), ["lin-1", "lin-2", "lin-3"]);
    let window = Filter::default()
        .since(datetime!(2026-02-01 12:00 UTC))
        .until(datetime!(2026-06-15 08:00 UTC));
    assert_eq!(ids(backups.filtered(&window)), ["mac-2", "lin-1", "lin-2"]);
    assert!(Filter::default().is_empty());
    assert!(!window.is_empty());
}

#[test]
fn an_id_must_also_match_the_filter() {
    let backups = listing();
    let mac = Filter::default().platform(Platform::Macos);
    assert_eq!(
        backups
            .select(&Pick::Id("mac-1".into()), &mac)
            .map(|b| b.id.as_str()),
        Ok("mac-1")
    );
    let err = backups.select(&Pick::Id("lin-1".into()), &mac).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no backup matches: id \"lin-1\" with platform MACOS"
    );
    let err = backups
        .select(&Pick::Id("nope".into()), &Filter::default())
        .unwrap_err();
    assert_eq!(err.to_string(), "no backup matches: id \"nope\"");
}

#[test]
fn an_empty_selection_says_what_was_looked_for() {
    let backups = listing();
    let filter = Filter::default()
        .device("desktop")
        .platform(Platform::Windows);
    let err = backups.select(&Pick::Latest, &filter).unwrap_err();
    assert_eq!(
        err,
        SelectError::None {
            looked_for: "device \"desktop\", platform WINDOWS".into()
        }
    );
    let empty = Backups::new(Vec::new());
    assert_eq!(
        empty
            .select(&Pick::Latest, &Filter::default())
            .unwrap_err()
            .to_string(),
        "no backup matches: any backup"
    );
}

#[test]
fn two_newest_made_at_once_are_ambiguous() {
    let at = datetime!(2026-12-01 10:00 UTC);
    let backups = Backups::new(vec![
        backup("a", "laptop", Platform::Linux, at),
        backup("b", "desktop", Platform::Windows, at),
        backup(
            "c",
            "desktop",
            Platform::Windows,
            datetime!(2026-11-01 10:00 UTC),
        ),
    ]);
    let err = backups
        .select(&Pick::Latest, &Filter::default())
        .unwrap_err();
    assert_eq!(
        err,
        SelectError::Ambiguous {
            looked_for: "any backup".into(),
            ids: vec!["a".into(), "b".into()],
        }
    );
    assert!(err.to_string().contains("narrow"), "{err}");
    // A device settles it.
    let desktop = Filter::default().device("desktop");
    assert_eq!(
        backups
            .select(&Pick::Latest, &desktop)
            .map(|b| b.id.as_str()),
        Ok("b")
    );
}

#[test]
fn latest_is_read_in_any_case_and_anything_else_is_an_id() {
    assert_eq!(Pick::parse("latest"), Pick::Latest);
    assert_eq!(Pick::parse("LATEST"), Pick::Latest);
    assert_eq!(
        Pick::parse("1764190800000"),
        Pick::Id("1764190800000".into())
    );
}
