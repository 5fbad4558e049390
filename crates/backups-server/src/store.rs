//! The backup store: content-addressed objects plus one manifest per backup (where each lives:
//! [`crate::layout`]).
//!
//! Ordering rules that make a crash at any moment harmless:
//! - new objects are written to `tmp/`, synced, and only then renamed into `objects/`, so an
//!   object name always holds complete content (dedup trusts names);
//! - a manifest is written only after every object it names is in place and their directories
//!   are synced, then it is itself written to `tmp/`, synced, renamed, and `backups/` is synced;
//! - a delete first renames the manifest out of `backups/` (the backup is gone at that instant),
//!   then removes objects no remaining manifest names.
//!
//! Creates hold the store gate shared and deletes hold it exclusively, so garbage collection
//! never removes an object that a create in flight has found already present and reused.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use backups_models::Backup;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

use crate::StoreError;
use crate::control::{Control, Tally};
use crate::fsio::{create_new, empty_dir, read_dir_names, rename, sync_dir};
use crate::id::{IdClock, NewId, is_valid_id};
use crate::layout::{BACKUPS, LOCK, OBJECTS, TMP, TRASH, manifest_files, read_manifest};
use crate::manifest::{self, Entry, Manifest};
use crate::metacache::{self, Cached};
use crate::objects::{ObjectWriter, Objects, Pending, StoredFile};
use crate::origin::Origin;
use crate::record::backup_record;
use crate::swap;
use crate::threads::on_threads;
use crate::walk::{WalkKind, Walked, walk};

/// A store opened for writing by the one server that owns it.
#[derive(Debug)]
pub(crate) struct Store {
    root: PathBuf,
    /// Held for the store's lifetime: the OS releases the lock when the process dies.
    _lock: File,
    gate: Arc<RwLock<()>>,
    index: Mutex<BTreeMap<String, Backup>>,
    /// Bumped after every change of `index`, so that a cached listing knows it is out of date
    /// (`listing.rs`). Starts at 0 with the index as read at open.
    pub(crate) generation: AtomicU64,
    clock: Mutex<IdClock>,
    /// The objects, and the names of temporary files.
    pub(crate) objects: Objects,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded maps stay consistent even if a holder panicked, so poisoning is ignored.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    /// Opens (creating if needed) the store at `root`, takes its lock, and recovers from any
    /// crash: temporary files and half-deleted manifests are removed, then unreferenced objects.
    pub(crate) fn open(root: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(root).map_err(StoreError::io(|| {
            format!("create store {}", root.display())
        }))?;
        let lock_path = root.join(LOCK);
        let lock_file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(StoreError::io(|| format!("open {}", lock_path.display())))?;
        match fs4::FileExt::try_lock(&lock_file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    store: root.to_path_buf(),
                    lock: lock_path,
                });
            }
            Err(fs4::TryLockError::Error(source)) => {
                return Err(StoreError::Io {
                    context: format!("lock {}", lock_path.display()),
                    source,
                });
            }
        }
        for dir in [OBJECTS, BACKUPS, TMP, TRASH] {
            let path = root.join(dir);
            fs::create_dir_all(&path)
                .map_err(StoreError::io(|| format!("create {}", path.display())))?;
        }
        empty_dir(&root.join(TMP))?;
        empty_dir(&root.join(TRASH))?;
        // A restore killed half-way is finished or rolled back before anything else looks at
        // the data directory.
        swap::recover(root)?;

        let mut index = BTreeMap::new();
        let mut clock = IdClock::default();
        let mut referenced = HashSet::new();
        let mut all_readable = true;
        for (id, path) in manifest_files(root)? {
            match read_manifest(&path, &id) {
                Ok(manifest) => {
                    referenced.extend(manifest.hashes().map(str::to_owned));
                    clock.observe(&id);
                    index.insert(id, manifest.backup);
                }
                // Kept on disk for `verify` to report; never listed, and never a reason to
                // delete the objects it may name.
                Err(_) => all_readable = false,
            }
        }
        let store = Store {
            root: root.to_path_buf(),
            _lock: lock_file,
            gate: Arc::new(RwLock::new(())),
            index: Mutex::new(index),
            generation: AtomicU64::new(0),
            clock: Mutex::new(clock),
            objects: Objects::new(root),
        };
        if all_readable {
            store.remove_unreferenced(&referenced)?;
        }
        Ok(store)
    }

    /// Shared access, held by a create for its whole duration.
    pub(crate) async fn share(&self) -> OwnedRwLockReadGuard<()> {
        Arc::clone(&self.gate).read_owned().await
    }

    /// Exclusive access, held by a delete.
    pub(crate) async fn exclusive(&self) -> OwnedRwLockWriteGuard<()> {
        Arc::clone(&self.gate).write_owned().await
    }

    /// Every completed backup, newest first.
    pub(crate) fn list(&self) -> Vec<Backup> {
        lock(&self.index).values().rev().cloned().collect()
    }

    /// The backup with this id, if the store holds it.
    pub(crate) fn get(&self, id: &str) -> Option<Backup> {
        lock(&self.index).get(id).cloned()
    }

    /// The store directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The manifest of a listed backup.
    pub(crate) fn manifest(&self, id: &str) -> Result<Manifest, StoreError> {
        if !is_valid_id(id) || !lock(&self.index).contains_key(id) {
            return Err(StoreError::NotFound { id: id.to_owned() });
        }
        read_manifest(&self.manifest_path(id), id)
    }

    /// The id of the next backup, handed out before it is made so that its progress, status and
    /// cancel can name it from the start.
    pub(crate) fn next_id(&self) -> NewId {
        lock(&self.clock).next(now_millis())
    }

    /// Snapshots `data_dir` as the new backup `new_id`. `control` hears (bytes done, bytes in
    /// all) at the start, after every chunk read and after every file, and may cancel the
    /// create until its objects are committed.
    pub(crate) fn create(
        &self,
        _shared: &OwnedRwLockReadGuard<()>,
        new_id: &NewId,
        data_dir: &Path,
        origin: &Origin,
        control: &mut dyn Control,
    ) -> Result<Backup, StoreError> {
        let walked = walk(data_dir, &self.root)?;
        let total: u64 = walked.iter().map(|item| item.size).sum();
        let cache = self.newest_cache();
        let mut copied = Tally::new(total, control);
        copied.add(0)?;

        // Files are read, hashed and copied on a few threads, as a restore copies them: one
        // thread is bound by BLAKE3 and the copies through user space, where `cp -r` copies in
        // the kernel. The manifest keeps the walk's order whatever the threads' order.
        let files: Vec<usize> = (0..walked.len())
            .filter(|&i| matches!(walked[i].kind, WalkKind::File { .. }))
            .collect();
        let claimed = Mutex::new(HashSet::new());
        let StoredFiles {
            mut writer,
            files: mut stored,
        } = self.store_files(&walked, &files, &cache, &claimed, &mut copied)?;
        let mut entries = Vec::with_capacity(walked.len());
        let mut bytes = 0u64;
        for (index, item) in walked.into_iter().enumerate() {
            match item.kind {
                WalkKind::Dir { mode } => entries.push(Entry::Dir {
                    path: item.rel,
                    mode,
                }),
                WalkKind::Symlink { target } => entries.push(Entry::Symlink {
                    path: item.rel,
                    target,
                }),
                WalkKind::File { mode } => {
                    // Removed since the walk: a live database may do that; skip it.
                    let Some(file) = stored.get_mut(&index).and_then(Option::take) else {
                        continue;
                    };
                    bytes += file.size;
                    entries.push(Entry::File {
                        path: item.rel,
                        size: file.size,
                        mode,
                        blake3: None,
                        chunks: file.chunks,
                        meta: file.meta,
                    });
                }
            }
        }
        // A cancel is honoured until here; past this point objects enter the store.
        copied.commit()?;
        writer.commit()?;

        let backup = backup_record(new_id, origin, bytes);
        let manifest = Manifest {
            format: manifest::FORMAT,
            backup: backup.clone(),
            entries,
        };
        let json = manifest.encode().map_err(|err| StoreError::Io {
            context: "encode manifest".into(),
            source: io::Error::other(err),
        })?;
        let tmp = self.write_tmp(&json)?;
        let final_path = self.manifest_path(&new_id.id);
        rename(&tmp, &final_path)?;
        sync_dir(&self.root.join(BACKUPS))?;
        lock(&self.index).insert(new_id.id.clone(), backup.clone());
        // After the insert (Release): see `Listing::bytes`.
        self.generation.fetch_add(1, Ordering::Release);
        Ok(backup)
    }

    /// Stores the files of `walked` at `files` on up to [`MAX_STORE_THREADS`] threads; the first
    /// error or cancel stops every thread, and leaves no temporary object behind. A file whose
    /// size and metadata match `cache` (and whose chunks are all present) is not opened: its
    /// cached chunk list is reused.
    fn store_files<'s>(
        &'s self,
        walked: &[Walked],
        files: &[usize],
        cache: &HashMap<String, Cached>,
        claimed: &'s Mutex<HashSet<String>>,
        copied: &mut Tally<'_>,
    ) -> Result<StoredFiles<'s>, StoreError> {
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_STORE_THREADS)
            .min(files.len().max(1));
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let done = Mutex::new(HashMap::with_capacity(files.len()));
        let tally = Mutex::new(copied);
        let report = |n: u64| lock(&tally).add(n);
        let worker = || -> Result<Pending, StoreError> {
            let mut writer = ObjectWriter::new(&self.objects, claimed);
            while !stop.load(Ordering::Relaxed) {
                let Some(&index) = files.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                let item = &walked[index];
                let stored = match self.unchanged(item, cache) {
                    Some(cached) => report(cached.size)
                        .map(|()| {
                            Some(StoredFile {
                                size: cached.size,
                                chunks: cached.chunks.clone(),
                                meta: Some(cached.meta),
                            })
                        })
                        .map_err(StoreError::from),
                    None => writer
                        .store_file(&item.abs, &mut |n| report(n))
                        .and_then(|stored| report(0).map(|()| stored).map_err(StoreError::from)),
                };
                match stored {
                    Ok(stored) => {
                        lock(&done).insert(index, stored);
                    }
                    Err(err) => {
                        stop.store(true, Ordering::Relaxed);
                        // Dropping the writer removes what it wrote.
                        return Err(err);
                    }
                }
            }
            Ok(writer.take_pending())
        };
        let results = on_threads(workers, "create", &worker);
        // Every thread's pending objects in one writer, so that an error anywhere removes them
        // all and a success commits them together.
        let mut writer = ObjectWriter::new(&self.objects, claimed);
        let mut failure = None;
        for result in results {
            match result {
                Ok((pending, dirs)) => {
                    writer.pending.extend(pending);
                    writer.dirs.extend(dirs);
                }
                Err(err) => failure = failure.or(Some(err)),
            }
        }
        if let Some(err) = failure {
            return Err(err);
        }
        Ok(StoredFiles {
            writer,
            files: done.into_inner().unwrap_or_else(PoisonError::into_inner),
        })
    }

    /// Deletes a backup; `Ok(false)` when no backup has this id.
    pub(crate) fn delete(
        &self,
        _exclusive: &OwnedRwLockWriteGuard<()>,
        id: &str,
    ) -> Result<bool, StoreError> {
        if !is_valid_id(id) || !lock(&self.index).contains_key(id) {
            return Ok(false);
        }
        let trashed = self.root.join(TRASH).join(format!("{id}.json"));
        rename(&self.manifest_path(id), &trashed)?;
        sync_dir(&self.root.join(BACKUPS))?;
        lock(&self.index).remove(id);
        self.generation.fetch_add(1, Ordering::Release);
        fs::remove_file(&trashed)
            .map_err(StoreError::io(|| format!("remove {}", trashed.display())))?;
        self.collect_garbage()?;
        Ok(true)
    }

    /// Removes every object no manifest names; does nothing if a manifest cannot be read.
    fn collect_garbage(&self) -> Result<(), StoreError> {
        let mut referenced = HashSet::new();
        for (id, path) in manifest_files(&self.root)? {
            match read_manifest(&path, &id) {
                Ok(manifest) => referenced.extend(manifest.hashes().map(str::to_owned)),
                Err(_) => return Ok(()),
            }
        }
        self.remove_unreferenced(&referenced)
    }

    fn remove_unreferenced(&self, referenced: &HashSet<String>) -> Result<(), StoreError> {
        let objects = self.root.join(OBJECTS);
        for fanout in read_dir_names(&objects)? {
            let dir = objects.join(&fanout);
            if !dir.is_dir() {
                continue;
            }
            for name in read_dir_names(&dir)? {
                if !referenced.contains(&name) {
                    let path = dir.join(&name);
                    match fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                        Err(source) => {
                            return Err(StoreError::Io {
                                context: format!("remove {}", path.display()),
                                source,
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The metadata cache: the files of the newest backup recorded with settled metadata. Only
    /// the newest: it is the one whose files most likely are still there unchanged, and an older
    /// one adds nothing the newest did not re-check. Its objects cannot be collected while this
    /// create runs, since the create holds the store gate shared.
    fn newest_cache(&self) -> HashMap<String, Cached> {
        let newest = lock(&self.index).keys().next_back().cloned();
        let Some(id) = newest else {
            return HashMap::new();
        };
        match read_manifest(&self.manifest_path(&id), &id) {
            Ok(manifest) => metacache::cache_of(manifest),
            Err(_) => HashMap::new(),
        }
    }

    /// The cached entry of a walked file that has not changed since the newest backup read it:
    /// same size, mtime, ctime, inode and device, and every chunk still in `objects/`.
    ///
    /// The chunks are looked up although no create or delete can remove them meanwhile (the gate
    /// keeps deletes out, and a manifest is written only after its objects): one `stat` per chunk
    /// (about 8,000 per GiB, a few ms) means an object removed by hand, which `verify` reports,
    /// is written again by the next create instead of every later backup naming it as missing.
    fn unchanged<'c>(
        &self,
        item: &Walked,
        cache: &'c HashMap<String, Cached>,
    ) -> Option<&'c Cached> {
        let meta = item.meta?;
        let cached = cache.get(&item.rel)?;
        (cached.size == item.size
            && cached.meta == meta
            && cached
                .chunks
                .iter()
                .all(|chunk| self.objects.has_object(&chunk.blake3)))
        .then_some(cached)
    }

    fn manifest_path(&self, id: &str) -> PathBuf {
        self.root.join(BACKUPS).join(format!("{id}.json"))
    }

    /// Writes `bytes` to a new synced temporary file and returns its path.
    pub(crate) fn write_tmp(&self, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let path = self.objects.tmp_path();
        let mut file = create_new(&path)?;
        file.write_all(bytes)
            .and_then(|()| file.sync_data())
            .map_err(StoreError::io(|| format!("write {}", path.display())))?;
        Ok(path)
    }
}

/// What [`Store::store_files`] made: the pending objects, and each file by its index in the walk
/// (`None`: removed since the walk).
struct StoredFiles<'a> {
    writer: ObjectWriter<'a>,
    files: HashMap<usize, Option<StoredFile>>,
}

/// The most threads a create stores files with.
const MAX_STORE_THREADS: usize = 4;

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
