//! The objects of a store: the content-addressed chunks in `objects/`, and the writer a create
//! puts new ones in with, through `tmp/`.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use crate::StoreError;
use crate::chunking;
use crate::control::Canceled;
use crate::filemeta::FileMeta;
use crate::fsio::{create_new, rename, sync_dirs, sync_files};
use crate::layout::{OBJECTS, TMP, object_path};
use crate::manifest::Chunk;

/// The objects of the store at `root`, and the names of its temporary files.
#[derive(Debug)]
pub(crate) struct Objects {
    root: PathBuf,
    tmp_seq: AtomicU64,
    /// Bytes of file content read by creates, for tests that prove the cache avoids reads.
    #[cfg(test)]
    pub(crate) content_read: AtomicU64,
}

impl Objects {
    /// The objects of the store at `root`.
    pub(crate) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            tmp_seq: AtomicU64::new(0),
            #[cfg(test)]
            content_read: AtomicU64::new(0),
        }
    }

    /// Whether the store holds the object with this hash.
    pub(crate) fn has_object(&self, hash: &str) -> bool {
        object_path(&self.root, hash).is_file()
    }

    /// A new name in `tmp/`, unique in this process.
    pub(crate) fn tmp_path(&self) -> PathBuf {
        let seq = self.tmp_seq.fetch_add(1, Ordering::Relaxed);
        self.root
            .join(TMP)
            .join(format!("{}-{seq}.tmp", std::process::id()))
    }
}

/// Writes the new objects of one create into `tmp/`, then makes them durable and renames them
/// into place all at once in [`ObjectWriter::commit`]. Syncing once for the whole batch instead
/// of once per file is what keeps a create of many small files close to the speed of a copy.
pub(crate) struct ObjectWriter<'a> {
    objects: &'a Objects,
    buf: Vec<u8>,
    /// Temporary files and the object each becomes.
    pub(crate) pending: Vec<(PathBuf, String)>,
    /// The writer's own directories under `tmp/`, removed once empty. Each storing thread
    /// creates its files in a directory of its own: creating a file locks its directory while
    /// the file system allocates an inode (slow on ext4 without a journal right after many
    /// deletes), and in one shared `tmp/` the threads would wait for each other there.
    pub(crate) dirs: Vec<PathBuf>,
    /// Hashes written by this create on any of its threads, so identical files in one snapshot
    /// are written once.
    claimed: &'a Mutex<HashSet<String>>,
}

/// One file as the manifest records it.
pub(crate) struct StoredFile {
    pub(crate) size: u64,
    pub(crate) chunks: Vec<Chunk>,
    /// Its metadata, if settled when it was read (see [`FileMeta::settled_before`]).
    pub(crate) meta: Option<FileMeta>,
}

/// What a storing thread hands over for the commit: its temporary files with their objects,
/// and its temporary directories.
pub(crate) type Pending = (Vec<(PathBuf, String)>, Vec<PathBuf>);

impl<'a> ObjectWriter<'a> {
    pub(crate) fn new(objects: &'a Objects, claimed: &'a Mutex<HashSet<String>>) -> Self {
        Self {
            objects,
            buf: Vec::new(),
            pending: Vec::new(),
            dirs: Vec::new(),
            claimed,
        }
    }

    /// Hands this writer's temporary files and directories over (to the writer that commits).
    pub(crate) fn take_pending(&mut self) -> Pending {
        (
            std::mem::take(&mut self.pending),
            std::mem::take(&mut self.dirs),
        )
    }

    /// A new temporary file name in this writer's own directory, made on first use.
    fn tmp_path(&mut self) -> Result<PathBuf, StoreError> {
        let dir = match self.dirs.first() {
            Some(dir) => dir.clone(),
            None => {
                let dir = self.objects.tmp_path();
                fs::create_dir(&dir)
                    .map_err(StoreError::io(|| format!("create {}", dir.display())))?;
                self.dirs.push(dir.clone());
                dir
            }
        };
        let seq = self.objects.tmp_seq.fetch_add(1, Ordering::Relaxed);
        Ok(dir.join(seq.to_string()))
    }

    /// Stores one file, read once and cut into content-defined chunks, each written unless the
    /// store or this create already has it; `None` if the file no longer exists.
    pub(crate) fn store_file(
        &mut self,
        path: &Path,
        report: &mut dyn FnMut(u64) -> Result<(), Canceled>,
    ) -> Result<Option<StoredFile>, StoreError> {
        // Taken before the file is looked at: its metadata is trusted by the next create only if
        // both its times are clearly older than this.
        let looked = SystemTime::now();
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StoreError::Io {
                    context: format!("open {}", path.display()),
                    source,
                });
            }
        };
        // Before reading: a change during or after the read then shows in the next create's stat.
        let before = file
            .metadata()
            .map_err(StoreError::io(|| format!("stat {}", path.display())))?;
        let mut chunks = Vec::new();
        let mut buf = std::mem::take(&mut self.buf);
        let read = chunking::for_each_chunk(&mut file, &mut buf, &mut |data| {
            let hash = blake3::hash(data).to_hex().to_string();
            self.put(&hash, data)?;
            chunks.push(Chunk {
                blake3: hash,
                size: data.len() as u64,
            });
            report(data.len() as u64).map_err(StoreError::from)
        });
        self.buf = buf;
        let read = read.map_err(|err| err.into_store_error(path))?;
        #[cfg(test)]
        self.objects.content_read.fetch_add(read, Ordering::Relaxed);
        let meta = FileMeta::of(&before)
            .filter(|meta| read == before.len() && meta.settled_before(looked));
        Ok(Some(StoredFile {
            size: read,
            chunks,
            meta,
        }))
    }

    /// Writes one chunk to a temporary object, pending until [`ObjectWriter::commit`], unless the
    /// store has it or a thread of this create claimed it first.
    fn put(&mut self, hash: &str, data: &[u8]) -> Result<(), StoreError> {
        if self.objects.has_object(hash) || !self.claim(hash) {
            return Ok(());
        }
        let tmp = self.tmp_path()?;
        let mut out = create_new(&tmp)?;
        let written = out
            .write_all(data)
            .map_err(StoreError::io(|| format!("write {}", tmp.display())));
        // Pending even if the write failed, so that dropping the writer removes it.
        self.pending.push((tmp, hash.to_owned()));
        written
    }

    /// Claims `hash` for this writer: false when a thread of this create already wrote it.
    fn claim(&self, hash: &str) -> bool {
        self.claimed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(hash.to_owned())
    }

    /// Makes every pending object durable, renames each into `objects/`, and makes the
    /// renames durable: after this, the manifest may name them.
    pub(crate) fn commit(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let tmps: Vec<&Path> = self.pending.iter().map(|(tmp, _)| tmp.as_path()).collect();
        sync_files(&self.objects.root, &tmps)?;
        let mut touched = BTreeSet::new();
        let mut new_fanout = false;
        for (tmp, hash) in &self.pending {
            let dest = object_path(&self.objects.root, hash);
            let dir = dest.parent().map(Path::to_path_buf).unwrap_or_default();
            if !touched.contains(&dir) && !dir.is_dir() {
                fs::create_dir_all(&dir)
                    .map_err(StoreError::io(|| format!("create {}", dir.display())))?;
                new_fanout = true;
            }
            rename(tmp, &dest)?;
            touched.insert(dir);
        }
        if new_fanout {
            touched.insert(self.objects.root.join(OBJECTS));
        }
        self.pending.clear();
        self.remove_dirs();
        let dirs: Vec<&Path> = touched.iter().map(PathBuf::as_path).collect();
        sync_dirs(&self.objects.root, &dirs).map_err(StoreError::from)
    }

    /// Removes the writer's temporary directories (those still holding files stay, for startup
    /// to empty).
    fn remove_dirs(&mut self) {
        for dir in self.dirs.drain(..) {
            let _ = fs::remove_dir(dir);
        }
    }
}

impl Drop for ObjectWriter<'_> {
    /// A failed create leaves no temporary files behind (a crash's are removed at startup).
    fn drop(&mut self) {
        for (tmp, _) in &self.pending {
            let _ = fs::remove_file(tmp);
        }
        self.remove_dirs();
    }
}
