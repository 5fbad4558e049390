//! `restore`: writes a backup back out as a directory tree.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::StoreError;
use crate::control::{Canceled, Control, Tally, Unwatched};
use crate::fsio::{sync_dirs, sync_files};
use crate::hashing::hash_copy;
use crate::id::is_valid_id;
use crate::layout::{object_path, read_manifest};
use crate::manifest::{Chunk, Entry, Manifest, checked_chunks, safe_relative};
use crate::threads::on_threads;

/// What [`restore_backup`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoreSummary {
    /// Regular files written.
    pub files: usize,
    /// Directories created.
    pub dirs: usize,
    /// Symbolic links created.
    pub symlinks: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Writes backup `id` of the store at `store_dir` to `to`, which must not exist or be an empty
/// directory. Every chunk of every file is checked against its hash while it is written; a mismatch
/// stops the restore with [`StoreError::Corrupt`]. What is written is synced before it returns.
pub fn restore_backup(store_dir: &Path, id: &str, to: &Path) -> Result<RestoreSummary, StoreError> {
    let not_found = || StoreError::NotFound { id: id.to_owned() };
    if !is_valid_id(id) {
        return Err(not_found());
    }
    let manifest_path = store_dir.join("backups").join(format!("{id}.json"));
    if !manifest_path.is_file() {
        return Err(not_found());
    }
    let manifest = read_manifest(&manifest_path, id)?;
    match fs::read_dir(to) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(StoreError::TargetNotEmpty {
                    path: to.to_path_buf(),
                });
            }
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(to)
                .map_err(StoreError::io(|| format!("create {}", to.display())))?;
        }
        Err(_) => {
            return Err(StoreError::TargetNotEmpty {
                path: to.to_path_buf(),
            });
        }
    }
    write_tree(store_dir, &manifest, to, &mut Unwatched)
}

/// Writes the snapshot of `manifest` into `to`, an existing empty directory, and makes it
/// durable (files and directories synced). The one restore loop: the `restore` subcommand and
/// the server's restore both use it. `control` hears progress after every MiB and every entry
/// and may cancel, leaving a partial tree in `to` for the caller to remove.
pub(crate) fn write_tree(
    store_dir: &Path,
    manifest: &Manifest,
    to: &Path,
    control: &mut dyn Control,
) -> Result<RestoreSummary, StoreError> {
    let id = manifest.backup.id.as_str();
    let corrupt = |what: String| StoreError::Corrupt {
        id: id.to_owned(),
        what,
    };
    let total = manifest
        .entries
        .iter()
        .map(|entry| match entry {
            Entry::File { size, .. } => *size,
            _ => 0,
        })
        .sum();
    let mut tally = Tally::new(total, control);
    tally.add(0)?;
    let mut summary = RestoreSummary::default();
    let mut dir_modes = Vec::new();
    let mut files = Vec::new();
    for entry in &manifest.entries {
        let dest = safe_relative(to, entry.path())
            .ok_or_else(|| corrupt(format!("unsafe path {:?} in manifest", entry.path())))?;
        match entry {
            Entry::Dir { mode, .. } => {
                fs::create_dir_all(&dest)
                    .map_err(StoreError::io(|| format!("create {}", dest.display())))?;
                // Applied last, so that a read-only directory can still be filled.
                dir_modes.push((dest, *mode));
                summary.dirs += 1;
            }
            Entry::File {
                path,
                size,
                mode,
                chunks,
                ..
            } => {
                let chunks = checked_chunks(*size, chunks)
                    .map_err(|why| corrupt(format!("{path}: {why}")))?;
                create_parent(&dest)?;
                files.push(FileJob {
                    dest,
                    path,
                    mode: *mode,
                    chunks,
                });
            }
            Entry::Symlink { target, .. } => {
                create_parent(&dest)?;
                symlink(target, &dest)?;
                summary.symlinks += 1;
            }
        }
        tally.add(0)?;
    }
    summary.bytes = copy_files(store_dir, id, &files, &mut tally)?;
    summary.files = files.len();
    for (dir, mode) in dir_modes.iter().rev() {
        set_mode(dir, *mode)?;
    }
    let files: Vec<&Path> = files.iter().map(|job| job.dest.as_path()).collect();
    sync_files(to, &files)?;
    let mut dirs: Vec<&Path> = dir_modes.iter().map(|(dir, _)| dir.as_path()).collect();
    dirs.push(to);
    sync_dirs(to, &dirs)?;
    Ok(summary)
}

/// One file of a restore: where it goes and what the manifest says of it.
struct FileJob<'a> {
    dest: PathBuf,
    path: &'a str,
    mode: u32,
    /// Checked by [`checked_chunks`]: valid hashes, adding up to the file's size.
    chunks: &'a [Chunk],
}

/// Copies every file from its object, checked against its hash, on a few threads: copying and
/// hashing cost CPU (page cache to user space and back), and a restore should take about as
/// long as `cp -r`, which copies in the kernel. Returns the bytes written; the first error or
/// cancel stops every thread.
fn copy_files(
    store_dir: &Path,
    id: &str,
    files: &[FileJob<'_>],
    tally: &mut Tally<'_>,
) -> Result<u64, StoreError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_COPY_THREADS)
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let bytes = AtomicU64::new(0);
    let tally = Mutex::new(tally);
    let report = |n: u64| tally.lock().unwrap_or_else(PoisonError::into_inner).add(n);
    let worker = || -> Result<(), StoreError> {
        let mut buf = vec![0; 1024 * 1024];
        while !stop.load(Ordering::Relaxed) {
            let Some(job) = files.get(next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            let copied = copy_one(store_dir, id, job, &mut buf, &mut |n| report(n))
                .and_then(|n| report(0).map(|()| n).map_err(StoreError::from));
            match copied {
                Ok(n) => {
                    bytes.fetch_add(n, Ordering::Relaxed);
                }
                Err(err) => {
                    stop.store(true, Ordering::Relaxed);
                    return Err(err);
                }
            }
        }
        Ok(())
    };
    for result in on_threads(workers, "restore", &worker) {
        result?;
    }
    Ok(bytes.into_inner())
}

/// The most threads a restore copies with.
const MAX_COPY_THREADS: usize = 4;

/// Writes one file from its chunks, each checked against its hash and size as it is copied, so
/// every byte written is proven; returns its size.
fn copy_one(
    store_dir: &Path,
    id: &str,
    job: &FileJob<'_>,
    buf: &mut [u8],
    on_chunk: &mut dyn FnMut(u64) -> Result<(), Canceled>,
) -> Result<u64, StoreError> {
    let mut output = File::options()
        .write(true)
        .create_new(true)
        .open(&job.dest)
        .map_err(StoreError::io(|| format!("restore {}", job.dest.display())))?;
    let mut written = 0u64;
    for (i, chunk) in job.chunks.iter().enumerate() {
        let object = object_path(store_dir, &chunk.blake3);
        let mut input = File::open(&object).map_err(StoreError::io(|| {
            format!("restore {} (object {})", job.dest.display(), chunk.blake3)
        }))?;
        let (hash, len) = hash_copy(&mut input, &mut output, buf, on_chunk)
            .map_err(|err| err.into_store_error(&object, &job.dest))?;
        if hash != chunk.blake3 || len != chunk.size {
            drop(output);
            let _ = fs::remove_file(&job.dest);
            return Err(StoreError::Corrupt {
                id: id.to_owned(),
                what: format!(
                    "{}: content does not match its checksum (chunk {} of {}, object {})",
                    job.path,
                    i + 1,
                    job.chunks.len(),
                    chunk.blake3
                ),
            });
        }
        written += len;
    }
    drop(output);
    set_mode(&job.dest, job.mode)?;
    Ok(written)
}

fn create_parent(dest: &Path) -> Result<(), StoreError> {
    match dest.parent() {
        Some(parent) => fs::create_dir_all(parent)
            .map_err(StoreError::io(|| format!("create {}", parent.display()))),
        None => Ok(()),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(StoreError::io(|| format!("set mode of {}", path.display())))
}

#[cfg(not(unix))]
fn set_mode(path: &Path, mode: u32) -> Result<(), StoreError> {
    let mut permissions = fs::metadata(path)
        .map_err(StoreError::io(|| format!("stat {}", path.display())))?
        .permissions();
    permissions.set_readonly(mode & 0o200 == 0);
    fs::set_permissions(path, permissions)
        .map_err(StoreError::io(|| format!("set mode of {}", path.display())))
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) -> Result<(), StoreError> {
    std::os::unix::fs::symlink(target, link)
        .map_err(StoreError::io(|| format!("create link {}", link.display())))
}

/// Links are skipped where the platform cannot create them without privileges.
#[cfg(not(unix))]
fn symlink(_target: &str, _link: &Path) -> Result<(), StoreError> {
    Ok(())
}
