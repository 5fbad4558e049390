//! Restoring into the data directory: the backup is written beside it and swapped in, so that a
//! crash at any moment leaves the whole old tree or the whole restored tree, never a mix.
//!
//! With `D` the data directory (its real path, symbolic links resolved), `S` =
//! `<parent>/.<name>.restore-<id>` and `O` = `<parent>/.<name>.old-<id>`, all on one file system:
//!
//! 1. the journal `<store>/restore.json` is written with phase `staging` and the three paths
//!    (temporary file, fsync, rename, fsync of the store directory);
//! 2. the backup is written into `S`, every file checked against its hash; then every file and
//!    directory of `S` and the parent directory are synced;
//! 3. **commit point**: the journal is rewritten, durably, with phase `swapping`;
//! 4. `D` is renamed to `O` and `S` to `D`, and the parent directory is synced;
//! 5. `O` is removed, then the journal.
//!
//! At the next start ([`recover`]), a journal in phase `staging` means the restore did not commit:
//! `S` is removed and `D` was never touched. A journal in phase `swapping` means it did: the swap
//! is finished from wherever it stopped (`S` still there: rename `D` to `O` if `D` exists, then `S`
//! to `D`; `S` gone: `D` already holds the restored tree), then `O` is removed. Either way the
//! journal goes last, so every leftover is named by a journal until it is gone. `D` itself is
//! renamed, so it must not be a mount point; a restore refuses one before writing anything.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::control::Control;
use crate::fsio::{remove_tree, rename, sync_dir};
use crate::manifest::Manifest;
use crate::restore::{RestoreSummary, write_tree};

/// The journal's file name in the store.
const JOURNAL: &str = "restore.json";

/// How far a restore got, as recorded in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Phase {
    /// Writing the new tree beside the data; the data is untouched.
    Staging,
    /// Committed: the new tree is complete and durable and replaces the data.
    Swapping,
}

/// The journal of the one restore in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Journal {
    phase: Phase,
    backup: String,
    data: PathBuf,
    staging: PathBuf,
    old: PathBuf,
}

/// A backup written and synced beside the data directory, waiting to be swapped in or abandoned.
#[derive(Debug)]
pub(crate) struct Staged {
    journal: Journal,
    store_root: PathBuf,
    summary: RestoreSummary,
}

/// Writes the backup of `manifest` beside `data_dir` and makes it durable (steps 1 and 2). On any
/// failure or cancel, what was written is removed again and the data directory is untouched.
pub(crate) fn stage(
    store_root: &Path,
    manifest: &Manifest,
    data_dir: &Path,
    control: &mut dyn Control,
) -> Result<Staged, StoreError> {
    let journal = plan(store_root, &manifest.backup.id, data_dir)?;
    write_journal(store_root, &journal)?;
    let staged = fs::create_dir(&journal.staging)
        .map_err(StoreError::io(|| {
            format!("create {}", journal.staging.display())
        }))
        .and_then(|()| copy_root_mode(&journal.data, &journal.staging))
        .and_then(|()| write_tree(store_root, manifest, &journal.staging, control))
        .and_then(|summary| {
            sync_dir(parent(&journal.data))
                .map(|()| summary)
                .map_err(StoreError::from)
        });
    match staged {
        Ok(summary) => Ok(Staged {
            journal,
            store_root: store_root.to_path_buf(),
            summary,
        }),
        Err(err) => {
            let _ = remove_tree(&journal.staging);
            let _ = remove_journal(store_root);
            Err(err)
        }
    }
}

impl Staged {
    /// Commits and swaps the new tree in (steps 3 to 5). Call only once the operation's
    /// [`Control::commit`] has succeeded.
    pub(crate) fn swap_in(mut self) -> Result<RestoreSummary, StoreError> {
        self.journal.phase = Phase::Swapping;
        write_journal(&self.store_root, &self.journal)?;
        finish_swap(&self.journal)?;
        remove_journal(&self.store_root)?;
        Ok(self.summary)
    }

    /// Gives the restore up before its commit point: the new tree and the journal are removed.
    pub(crate) fn abandon(self) -> Result<(), StoreError> {
        remove_tree(&self.journal.staging)?;
        remove_journal(&self.store_root)
    }
}

/// Finishes or rolls back a restore that a crash interrupted, as the journal says. Runs at every
/// start, under the store's lock.
pub(crate) fn recover(store_root: &Path) -> Result<(), StoreError> {
    let path = store_root.join(JOURNAL);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                context: format!("read {}", path.display()),
                source,
            });
        }
    };
    let journal: Journal =
        serde_json::from_slice(&bytes).map_err(|err| StoreError::RestoreJournal {
            path: path.clone(),
            reason: err.to_string(),
        })?;
    match journal.phase {
        Phase::Staging => remove_tree(&journal.staging)?,
        Phase::Swapping => finish_swap(&journal)?,
    }
    remove_journal(store_root)
}

/// Whether the store holds the journal of an interrupted restore (which the next start
/// finishes, possibly bringing the data directory back).
pub(crate) fn interrupted(store_root: &Path) -> bool {
    store_root.join(JOURNAL).is_file()
}

/// Where the staging and old trees of a restore of `id` into `data_dir` go, after checking that
/// the data directory can be swapped.
fn plan(store_root: &Path, id: &str, data_dir: &Path) -> Result<Journal, StoreError> {
    let refuse = |path: &Path, reason: &str| StoreError::RestoreTarget {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let data = fs::canonicalize(data_dir).map_err(|err| StoreError::DataDir {
        path: data_dir.to_path_buf(),
        reason: err.to_string(),
    })?;
    let (Some(parent), Some(name)) = (data.parent(), data.file_name()) else {
        return Err(refuse(
            &data,
            "it has no parent directory to stage the restore in",
        ));
    };
    if !data.is_dir() {
        return Err(refuse(&data, "not a directory"));
    }
    if fs::canonicalize(store_root).is_ok_and(|store| store.starts_with(&data)) {
        return Err(refuse(
            &data,
            "the store lies inside it; put the store outside the data directory",
        ));
    }
    if is_mount_point(&data, parent) {
        return Err(refuse(
            &data,
            "it is a mount point, and a restore swaps the directory itself in by renaming it; \
             point --data at a directory inside the mount",
        ));
    }
    let name = name.to_string_lossy();
    let staging = parent.join(format!(".{name}.restore-{id}"));
    let old = parent.join(format!(".{name}.old-{id}"));
    for leftover in [&staging, &old] {
        if fs::symlink_metadata(leftover).is_ok() {
            return Err(refuse(
                &data,
                &format!("{} is in the way; remove it", leftover.display()),
            ));
        }
    }
    Ok(Journal {
        phase: Phase::Staging,
        backup: id.to_owned(),
        data,
        staging,
        old,
    })
}

#[cfg(unix)]
fn is_mount_point(dir: &Path, parent: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(dir), fs::metadata(parent)) {
        (Ok(dir), Ok(parent)) => dir.dev() != parent.dev(),
        _ => false,
    }
}

/// Elsewhere a rename across volumes fails with its own error before anything is lost.
#[cfg(not(unix))]
fn is_mount_point(_dir: &Path, _parent: &Path) -> bool {
    false
}

/// Steps 4 and 5 up to the journal, from wherever a crash interrupted them.
fn finish_swap(journal: &Journal) -> Result<(), StoreError> {
    let exists = |path: &Path| fs::symlink_metadata(path).is_ok();
    if exists(&journal.staging) {
        if exists(&journal.data) {
            if exists(&journal.old) {
                return Err(StoreError::RestoreTarget {
                    path: journal.data.clone(),
                    reason: format!(
                        "an interrupted restore left both {} and {}; move one away by hand",
                        journal.staging.display(),
                        journal.old.display()
                    ),
                });
            }
            rename(&journal.data, &journal.old)?;
        }
        rename(&journal.staging, &journal.data)?;
        sync_dir(parent(&journal.data))?;
    } else if !exists(&journal.data) {
        return Err(StoreError::RestoreTarget {
            path: journal.data.clone(),
            reason: "an interrupted restore left neither the data directory nor its new tree"
                .into(),
        });
    }
    remove_tree(&journal.old)?;
    sync_dir(parent(&journal.data)).map_err(StoreError::from)
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("/"))
}

/// Writes the journal durably: temporary file, fsync, rename, fsync of the store directory.
fn write_journal(store_root: &Path, journal: &Journal) -> Result<(), StoreError> {
    let path = store_root.join(JOURNAL);
    // In `tmp/`, which every start empties.
    let tmp = store_root.join("tmp").join(format!("{JOURNAL}.tmp"));
    let json = serde_json::to_vec_pretty(journal).map_err(|err| StoreError::Io {
        context: "encode the restore journal".into(),
        source: io::Error::other(err),
    })?;
    fs::File::create(&tmp)
        .and_then(|mut file| {
            file.write_all(&json)?;
            file.sync_all()
        })
        .map_err(StoreError::io(|| format!("write {}", tmp.display())))?;
    rename(&tmp, &path)?;
    sync_dir(store_root).map_err(StoreError::from)
}

fn remove_journal(store_root: &Path) -> Result<(), StoreError> {
    let path = store_root.join(JOURNAL);
    match fs::remove_file(&path) {
        Ok(()) => sync_dir(store_root).map_err(StoreError::from),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io {
            context: format!("remove {}", path.display()),
            source,
        }),
    }
}

/// Gives the new tree the permissions of the data directory it replaces: the manifest records
/// what is inside the data directory, not the directory itself.
fn copy_root_mode(from: &Path, to: &Path) -> Result<(), StoreError> {
    let permissions = fs::metadata(from)
        .map_err(StoreError::io(|| format!("stat {}", from.display())))?
        .permissions();
    fs::set_permissions(to, permissions)
        .map_err(StoreError::io(|| format!("set mode of {}", to.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store with a journal in `phase`, and the data, staging and old trees present as asked,
    /// each holding one file that says which tree it is.
    fn crashed(phase: Phase, present: [bool; 3]) -> (tempfile::TempDir, Journal) {
        let root = tempfile::tempdir().expect("tempdir");
        let store = root.path().join("store");
        fs::create_dir_all(store.join("tmp")).expect("store");
        let journal = Journal {
            phase,
            backup: "b".into(),
            data: root.path().join("data"),
            staging: root.path().join(".data.restore-b"),
            old: root.path().join(".data.old-b"),
        };
        let trees = [
            (&journal.data, "old"),
            (&journal.staging, "new"),
            (&journal.old, "old"),
        ];
        for ((dir, content), present) in trees.into_iter().zip(present) {
            if present {
                fs::create_dir(dir).expect("mkdir");
                fs::write(dir.join("which"), content).expect("write");
            }
        }
        write_journal(&store, &journal).expect("journal");
        (root, journal)
    }

    fn after_recovery(root: &Path, journal: &Journal) -> String {
        recover(&root.join("store")).expect("recovers");
        assert!(!interrupted(&root.join("store")), "journal removed");
        assert!(
            !journal.staging.exists() && !journal.old.exists(),
            "no leftovers"
        );
        fs::read_to_string(journal.data.join("which")).expect("data")
    }

    #[test]
    fn an_uncommitted_restore_is_rolled_back() {
        for staging in [false, true] {
            let (root, journal) = crashed(Phase::Staging, [true, staging, false]);
            assert_eq!(after_recovery(root.path(), &journal), "old");
        }
    }

    #[test]
    fn a_committed_restore_is_finished_from_every_point_of_the_swap() {
        // Before the first rename; between the two; after both; after removing the old tree.
        for present in [
            [true, true, false],
            [false, true, true],
            [true, false, true],
            [true, false, false],
        ] {
            let (root, journal) = crashed(Phase::Swapping, present);
            if present == [true, false, true] || present == [true, false, false] {
                // The data directory already is the staged tree.
                fs::write(journal.data.join("which"), "new").expect("write");
            }
            assert_eq!(after_recovery(root.path(), &journal), "new", "{present:?}");
        }
    }

    #[test]
    fn an_unreadable_journal_stops_the_start() {
        let root = tempfile::tempdir().expect("tempdir");
        fs::write(root.path().join(JOURNAL), "{").expect("write");
        assert!(matches!(
            recover(root.path()),
            Err(StoreError::RestoreJournal { .. })
        ));
        assert!(interrupted(root.path()), "kept for a person to look at");
    }
}
