//! The file system helpers of the store, its restores and its crash recovery: renames, syncs
//! (of files, directories, and on Linux of a whole file system), exclusive creation, directory
//! listing, emptying and removing trees. It depends on no other module of the crate: a failure
//! is an [`FsError`], which names what was being done and becomes a `StoreError::Io`.

use std::fs::{self, File};
use std::io;
use std::path::Path;

/// A file system operation that failed: what was being done, naming the path, and why. Turned
/// into `StoreError::Io` with the same two parts by `?`.
#[derive(Debug)]
pub(crate) struct FsError {
    /// What was being done, naming the path.
    pub(crate) context: String,
    /// The underlying error.
    pub(crate) source: io::Error,
}

impl FsError {
    /// An IO error with a description of what was being done.
    pub(crate) fn io(context: impl FnOnce() -> String) -> impl FnOnce(io::Error) -> FsError {
        move |source| FsError {
            context: context(),
            source,
        }
    }
}

/// The UTF-8 names in a directory (others cannot be ours).
pub(crate) fn read_dir_names(dir: &Path) -> Result<Vec<String>, FsError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(FsError::io(|| format!("read {}", dir.display())))? {
        let entry = entry.map_err(FsError::io(|| format!("read {}", dir.display())))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Removes everything in a directory, leaving it empty.
pub(crate) fn empty_dir(dir: &Path) -> Result<(), FsError> {
    for entry in fs::read_dir(dir).map_err(FsError::io(|| format!("read {}", dir.display())))? {
        let entry = entry.map_err(FsError::io(|| format!("read {}", dir.display())))?;
        let path = entry.path();
        let result = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        result.map_err(FsError::io(|| format!("remove {}", path.display())))?;
    }
    Ok(())
}

/// Creates a new file for writing; fails if it exists.
pub(crate) fn create_new(path: &Path) -> Result<File, FsError> {
    File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(FsError::io(|| format!("create {}", path.display())))
}

/// Renames `from` to `to`.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<(), FsError> {
    fs::rename(from, to).map_err(FsError::io(|| {
        format!("rename {} to {}", from.display(), to.display())
    }))
}

/// Makes the content of these files, all on the file system of `root`, durable. On Linux one `syncfs` of the
/// store's file system does it for any number of files.
#[cfg(target_os = "linux")]
pub(crate) fn sync_files(root: &Path, _files: &[&Path]) -> Result<(), FsError> {
    syncfs(root)
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn sync_files(_root: &Path, files: &[&Path]) -> Result<(), FsError> {
    for file in files {
        File::options()
            .write(true)
            .open(file)
            .and_then(|file| file.sync_data())
            .map_err(FsError::io(|| format!("sync {}", file.display())))?;
    }
    Ok(())
}

/// Makes the entries of these directories, all on the file system of `root`, durable.
#[cfg(target_os = "linux")]
pub(crate) fn sync_dirs(root: &Path, _dirs: &[&Path]) -> Result<(), FsError> {
    syncfs(root)
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn sync_dirs(_root: &Path, dirs: &[&Path]) -> Result<(), FsError> {
    for dir in dirs {
        sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn syncfs(root: &Path) -> Result<(), FsError> {
    let dir = File::open(root).map_err(FsError::io(|| format!("open {}", root.display())))?;
    rustix::fs::syncfs(&dir)
        .map_err(io::Error::from)
        .map_err(FsError::io(|| {
            format!("sync the file system of {}", root.display())
        }))
}

/// Makes a directory's entries (new names, renames) durable.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> Result<(), FsError> {
    File::open(dir)
        .and_then(|file| file.sync_all())
        .map_err(FsError::io(|| format!("sync {}", dir.display())))
}

/// Directories cannot be opened for syncing here; renames are made durable by the OS.
#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> Result<(), FsError> {
    Ok(())
}

/// Removes a tree if it exists, read-only directories included (a restored backup may hold some).
pub(crate) fn remove_tree(path: &Path) -> Result<(), FsError> {
    let result = match fs::remove_dir_all(path) {
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {
            make_writable(path);
            fs::remove_dir_all(path)
        }
        other => other,
    };
    match result {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(FsError {
            context: format!("remove {}", path.display()),
            source,
        }),
    }
}

/// Makes every directory under `path` writable by its owner, so its entries can be removed.
fn make_writable(path: &Path) {
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(meta) = fs::symlink_metadata(&dir) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        let mut permissions = meta.permissions();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            permissions.set_mode(permissions.mode() | 0o700);
        }
        #[cfg(not(unix))]
        permissions.set_readonly(false);
        let _ = fs::set_permissions(&dir, permissions);
        if let Ok(entries) = fs::read_dir(&dir) {
            pending.extend(entries.flatten().map(|entry| entry.path()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_trees_are_removed() {
        let root = tempfile::tempdir().expect("tempdir");
        let tree = root.path().join("t");
        fs::create_dir_all(tree.join("ro/inner")).expect("mkdir");
        fs::write(tree.join("ro/inner/f"), "x").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for dir in ["ro/inner", "ro"] {
                fs::set_permissions(tree.join(dir), fs::Permissions::from_mode(0o555))
                    .expect("chmod");
            }
        }
        remove_tree(&tree).expect("removed");
        assert!(!tree.exists());
        remove_tree(&tree).expect("absent is fine");
    }
}
