//! The manifest: the record of one backup, kept beside the objects it names.
//!
//! A backup exists exactly when its manifest is in `backups/<id>.json`; the manifest is written
//! to a temporary file, synced, and renamed into place, so a reader sees all of it or nothing.
//!
//! Format 2 (written now) lists each file's content as chunks, in order, each an object named by
//! its BLAKE3 hash, with its size; a file entry may carry the metadata the next create compares
//! (see [`crate::filemeta`]). Format 1 (written before content-defined chunking) named one
//! whole-file object per file (`blake3`); such a manifest is still read, and each of its files is
//! turned into a one-chunk file on reading, so listing, restore, verify and garbage collection
//! need no second code path.

use std::path::{Component, Path, PathBuf};

use backups_models::Backup;
use serde::{Deserialize, Serialize};

use crate::filemeta::FileMeta;

/// The manifest format this version writes.
pub(crate) const FORMAT: u32 = 2;

/// The older format still read: one whole-file object per file.
pub(crate) const FORMAT_WHOLE_FILES: u32 = 1;

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
    /// A regular file: its content is its chunks put end to end (none for an empty file).
    File {
        path: String,
        size: u64,
        mode: u32,
        /// Format 1 only, and only until [`Manifest::upgrade`]: the whole file's one object.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blake3: Option<String>,
        #[serde(default)]
        chunks: Vec<Chunk>,
        /// The file's metadata just before it was read, when it was settled (not racy) then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        meta: Option<FileMeta>,
    },
    /// A symbolic link, kept as a link (never followed).
    Symlink { path: String, target: String },
}

/// One piece of a file's content: the object named by its BLAKE3 hash, and its length. The
/// hashes of a file's chunks in order, with their sizes, fix every byte of it, so they are its
/// whole-content check: no whole-file hash is kept (it would cost a second BLAKE3 pass over
/// every file read, and could not be checked by a create that reuses a chunk list unread).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Chunk {
    pub(crate) blake3: String,
    pub(crate) size: u64,
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
        self.entries
            .iter()
            .filter_map(|entry| match entry {
                Entry::File { chunks, .. } => Some(chunks.iter().map(|c| c.blake3.as_str())),
                _ => None,
            })
            .flatten()
    }

    /// Brings a manifest just read to the current form: a format-1 file becomes a one-chunk file
    /// (its whole-file object is that chunk). `Err` says why the manifest cannot be used.
    pub(crate) fn upgrade(&mut self) -> Result<(), String> {
        let format = self.format;
        if format != FORMAT && format != FORMAT_WHOLE_FILES {
            return Err(format!("unknown format {format}"));
        }
        for entry in &mut self.entries {
            let Entry::File {
                path,
                size,
                blake3,
                chunks,
                meta,
                ..
            } = entry
            else {
                continue;
            };
            match (format, blake3.take()) {
                (FORMAT_WHOLE_FILES, Some(hash)) if chunks.is_empty() => {
                    *chunks = vec![Chunk {
                        blake3: hash,
                        size: *size,
                    }];
                    // Format 1 recorded no metadata; never trust any found there.
                    *meta = None;
                }
                (FORMAT_WHOLE_FILES, _) => {
                    return Err(format!(
                        "{path}: a format-1 file needs `blake3` and no `chunks`"
                    ));
                }
                (_, Some(_)) => {
                    return Err(format!(
                        "{path}: `blake3` belongs to format 1; use `chunks`"
                    ));
                }
                (_, None) => {}
            }
        }
        Ok(())
    }

    /// The manifest as written to disk: JSON with one entry per line, readable and diffable
    /// without the indentation of every chunk that pretty-printing would add.
    pub(crate) fn encode(&self) -> serde_json::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(256 + 160 * self.entries.len());
        out.extend_from_slice(b"{\"format\":");
        serde_json::to_writer(&mut out, &self.format)?;
        out.extend_from_slice(b",\n\"backup\":");
        serde_json::to_writer(&mut out, &self.backup)?;
        out.extend_from_slice(b",\n\"entries\":[");
        for (i, entry) in self.entries.iter().enumerate() {
            out.extend_from_slice(if i == 0 { &b"\n"[..] } else { b",\n" });
            serde_json::to_writer(&mut out, entry)?;
        }
        out.extend_from_slice(b"\n]}\n");
        Ok(out)
    }
}

/// A file's chunks, checked for use: each named by a valid hash, and their sizes adding up to
/// the file's. `Err` says what is wrong.
pub(crate) fn checked_chunks(size: u64, chunks: &[Chunk]) -> Result<&[Chunk], String> {
    let mut total = 0u64;
    for chunk in chunks {
        if !is_hash(&chunk.blake3) {
            return Err(format!("invalid hash {:?}", chunk.blake3));
        }
        total = total.saturating_add(chunk.size);
    }
    if total != size {
        return Err(format!(
            "chunks add up to {total} bytes, manifest says {size}"
        ));
    }
    Ok(chunks)
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

    fn backup() -> Backup {
        serde_json::from_str(
            r#"{"id":"1764190800000-0000","bytes":1,"created":{"value":"2026-11-26T21:00:00Z"},"device_name":"d","platform":"LINUX","timestamp":"1764190800000","version":"0"}"#,
        )
        .expect("backup")
    }

    fn file(json: &str) -> Entry {
        serde_json::from_str(json).expect("entry")
    }

    #[test]
    fn format_1_files_become_one_chunk_files_and_mixes_are_refused() {
        let hash = "a".repeat(64);
        let mut old = Manifest {
            format: FORMAT_WHOLE_FILES,
            backup: backup(),
            entries: vec![file(&format!(
                r#"{{"kind":"file","path":"f","size":3,"mode":420,"blake3":"{hash}"}}"#
            ))],
        };
        old.upgrade().expect("format 1");
        let Entry::File { blake3, chunks, .. } = &old.entries[0] else {
            panic!("a file");
        };
        assert_eq!(blake3, &None);
        assert_eq!(
            chunks,
            &vec![Chunk {
                blake3: hash.clone(),
                size: 3
            }]
        );
        assert_eq!(old.hashes().collect::<Vec<_>>(), vec![hash.as_str()]);

        let mut mixed = old.clone();
        mixed.format = FORMAT;
        mixed.entries = vec![file(&format!(
            r#"{{"kind":"file","path":"f","size":3,"mode":420,"blake3":"{hash}"}}"#
        ))];
        assert!(mixed.upgrade().expect_err("refused").contains("format 1"));
        let mut unknown = old.clone();
        unknown.format = 3;
        assert_eq!(unknown.upgrade(), Err("unknown format 3".to_owned()));
    }

    #[test]
    fn encoded_manifests_read_back_and_chunk_lists_are_checked() {
        let mut manifest = Manifest {
            format: FORMAT,
            backup: backup(),
            entries: vec![
                Entry::Dir {
                    path: "d".into(),
                    mode: 0o755,
                },
                file(&format!(
                    r#"{{"kind":"file","path":"d/f","size":5,"mode":420,"chunks":[{{"blake3":"{}","size":2}},{{"blake3":"{}","size":3}}],"meta":{{"mtime_ns":1,"ctime_ns":2,"ino":3,"dev":4}}}}"#,
                    "b".repeat(64),
                    "c".repeat(64)
                )),
            ],
        };
        let bytes = manifest.encode().expect("encode");
        assert_eq!(
            bytes.iter().filter(|&&b| b == b'\n').count(),
            6,
            "one entry a line"
        );
        let mut read: Manifest = serde_json::from_slice(&bytes).expect("decode");
        read.upgrade().expect("format 2");
        assert_eq!(read.entries, manifest.entries);
        assert!(!String::from_utf8_lossy(&bytes).contains("\"blake3\":null"));

        let Entry::File { chunks, .. } = &mut manifest.entries[1] else {
            panic!("a file");
        };
        assert!(checked_chunks(5, chunks).is_ok());
        assert!(
            checked_chunks(6, chunks)
                .expect_err("sizes")
                .contains("add up to 5")
        );
        chunks[1].blake3 = "../../etc/passwd".into();
        assert!(
            checked_chunks(5, chunks)
                .expect_err("hash")
                .contains("invalid hash")
        );
    }
}
