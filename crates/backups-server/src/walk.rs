//! Walking the data directory: what a create snapshots, in order, with what the metadata cache
//! compares.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::StoreError;
use crate::filemeta::FileMeta;

/// One thing found in the data directory.
pub(crate) struct Walked {
    pub(crate) rel: String,
    pub(crate) abs: PathBuf,
    pub(crate) size: u64,
    /// For files: what the metadata cache compares.
    pub(crate) meta: Option<FileMeta>,
    pub(crate) kind: WalkKind,
}

pub(crate) enum WalkKind {
    Dir { mode: u32 },
    File { mode: u32 },
    Symlink { target: String },
}

/// Everything under `data_dir`, parents before children, names sorted; the store itself is
/// skipped when it lies inside the data directory. Sockets, FIFOs and devices are skipped.
pub(crate) fn walk(data_dir: &Path, store_root: &Path) -> Result<Vec<Walked>, StoreError> {
    let data_err = |reason: String| StoreError::DataDir {
        path: data_dir.to_path_buf(),
        reason,
    };
    let base = fs::canonicalize(data_dir).map_err(|err| data_err(err.to_string()))?;
    if !base.is_dir() {
        return Err(data_err("not a directory".into()));
    }
    let skip = fs::canonicalize(store_root).ok();
    let mut out = Vec::new();
    let mut pending = vec![(base.clone(), String::new())];
    while let Some((dir, rel_dir)) = pending.pop() {
        let mut names = Vec::new();
        for entry in
            fs::read_dir(&dir).map_err(StoreError::io(|| format!("read {}", dir.display())))?
        {
            let entry = entry.map_err(StoreError::io(|| format!("read {}", dir.display())))?;
            names.push(entry.file_name());
        }
        names.sort();
        let mut subdirs = Vec::new();
        for name in names {
            let abs = dir.join(&name);
            let Some(name) = name.to_str() else {
                return Err(StoreError::NonUtf8Path { path: abs });
            };
            let rel = if rel_dir.is_empty() {
                name.to_owned()
            } else {
                format!("{rel_dir}/{name}")
            };
            let meta = match fs::symlink_metadata(&abs) {
                Ok(meta) => meta,
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(StoreError::Io {
                        context: format!("stat {}", abs.display()),
                        source,
                    });
                }
            };
            let file_type = meta.file_type();
            if file_type.is_dir() {
                if skip.as_deref() == Some(abs.as_path()) {
                    continue;
                }
                out.push(Walked {
                    rel: rel.clone(),
                    abs: abs.clone(),
                    size: 0,
                    meta: None,
                    kind: WalkKind::Dir { mode: mode(&meta) },
                });
                subdirs.push((abs, rel));
            } else if file_type.is_file() {
                out.push(Walked {
                    rel,
                    abs,
                    size: meta.len(),
                    meta: FileMeta::of(&meta),
                    kind: WalkKind::File { mode: mode(&meta) },
                });
            } else if file_type.is_symlink() {
                let target = fs::read_link(&abs)
                    .map_err(StoreError::io(|| format!("read link {}", abs.display())))?;
                let Some(target) = target.to_str() else {
                    return Err(StoreError::NonUtf8Path { path: abs });
                };
                out.push(Walked {
                    rel,
                    abs,
                    size: 0,
                    meta: None,
                    kind: WalkKind::Symlink {
                        target: target.to_owned(),
                    },
                });
            }
        }
        // Reversed so that popping visits subdirectories in name order.
        pending.extend(subdirs.into_iter().rev());
    }
    Ok(out)
}

#[cfg(unix)]
fn mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode(meta: &fs::Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else if meta.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}
