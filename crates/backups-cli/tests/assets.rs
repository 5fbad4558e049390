//! `backup-assets`: `POST /backup` and `POST /backup/asset` from the command line, against the
//! reference server, with the bodies the official Python SDK's models write
//! (`crates/backups-models/tests/fixtures/`).

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use backups_server::Fault;
use backups_testkit::TempDirs;

use common::{TestServer, assert_exit, cli, json_lines, stderr, stdout};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../backups-models/tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn without_a_file_nothing_is_sent_and_pieces_os_takes_the_request() {
    let server = TestServer::start(|_| {});
    let all = server.run(&["backup-assets"]);
    assert_exit(&all, 0);
    assert_eq!(stdout(&all).trim(), "Asked Pieces OS to back up its assets");
    let one = server.run(&["backup-assets", "--asset", "--json"]);
    assert_exit(&one, 0);
    assert_eq!(
        json_lines(&one)[0],
        serde_json::json!({"operation": "backup_asset", "asset": null})
    );
    // The reference server makes no backup of them.
    assert_eq!(stdout(&server.run(&["list"])).trim(), "No backups.");
}

#[test]
fn a_file_of_assets_or_of_one_asset_goes_to_its_operation() {
    let server = TestServer::start(|_| {});
    let assets = server.run(&[
        "backup-assets",
        &fixture("assets_unknown_fields.json"),
        "--json",
    ]);
    assert_exit(&assets, 0);
    assert_eq!(
        json_lines(&assets)[0],
        serde_json::json!({"operation": "backup_assets", "assets": ["asset-1", "asset-2"]})
    );
    let text = server.run(&["backup-assets", &fixture("assets.json")]);
    assert_exit(&text, 0);
    assert_eq!(stdout(&text).trim(), "Asked Pieces OS to back up 2 assets");

    let one = server.run(&["backup-assets", &fixture("asset_full.json")]);
    assert_exit(&one, 0);
    assert_eq!(
        stdout(&one).trim(),
        "Asked Pieces OS to back up asset asset-2"
    );

    // From stdin.
    let mut child = cli()
        .args(["--host", &server.url, "--json", "backup-assets", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let body = std::fs::read(fixture("asset_required.json")).unwrap();
    child.stdin.take().unwrap().write_all(&body).unwrap();
    let piped = child.wait_with_output().unwrap();
    assert_exit(&piped, 0);
    assert_eq!(json_lines(&piped)[0]["asset"], "asset-1");
}

#[test]
fn a_file_that_is_neither_is_a_usage_error_before_anything_is_sent() {
    // A server that would answer 511 to anything sent: exit 2, not 4, shows nothing was.
    let server = TestServer::start(|c| c.simulate = Some(Fault::Unauthenticated));
    let dirs = TempDirs::new().unwrap();
    let cases: [(&str, &str, &[&str], &str); 5] = [
        ("not-json.json", "{", &[], "is not JSON"),
        (
            "array.json",
            "[]",
            &[],
            "is not an Asset: expected a JSON object (Asset)",
        ),
        (
            "iterable.json",
            r#"{"iterable": [{"id": "a"}]}"#,
            &[],
            "is not an Assets: iterable[0].creator: expected this required field",
        ),
        (
            "forced.json",
            r#"{"iterable": []}"#,
            &["--asset"],
            "is not an Asset: id: expected this required field",
        ),
        ("missing.json", "", &[], "cannot read"),
    ];
    for (name, content, extra, message) in cases {
        let path = dirs.root().join(name);
        if !content.is_empty() {
            std::fs::write(&path, content).unwrap();
        }
        let path = path.to_string_lossy().into_owned();
        let mut args = vec!["backup-assets", path.as_str()];
        args.extend_from_slice(extra);
        let run = server.run(&args);
        assert_exit(&run, 2);
        assert!(stderr(&run).contains(message), "{name}: {}", stderr(&run));
    }
}

#[test]
fn the_documented_errors_have_their_exit_statuses() {
    for (fault, exit) in [(Fault::Unauthenticated, 4), (Fault::Outdated, 5)] {
        let server = TestServer::start(|c| c.simulate = Some(fault));
        assert_exit(&server.run(&["backup-assets"]), exit);
        let one = server.run(&["backup-assets", &fixture("asset_required.json")]);
        assert_exit(&one, exit);
    }
}
