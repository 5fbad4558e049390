//! The layout of a store directory, and reading the manifests in it:
//!
//! ```text
//! <store>/
//!   .lock                 held (flock) by the one server that owns the store
//!   objects/ab/ab12…ef    chunks of file contents, named by their BLAKE3 hash, written once
//!   backups/<id>.json     one manifest per completed backup
//!   tmp/                  files being written; emptied at startup
//!   trash/                manifests being deleted; emptied at startup
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use crate::StoreError;
use crate::fsio::read_dir_names;
use crate::id::is_valid_id;
use crate::manifest::Manifest;

pub(crate) const OBJECTS: &str = "objects";
pub(crate) const BACKUPS: &str = "backups";
pub(crate) const TMP: &str = "tmp";
pub(crate) const TRASH: &str = "trash";
pub(crate) const LOCK: &str = ".lock";

/// Where the object with this hash lives.
pub(crate) fn object_path(root: &Path, hash: &str) -> PathBuf {
    let fanout = hash.get(..2).unwrap_or("00");
    root.join(OBJECTS).join(fanout).join(hash)
}

/// The manifests in the store, as (id, path), sorted by id; files that are not named
/// `<valid id>.json` are ignored.
pub(crate) fn manifest_files(root: &Path) -> Result<Vec<(String, PathBuf)>, StoreError> {
    let dir = root.join(BACKUPS);
    let mut out: Vec<(String, PathBuf)> = read_dir_names(&dir)?
        .into_iter()
        .filter_map(|name| {
            let id = name.strip_suffix(".json")?;
            is_valid_id(id).then(|| (id.to_owned(), dir.join(&name)))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Reads and checks a manifest: known format (format 1 is upgraded, see
/// [`Manifest::upgrade`]), and the id inside matches the file name.
pub(crate) fn read_manifest(path: &Path, id: &str) -> Result<Manifest, StoreError> {
    let bad = |reason: String| StoreError::BadManifest {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = fs::read(path).map_err(|err| bad(err.to_string()))?;
    let mut manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|err| bad(err.to_string()))?;
    manifest.upgrade().map_err(bad)?;
    if manifest.backup.id != id {
        return Err(bad(format!(
            "names backup {:?}, not {id:?}",
            manifest.backup.id
        )));
    }
    Ok(manifest)
}
