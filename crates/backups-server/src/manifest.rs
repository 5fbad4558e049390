//! The manifest: the record of one backup, kept beside the objects it names.
//!
//! A backup exists exactly when its manifest is in `backups/<id>.json`; the manifest is written
//! to a temporary file, synced, and renamed into place, so a reader sees all of it or nothing.

use std::path::{Component, Path, PathBuf};

use backups_models::Backup;
use serde::{Deserialize, Serialize};

/// The manifest format this version writes and reads.
pub(crate) const FORMAT: u32 = 1;

/// One backup: its API record and every entry of the snapshot, parents before children.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub(crate) format: u32,
    pub(crate) backup: Backup,
    pub(crate) entries: Vec<Entry>,
}

/// One entry of a snapshot. Paths are relative, `/`-separated and checked by [`safe_relative`]
/// before any use, so a tampered manifest cannot make a restore write outside its target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum Entry {
    /// A directory, kept so that empty ones come back on restore.
    Dir { path: String, mode: u32 },
    /// A regular file, stored as the object named by its BLAKE3 hash.
    File {
        path: String,
        size: u64,
        mode: u32,
        blake3: String,
    },
    /// A symbolic link, kept as a link (never followed).
    Symlink { path: String, target: String },
}

impl Entry {
    /// The entry's relative path.
    pub(crate) fn path(&self) -> &str {
        match self {
            Entry::Dir { path, .. } | Entry::File { path, .. } | Entry::Symlink { path, .. } => {
                path
            }
        }
    }
}

impl Manifest {
    /// The object hashes this backup needs.
    pub(crate) fn hashes(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|entry| match entry {
            Entry::File { blake3, .. } => Some(blake3.as_str()),
            _ => None,
        })
    }
}

/// `path` under `root`, if `path` is a plain relative path: no empty, `.` or `..` component, no
/// root, no drive prefix, no backslash and no NUL.
pub(crate) fn safe_relative(root: &Path, path: &str) -> Option<PathBuf> {
    if path.is_empty() || path.contains(['\\', '\0']) {
        return None;
    }
    let mut out = root.to_path_buf();
    for part in path.split('/') {
        let mut components = Path::new(part).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(name)), None) if name == part => out.push(name),
            _ => return None,
        }
    }
    Some(out)
}

/// Whether `hash` looks like a BLAKE3 hex digest, and so may name an object file.
pub(crate) fn is_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside() {
        let root = Path::new("/r");
        assert_eq!(safe_relative(root, "a/b"), Some(PathBuf::from("/r/a/b")));
        for bad in [
            "", "/a", "a//b", "a/../b", "..", ".", "./a", "a\\b", "a\0", "a/",
        ] {
            assert_eq!(safe_relative(root, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hashes_are_lower_hex() {
        assert!(is_hash(&"a".repeat(64)));
        assert!(!is_hash(&"A".repeat(64)));
        assert!(!is_hash("../../etc/passwd"));
    }
}
