//! Content-defined chunking in the store: what edits cost, and stores written by format 1.

mod common;

use std::os::unix::fs::PermissionsExt;

use backups_server::{restore_backup, verify_store};
use backups_testkit::{TempDirs, backup_json};
use common::{TestServer, disk_usage, file_objects, objects, pseudo_random, tree_contents};

const MIB: usize = 1024 * 1024;
/// The chunker's maximum chunk (`chunking::MAX_CHUNK`).
const MAX_CHUNK: u64 = 512 * 1024;

#[tokio::test]
async fn edits_in_a_big_file_add_only_the_chunks_around_them() {
    let t = TestServer::start().await;
    let huge = t.dirs.data().join("huge.bin");
    let mut content = pseudo_random(64 * MIB, 64);
    std::fs::write(&huge, &content).expect("write");
    t.create().await;
    let objects_dir = t.dirs.store().join("objects");
    let before = disk_usage(&objects_dir);

    // One byte changed in the middle: at most 1% of the file is added.
    content[32 * MIB + 12_345] ^= 0x5a;
    std::fs::write(&huge, &content).expect("write");
    let edited = t.create().await;
    let added = disk_usage(&objects_dir) - before;
    let limit = (64 * MIB / 100) as u64;
    assert!(
        added <= limit,
        "a one-byte edit added {added} bytes (limit {limit})"
    );
    eprintln!("one-byte edit of 64 MiB: {added} bytes added");

    // 1 MiB inserted at the start: about 1 MiB, plus the chunks around the seam.
    let before = disk_usage(&objects_dir);
    let mut inserted = pseudo_random(MIB, 65);
    inserted.extend_from_slice(&content);
    std::fs::write(&huge, &inserted).expect("write");
    let grown = t.create().await;
    let added = disk_usage(&objects_dir) - before;
    let limit = MIB as u64 + 2 * MAX_CHUNK;
    assert!(
        added <= limit,
        "a 1 MiB insert added {added} bytes (limit {limit})"
    );
    eprintln!("1 MiB inserted at the start of 64 MiB: {added} bytes added");

    // Every version comes back exactly.
    assert!(verify_store(t.dirs.store()).expect("verify").is_ok());
    let target = tempfile::tempdir().expect("target");
    for (backup, expected) in [(&edited, &content), (&grown, &inserted)] {
        let id = backup["id"].as_str().expect("id");
        let to = target.path().join(id);
        restore_backup(t.dirs.store(), id, &to).expect("restore");
        assert!(std::fs::read(to.join("huge.bin")).expect("read") == *expected);
    }
}

/// What format 1 wrote for a file: its size, mode and whole-file hash, its content one object.
fn format_1_file(store: &std::path::Path, path: &str, content: &[u8], mode: u32) -> String {
    let hash = blake3::hash(content).to_hex().to_string();
    let dir = store.join("objects").join(&hash[..2]);
    std::fs::create_dir_all(&dir).expect("fanout");
    std::fs::write(dir.join(&hash), content).expect("object");
    format!(
        r#"{{
      "kind": "file",
      "path": "{path}",
      "size": {},
      "mode": {mode},
      "blake3": "{hash}"
    }}"#,
        content.len()
    )
}

#[tokio::test]
async fn a_store_written_by_format_1_is_listed_restored_verified_and_collected() {
    // A store as format 1 left it, made by hand: one whole-file object per file, and the
    // manifest pretty-printed as format 1 wrote it.
    let dirs = TempDirs::new().expect("dirs");
    let store = dirs.store().to_path_buf();
    let old_id = "1764190800000-0000";
    let big = pseudo_random(2 * MIB + 3, 11);
    let entries = [
        r#"{
      "kind": "dir",
      "path": "sub",
      "mode": 493
    }"#
        .to_owned(),
        format_1_file(&store, "a.txt", b"alpha\n", 0o644),
        format_1_file(&store, "empty.bin", b"", 0o600),
        format_1_file(&store, "sub/big.bin", &big, 0o755),
        r#"{
      "kind": "symlink",
      "path": "link",
      "target": "sub/big.bin"
    }"#
        .to_owned(),
    ];
    std::fs::create_dir_all(store.join("backups")).expect("backups");
    std::fs::write(
        store.join("backups").join(format!("{old_id}.json")),
        format!(
            "{{\n  \"format\": 1,\n  \"backup\": {},\n  \"entries\": [\n    {}\n  ]\n}}",
            backup_json(old_id),
            entries.join(",\n    ")
        ),
    )
    .expect("manifest");
    let big_object = file_objects(&store, old_id, "sub/big.bin").remove(0);

    // verify and the restore subcommand read it.
    let report = verify_store(&store).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!((report.backups, report.objects), (1, 3));
    let target = tempfile::tempdir().expect("target");
    let to = target.path().join("restored");
    let summary = restore_backup(&store, old_id, &to).expect("restore");
    assert_eq!(summary.files, 3);
    assert_eq!(std::fs::read(to.join("sub/big.bin")).expect("big"), big);
    assert_eq!(std::fs::read(to.join("a.txt")).expect("a"), b"alpha\n");
    assert_eq!(std::fs::read(to.join("empty.bin")).expect("empty"), b"");
    let mode = |path: &str| {
        std::fs::metadata(to.join(path))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!((mode("sub/big.bin"), mode("empty.bin")), (0o755, 0o600));
    assert_eq!(
        std::fs::read_link(to.join("link")).expect("link"),
        std::path::Path::new("sub/big.bin")
    );

    // A server lists it and restores it over its data directory; nothing is collected at start.
    let (server, dirs) = dirs.start(|_| {}).await.expect("server").into_parts();
    let addr = server.local_addr();
    let t = TestServer { server, dirs, addr };
    assert_eq!(t.ids().await, vec![old_id.to_owned()]);
    assert!(big_object.is_file());
    let reply = t.post(&format!("/backup/{old_id}/restore"), &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(tree_contents(t.dirs.data()), tree_contents(&to));

    // A new backup of that data is chunked, and shares the small files' objects.
    let new_id = t.create().await["id"].as_str().expect("id").to_owned();
    assert_eq!(
        file_objects(&store, &new_id, "a.txt"),
        file_objects(&store, old_id, "a.txt")
    );
    assert!(file_objects(&store, &new_id, "sub/big.bin").len() > 1);

    // Deleting the old backup collects the whole-file object only it named.
    let reply = t.post(&format!("/backups/{old_id}/delete"), &[], b"").await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert!(!big_object.exists());
    let kept = objects(&store);
    for object in file_objects(&store, &new_id, "sub/big.bin")
        .iter()
        .chain(&file_objects(&store, &new_id, "a.txt"))
    {
        let name = object.file_name().expect("name").to_string_lossy();
        assert!(kept.contains(name.as_ref()), "{name} kept");
    }
    assert!(verify_store(&store).expect("verify").is_ok());
    let again = target.path().join("again");
    restore_backup(&store, &new_id, &again).expect("restore");
    assert_eq!(tree_contents(&again), tree_contents(&to));
}

#[test]
fn a_format_1_manifest_that_mixes_formats_is_refused_clearly() {
    let dirs = TempDirs::new().expect("dirs");
    let store = dirs.store();
    let id = "1764190800000-0001";
    std::fs::create_dir_all(store.join("backups")).expect("backups");
    std::fs::write(
        store.join("backups").join(format!("{id}.json")),
        format!(
            r#"{{"format": 1, "backup": {}, "entries": [{{"kind": "file", "path": "a", "size": 1, "mode": 420, "chunks": []}}]}}"#,
            backup_json(id)
        ),
    )
    .expect("manifest");
    let report = verify_store(store).expect("verify");
    assert_eq!(report.problems.len(), 1);
    assert!(
        report.problems[0]
            .detail
            .contains("format-1 file needs `blake3`"),
        "{}",
        report.problems[0]
    );
    let target = tempfile::tempdir().expect("target");
    let err = restore_backup(store, id, &target.path().join("x")).expect_err("refused");
    assert!(err.to_string().contains("format-1 file needs"), "{err}");
}
