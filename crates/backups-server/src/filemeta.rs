//! The per-file metadata cache: what lets a create skip reading files that did not change. This
//! module holds [`FileMeta`], what is compared, and why comparing it is safe; the cache built from
//! the newest backup is in `metacache.rs`.
//!
//! A manifest's file entry may carry the file's change time, modification time, inode and device
//! as seen just before its content was read. The next create compares them (and the size) with
//! what its walk sees; when all are equal it reuses the entry's chunk list without opening the
//! file, as git's index and restic's parent snapshot do.
//!
//! The ctime is what makes this safe: the kernel sets it to its own clock on every write, rename
//! or metadata change, and no call lets a program set it, so content cannot change without it
//! changing, except within one tick of the clock. That is the "racy" case: a file written again
//! within the timestamp granularity after it was read keeps the same times. So metadata is only
//! recorded when both times are clearly older than the moment the create looked at the file
//! ([`RACY_MARGIN`]); a file touched just before its read is recorded without metadata and read
//! again by the next create.

use std::fs::Metadata;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// How much older than the read both times must be to be trusted: more than the coarsest
/// timestamp granularity of common file systems (FAT's 2 s; ext4 and most others record
/// nanoseconds but tick with the kernel's coarse clock, a few ms) plus the lag of that coarse
/// clock behind the precise one the create reads.
pub(crate) const RACY_MARGIN: Duration = Duration::from_secs(2);

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileMeta {
    /// Modification time, nanoseconds since the Unix epoch.
    pub(crate) mtime_ns: i64,
    /// Status change time, nanoseconds since the Unix epoch: set by the kernel on any change.
    pub(crate) ctime_ns: i64,
    /// The inode number: a file replaced by another (rename over it) differs.
    pub(crate) ino: u64,
    /// The device of the file system holding it.
    pub(crate) dev: u64,
}

impl FileMeta {
    /// The metadata of a file as `stat` gives it; `None` where the platform has no ctime and
    /// inode (there every file is read every time).
    #[cfg(unix)]
    pub(crate) fn of(meta: &Metadata) -> Option<FileMeta> {
        use std::os::unix::fs::MetadataExt;
        let ns = |secs: i64, nanos: i64| secs.checked_mul(1_000_000_000)?.checked_add(nanos);
        Some(FileMeta {
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec())?,
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec())?,
            ino: meta.ino(),
            dev: meta.dev(),
        })
    }

    /// See the unix version: no cache here.
    #[cfg(not(unix))]
    pub(crate) fn of(_meta: &Metadata) -> Option<FileMeta> {
        None
    }

    /// Whether this metadata, taken at `looked` (just before the file's content was read), may be
    /// trusted by a later create: both times older than `looked` by [`RACY_MARGIN`]. A write
    /// after `looked` then gets a later ctime, so a later create that sees the same ctime knows
    /// the content it reads would be the content read now. A clock set backwards only makes
    /// fewer files trusted.
    pub(crate) fn settled_before(&self, looked: SystemTime) -> bool {
        let Some(limit) = looked
            .checked_sub(RACY_MARGIN)
            .and_then(|limit| limit.duration_since(UNIX_EPOCH).ok())
            .and_then(|limit| i64::try_from(limit.as_nanos()).ok())
        else {
            return false;
        };
        self.mtime_ns < limit && self.ctime_ns < limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settled_times_are_trusted() {
        let now = SystemTime::now();
        let ns = |t: SystemTime| {
            i64::try_from(t.duration_since(UNIX_EPOCH).expect("epoch").as_nanos()).expect("i64")
        };
        let old = ns(now - Duration::from_secs(60));
        let meta = |mtime_ns, ctime_ns| FileMeta {
            mtime_ns,
            ctime_ns,
            ino: 1,
            dev: 1,
        };
        assert!(meta(old, old).settled_before(now));
        // Written a moment before the read (or with a time in the future): read again next time.
        assert!(!meta(old, ns(now - Duration::from_millis(500))).settled_before(now));
        assert!(!meta(ns(now), old).settled_before(now));
        assert!(!meta(ns(now + Duration::from_secs(3600)), old).settled_before(now));
    }

    mod in_a_store {
        use std::collections::BTreeMap;
        use std::fs;
        use std::path::Path;
        use std::sync::atomic::Ordering;

        use std::time::{Duration, Instant};

        use super::super::{FileMeta, RACY_MARGIN};
        use crate::control::Unwatched;
        use crate::manifest::{Chunk, Entry, Manifest};
        use crate::origin::Origin;
        use crate::store::Store;
        use crate::temp::pseudo_random;

        /// A create of `data`: its manifest, and the bytes of file content it read.
        fn create(store: &Store, data: &Path) -> (Manifest, u64) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            let shared = runtime.block_on(store.share());
            let before = store.objects.content_read.load(Ordering::Relaxed);
            let backup = store
                .create(
                    &shared,
                    &store.next_id(),
                    data,
                    &Origin::this_server(),
                    &mut Unwatched,
                )
                .expect("create");
            let read = store.objects.content_read.load(Ordering::Relaxed) - before;
            (store.manifest(&backup.id).expect("manifest"), read)
        }

        type Files = BTreeMap<String, (Vec<Chunk>, Option<FileMeta>)>;

        fn files(manifest: &Manifest) -> Files {
            manifest
                .entries
                .iter()
                .filter_map(|entry| match entry {
                    Entry::File {
                        path, chunks, meta, ..
                    } => Some((path.clone(), (chunks.clone(), *meta))),
                    _ => None,
                })
                .collect()
        }

        #[test]
        fn unchanged_files_are_not_read_and_changed_or_racy_ones_are() {
            let store_dir = tempfile::tempdir().expect("store");
            let data = tempfile::tempdir().expect("data");
            let data = data.path();
            fs::create_dir(data.join("sub")).expect("mkdir");
            fs::write(data.join("a.txt"), "alpha\n").expect("write");
            fs::write(data.join("empty"), "").expect("write");
            fs::write(data.join("sub/big.bin"), pseudo_random(3 << 20, 1)).expect("write");
            fs::write(data.join("touched.bin"), pseudo_random(200_000, 2)).expect("write");
            let written = Instant::now();
            let store = Store::open(store_dir.path()).expect("open");

            // Just written: racy, so recorded without metadata, and read again next time. (Only
            // checked when the machine was quick enough for the files to be racy still.)
            let (first, read) = create(&store, data);
            let total = 6 + (3 << 20) + 200_000;
            assert_eq!(read, total);
            let (second, read) = create(&store, data);
            if written.elapsed() < RACY_MARGIN {
                assert!(files(&first).values().all(|(_, meta)| meta.is_none()));
                assert_eq!(read, total, "racy files are read again");
            }

            // Settled: the next create records metadata, and the one after reads nothing.
            std::thread::sleep(RACY_MARGIN + Duration::from_millis(100));
            let (third, _) = create(&store, data);
            assert!(files(&third).values().all(|(_, meta)| meta.is_some()));
            let (fourth, read) = create(&store, data);
            assert_eq!(read, 0, "an unchanged create reads no content");
            assert_eq!(
                files(&fourth),
                files(&third),
                "same chunk lists, same metadata"
            );
            let chunk_lists = |m: &Manifest| {
                files(m)
                    .into_iter()
                    .map(|(path, (chunks, _))| (path, chunks))
                    .collect::<BTreeMap<_, _>>()
            };
            assert_eq!(chunk_lists(&second), chunk_lists(&fourth));

            // New content of the same size, its mtime set back: the ctime still tells.
            let touched = data.join("touched.bin");
            let mtime = fs::metadata(&touched)
                .expect("meta")
                .modified()
                .expect("mtime");
            fs::write(&touched, pseudo_random(200_000, 3)).expect("write");
            let rewritten = Instant::now();
            fs::File::options()
                .write(true)
                .open(&touched)
                .and_then(|file| file.set_modified(mtime))
                .expect("set mtime");
            assert_eq!(
                fs::metadata(&touched)
                    .expect("meta")
                    .modified()
                    .expect("mtime"),
                mtime
            );
            let (fifth, read) = create(&store, data);
            assert_eq!(read, 200_000, "only the changed file is read");
            let after = files(&fifth);
            assert_ne!(after["touched.bin"].0, files(&fourth)["touched.bin"].0);
            if rewritten.elapsed() < RACY_MARGIN {
                assert!(after["touched.bin"].1.is_none(), "just written: racy again");
            }
            assert_eq!(after["sub/big.bin"], files(&fourth)["sub/big.bin"]);

            // A cached file whose chunk was removed by hand is read and stored again.
            let chunk = &after["sub/big.bin"].0[0];
            fs::remove_file(crate::layout::object_path(store_dir.path(), &chunk.blake3))
                .expect("remove");
            let (_, read) = create(&store, data);
            assert_eq!(read, 200_000 + (3 << 20));
            assert!(
                crate::verify::verify_store(store_dir.path())
                    .expect("verify")
                    .is_ok()
            );
        }
    }
}
