//! `prune`'s retention policies end to end, against a canned Pieces OS whose listing spreads
//! over devices, days and years (the reference server makes every backup now, on one device):
//! what the built binary keeps, deletes, prints and refuses.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Arc, Mutex};

use common::{assert_exit, cli, json_lines, stderr, stdout};
use serde_json::Value;

/// A Pieces OS that lists `backups` (as `(id, created, device, platform)`) and deletes any
/// backup but `failing`, whose delete answers 500. Remembers the ids it deleted, in order.
struct Canned {
    url: String,
    deleted: Arc<Mutex<Vec<String>>>,
}

fn backup_json(id: &str, created: &str, device: &str, platform: &str) -> String {
    format!(
        r#"{{"id":"{id}","bytes":2048,"created":{{"value":"{created}","readable":"{created}"}},"device_name":"{device}","platform":"{platform}","timestamp":"{id}","version":"12.0.0"}}"#
    )
}

impl Canned {
    fn start(backups: &[(&str, &str, &str, &str)], failing: Option<&str>) -> Self {
        let items: Vec<String> = backups
            .iter()
            .map(|(id, created, device, platform)| backup_json(id, created, device, platform))
            .collect();
        let listing = format!(r#"{{"iterable":[{}]}}"#, items.join(","));
        let failing = failing.map(|id| format!("/backups/{id}/delete"));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let deleted = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&deleted);
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                let Ok(socket) = socket else { return };
                let mut reader = BufReader::new(socket);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut length = 0usize;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    let lower = line.to_ascii_lowercase();
                    if let Some(value) = lower.strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).ok();
                let mut parts = request_line.split_whitespace();
                let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let (status, content_type, body) = match (method, path) {
                    ("GET", "/backups") => ("200 OK", "application/json", listing.clone()),
                    ("POST", path) if Some(path) == failing.as_deref() => (
                        "500 Internal Server Error",
                        "text/plain",
                        "store failure".to_owned(),
                    ),
                    ("POST", path) if path.ends_with("/delete") => {
                        let id = path
                            .trim_start_matches("/backups/")
                            .trim_end_matches("/delete");
                        record.lock().unwrap().push(id.to_owned());
                        ("204 No Content", "text/plain", String::new())
                    }
                    _ => ("404 Not Found", "text/plain", String::new()),
                };
                let mut socket = reader.into_inner();
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n",
                    body.len()
                );
                socket.write_all(head.as_bytes()).ok();
                socket.write_all(body.as_bytes()).ok();
            }
        });
        Self { url, deleted }
    }

    /// Runs `pieces-backups --host URL ARGS…` with the time zone `tz`.
    fn run(&self, tz: &str, args: &[&str]) -> std::process::Output {
        cli()
            .env("TZ", tz)
            .arg("--host")
            .arg(&self.url)
            .args(args)
            .output()
            .unwrap()
    }

    fn deleted(&self) -> Vec<String> {
        self.deleted.lock().unwrap().clone()
    }
}

/// A laptop backing up most days over two years, and a desktop now and then.
const FLEET: [(&str, &str, &str, &str); 9] = [
    ("l1", "2024-01-15T10:00:00Z", "laptop", "LINUX"),
    ("l2", "2024-12-31T23:30:00Z", "laptop", "LINUX"),
    ("l3", "2025-01-05T12:00:00Z", "laptop", "LINUX"),
    ("l4", "2025-03-10T10:00:00Z", "laptop", "LINUX"),
    ("l5", "2025-03-10T23:30:00Z", "laptop", "LINUX"),
    ("l6", "2025-03-11T21:00:00Z", "laptop", "LINUX"),
    ("d1", "2024-05-01T08:00:00Z", "desktop", "MACOS"),
    ("d2", "2024-11-20T08:00:00Z", "desktop", "MACOS"),
    ("d3", "2025-02-02T08:00:00Z", "desktop", "MACOS"),
];

/// The ids of `report`'s `field`.
fn id_list(report: &Value, field: &str) -> Vec<String> {
    let ids = report[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field}: {report}"));
    ids.iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn dry_run_prints_restics_table_per_device_and_deletes_nothing() {
    let server = Canned::start(&FLEET, None);
    let output = server.run(
        "UTC",
        &[
            "prune",
            "--keep-daily",
            "2",
            "--keep-last",
            "1",
            "--dry-run",
        ],
    );
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "Would delete 5 of 9 backups, keeping the newest 1 and 2 daily of each device:\n"
        ),
        "{text}"
    );
    let header = text.lines().nth(1).unwrap();
    for column in [
        "ID", "CREATED", "SIZE", "DEVICE", "PLATFORM", "ACTION", "REASONS",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let row = |id: &str| {
        let line = text
            .lines()
            .find(|line| line.starts_with(&format!("{id} ")));
        line.unwrap_or_else(|| panic!("no row for {id}: {text}"))
            .to_owned()
    };
    assert!(
        row("l6").ends_with("keep    last snapshot, daily snapshot"),
        "{}",
        row("l6")
    );
    assert!(
        row("l5").ends_with("keep    daily snapshot"),
        "{}",
        row("l5")
    );
    assert!(row("l4").ends_with("remove"), "{}", row("l4"));
    // The desktop keeps its own two, however old: the laptop does not push them out.
    assert!(
        row("d3").ends_with("keep    last snapshot, daily snapshot"),
        "{}",
        row("d3")
    );
    assert!(
        row("d2").ends_with("keep    daily snapshot"),
        "{}",
        row("d2")
    );
    assert!(row("d1").ends_with("remove"), "{}", row("d1"));
    assert!(
        row("l6").contains("2025-03-11 21:00:00 +00:00"),
        "{}",
        row("l6")
    );
    assert!(text.ends_with("Dry run: nothing deleted.\n"), "{text}");
    assert!(server.deleted().is_empty());
}

#[test]
fn days_are_cut_in_the_local_zone_unless_utc() {
    let server = Canned::start(&FLEET, None);
    let args = [
        "prune",
        "--keep-daily",
        "2",
        "--group-by",
        "none",
        "--dry-run",
        "--json",
    ];
    let kept = |tz: &str, extra: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(extra);
        let output = server.run(tz, &all);
        assert_exit(&output, 0);
        id_list(&json_lines(&output)[0], "kept")
    };
    // In UTC, l5 (23:30 on 10 March) and l6 (11 March) are two days.
    assert_eq!(kept("UTC", &[]), ["l6", "l5"]);
    // Two hours east they are both on 11 March: the second day is 10 March, l4.
    assert_eq!(kept("EET-2", &[]), ["l6", "l4"]);
    assert_eq!(kept("EET-2", &["--utc"]), ["l6", "l5"]);
}

#[test]
fn json_gives_the_plan_with_reasons_and_what_was_deleted() {
    let server = Canned::start(&FLEET, None);
    let output = server.run(
        "UTC",
        &[
            "prune",
            "--keep-yearly",
            "5",
            "--keep-within",
            "7d",
            "--yes",
            "--json",
        ],
    );
    assert_exit(&output, 0);
    let report = &json_lines(&output)[0];
    assert_eq!(report["policy"]["keep_yearly"], 5);
    assert_eq!(report["policy"]["keep_within"], "7d");
    assert_eq!(report["group_by"], "device");
    assert_eq!(report["dry_run"], false);
    // Laptop: l6 (2025's newest, and within 7d of itself), l5 and l4 (within 7d of l6), l2
    // (2024's newest). Desktop: d3 (2025), d2 (2024).
    assert_eq!(
        id_list(report, "kept"),
        ["l6", "l5", "l4", "d3", "l2", "d2"]
    );
    assert_eq!(id_list(report, "to_delete"), ["l1", "d1", "l3"]);
    assert_eq!(id_list(report, "deleted"), ["l1", "d1", "l3"]);
    assert_eq!(server.deleted(), ["l1", "d1", "l3"], "oldest first");
    let l6 = report["backups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|backup| backup["id"] == "l6")
        .unwrap();
    assert_eq!(l6["action"], "keep");
    assert_eq!(l6["group"], "laptop");
    assert_eq!(
        l6["reasons"],
        serde_json::json!(["within 7d", "yearly snapshot"])
    );
}

#[test]
fn a_failed_delete_stops_and_says_what_was_and_was_not_deleted() {
    let server = Canned::start(&FLEET, Some("l3"));
    let output = server.run("UTC", &["prune", "--keep-last", "2", "--yes"]);
    assert_exit(&output, 6);
    // Oldest first: l1, d1, l2 go, then l3 fails and l4 is not tried.
    assert_eq!(server.deleted(), ["l1", "d1", "l2"]);
    let message = stderr(&output);
    assert!(message.contains("deleting backup l3 failed"), "{message}");
    assert!(message.contains("deleted 3 of 5 (l1, d1, l2)"), "{message}");
    assert!(message.contains("not deleted: l3, l4"), "{message}");

    let json = Canned::start(&FLEET, Some("l1"));
    let output = json.run("UTC", &["prune", "--keep-last", "2", "--yes", "--json"]);
    assert_exit(&output, 6);
    let report = &json_lines(&output)[0];
    assert_eq!(id_list(report, "deleted"), Vec::<String>::new());
    assert_eq!(
        id_list(report, "not_deleted"),
        ["l1", "d1", "l2", "l3", "l4"]
    );
    assert!(report["error"].is_string(), "{report}");
}

#[test]
fn a_policy_that_keeps_nothing_needs_allow_empty() {
    let server = Canned::start(&FLEET, None);
    let refused = server.run("UTC", &["prune", "--keep-last", "0", "--yes"]);
    assert_exit(&refused, 2);
    assert!(
        stderr(&refused).contains("--allow-empty"),
        "{}",
        stderr(&refused)
    );
    assert!(server.deleted().is_empty());

    let allowed = server.run(
        "UTC",
        &[
            "prune",
            "--keep-daily",
            "0",
            "--allow-empty",
            "--yes",
            "--json",
        ],
    );
    assert_exit(&allowed, 0);
    assert_eq!(server.deleted().len(), FLEET.len());
}

#[test]
fn bad_policy_values_are_usage_errors_that_name_the_flag() {
    for (args, flag) in [
        (&["--keep-within", "3q"][..], "--keep-within"),
        (&["--keep-daily", "-1"], "--keep-daily"),
        (&["--keep-daily=-1"], "--keep-daily"),
        (&["--keep-weekly", "many"], "--keep-weekly"),
        (&["--keep-last", "1", "--group-by", "host"], "--group-by"),
    ] {
        let output = cli()
            .args(["--host", "http://127.0.0.1:9", "prune"])
            .args(args)
            .output()
            .unwrap();
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains(flag),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    // No rule at all, as restic refuses it.
    let none = cli()
        .args(["--host", "http://127.0.0.1:9", "prune", "--dry-run"])
        .output()
        .unwrap();
    assert_exit(&none, 2);
    assert!(stderr(&none).contains("--keep-last"), "{}", stderr(&none));
}
