//! `verify`: checks every backup in a store against the checksums kept with it.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io;
use std::path::Path;

use crate::StoreError;
use crate::hashing::hash_stream;
use crate::layout::{manifest_files, object_path, read_manifest};
use crate::manifest::{Entry, is_hash, safe_relative};

/// What [`verify_store`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The backups checked (readable or not).
    pub backups: usize,
    /// The distinct objects (chunks) checked.
    pub objects: usize,
    /// The bytes hashed.
    pub bytes: u64,
    /// Every problem found; empty when the store is sound.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Whether no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One thing wrong with one backup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The backup concerned.
    pub backup: String,
    /// The file in the backup concerned, if any.
    pub path: Option<String>,
    /// What is wrong.
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "backup {}: {path}: {}", self.backup, self.detail),
            None => write!(f, "backup {}: {}", self.backup, self.detail),
        }
    }
}

/// Checks every backup of the store at `store_dir`: each manifest must be readable, each path
/// in it safe, and every chunk of every file present with the recorded size and BLAKE3 hash (and
/// the chunks' sizes must add up to the file's). A format-1 backup's files are checked as
/// one-chunk files.
///
/// It only reads, takes no lock, and may run beside a server; a backup deleted while it runs
/// may then be reported as missing objects.
pub fn verify_store(store_dir: &Path) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    // Each object is hashed once however many backups share it: hash -> (size, error).
    let mut seen: HashMap<String, Result<u64, String>> = HashMap::new();
    for (id, manifest_path) in manifest_files(store_dir)? {
        report.backups += 1;
        let manifest = match read_manifest(&manifest_path, &id) {
            Ok(manifest) => manifest,
            Err(err) => {
                report.problems.push(Problem {
                    backup: id,
                    path: None,
                    detail: err.to_string(),
                });
                continue;
            }
        };
        let mut problem = |path: &str, detail: String| {
            report.problems.push(Problem {
                backup: id.clone(),
                path: Some(path.to_owned()),
                detail,
            });
        };
        for entry in &manifest.entries {
            if safe_relative(Path::new(""), entry.path()).is_none() {
                problem(entry.path(), "unsafe path in manifest".into());
                continue;
            }
            let Entry::File {
                path, size, chunks, ..
            } = entry
            else {
                continue;
            };
            let count = chunks.len();
            let mut total = 0u64;
            for (i, chunk) in chunks.iter().enumerate() {
                total = total.saturating_add(chunk.size);
                let which = format!("chunk {} of {count}", i + 1);
                let hash = &chunk.blake3;
                if !is_hash(hash) {
                    problem(path, format!("{which}: invalid hash {hash:?}"));
                    continue;
                }
                let checked = seen.entry(hash.clone()).or_insert_with(|| {
                    match hash_file(&object_path(store_dir, hash)) {
                        Ok((actual, read)) if actual == *hash => Ok(read),
                        Ok((actual, _)) => Err(format!("object {hash} has hash {actual}")),
                        Err(err) if err.kind() == io::ErrorKind::NotFound => {
                            Err(format!("object {hash} is missing"))
                        }
                        Err(err) => Err(format!("object {hash}: {err}")),
                    }
                });
                match checked {
                    Ok(read) if *read == chunk.size => {}
                    Ok(read) => problem(
                        path,
                        format!(
                            "{which}: object {hash} has {read} bytes, manifest says {}",
                            chunk.size
                        ),
                    ),
                    Err(detail) => problem(path, format!("{which}: {detail}")),
                }
            }
            if total != *size {
                problem(
                    path,
                    format!("chunks add up to {total} bytes, manifest says {size}"),
                );
            }
        }
    }
    report.objects = seen.len();
    report.bytes = seen.values().filter_map(|r| r.as_ref().ok()).sum();
    Ok(report)
}

/// The BLAKE3 hash of a file and its length.
pub(crate) fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut buf = vec![0; 1024 * 1024];
    Ok(hash_stream(&mut file, &mut buf, &mut |_| Ok(()))?)
}
