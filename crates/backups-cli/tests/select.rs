//! Naming backups as people say it: `latest`, `--device`, `--platform`, and `list`'s filters.

mod common;

use common::{TestServer, assert_exit, json_lines, stderr, stdout};
use serde_json::Value;

/// Two backups, the second made after the first; their ids, and the device they were made on.
fn two_backups() -> (TestServer, String, String, String) {
    let server = TestServer::start(|_| {});
    let first = server.create();
    let second = server.create();
    let listed = server.run(&["list", "--json"]);
    let device = json_lines(&listed)[0]["iterable"][0]["device_name"]
        .as_str()
        .unwrap()
        .to_owned();
    (server, first, second, device)
}

fn listed_ids(output: &std::process::Output) -> Vec<String> {
    json_lines(output)[0]["iterable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|backup| backup["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn latest_names_the_newest_backup_in_every_command() {
    let (server, first, second, device) = two_backups();
    let shown = server.run(&["show", "latest", "--json"]);
    assert_exit(&shown, 0);
    assert_eq!(json_lines(&shown)[0]["id"], second.as_str());
    let of_device = server.run(&[
        "show",
        "LATEST",
        "--device",
        &device.to_uppercase(),
        "--json",
    ]);
    assert_exit(&of_device, 0);
    assert_eq!(json_lines(&of_device)[0]["id"], second.as_str());

    let status = server.run(&["status", "latest", "--json"]);
    assert_exit(&status, 0);
    assert_eq!(json_lines(&status)[0]["backup"]["id"], second.as_str());

    let restored = server.run(&["restore", "latest", "--yes", "--no-safety-backup", "--json"]);
    assert_exit(&restored, 0);
    assert_eq!(json_lines(&restored)[0]["restored"]["id"], second.as_str());

    let deleted = server.run(&["delete", "latest", "--json"]);
    assert_exit(&deleted, 0);
    assert_eq!(json_lines(&deleted)[0]["deleted"], second.as_str());
    // The newest is now the first.
    let shown = server.run(&["show", "latest", "--json"]);
    assert_eq!(json_lines(&shown)[0]["id"], first.as_str());
}

#[test]
fn an_empty_choice_exits_9_and_says_what_was_looked_for() {
    let (server, first, _, _) = two_backups();
    let output = server.run(&["show", "latest", "--device", "no-such-device"]);
    assert_exit(&output, 9);
    assert!(
        stderr(&output).contains("no backup matches: device \"no-such-device\""),
        "{}",
        stderr(&output)
    );
    // An id that is not of the platform asked for is no match either.
    let output = server.run(&["show", &first, "--platform", "windows"]);
    assert_exit(&output, 9);
    assert!(
        stderr(&output).contains("platform WINDOWS"),
        "{}",
        stderr(&output)
    );
    let output = server.run(&["show", "latest", "--platform", "beos"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("no platform"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn list_filters_by_device_platform_and_dates_in_text_and_json() {
    let (server, first, second, device) = two_backups();
    let all = server.run(&["list", "--json", "--device", &device]);
    assert_exit(&all, 0);
    assert_eq!(listed_ids(&all).len(), 2);
    assert!(listed_ids(&all).contains(&first) && listed_ids(&all).contains(&second));

    let none = server.run(&["list", "--json", "--device", "no-such-device"]);
    assert_exit(&none, 0);
    assert_eq!(json_lines(&none)[0]["iterable"], Value::Array(Vec::new()));

    let future = server.run(&["list", "--since", "2999-01-01"]);
    assert_exit(&future, 0);
    assert_eq!(stdout(&future).trim(), "No backups.");
    let past = server.run(&["list", "--json", "--until", "2000-01-01"]);
    assert_eq!(listed_ids(&past).len(), 0);
    let bad = server.run(&["list", "--since", "June"]);
    assert_exit(&bad, 2);
    assert!(stderr(&bad).contains("no date"), "{}", stderr(&bad));
}
