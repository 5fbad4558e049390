//! The small data directory the listing benches back up: what a create costs is not what they
//! measure, so three tiny files do. Included by path (`#[path]`) from `python_compare.rs` and
//! `serve_compare.rs`.

use backups_server::temp::TempDirs;

/// Fresh temporary directories whose data directory holds three small files, one nested.
pub(crate) fn sample_dirs() -> TempDirs {
    let dirs = TempDirs::new().expect("temporary directories");
    for (path, contents) in [
        ("db.sqlite", &b"database"[..]),
        ("nested/settings.json", b"{\"theme\": \"dark\"}"),
        ("notes.txt", b"hello"),
    ] {
        dirs.write_file(path, contents).expect("data file");
    }
    dirs
}
