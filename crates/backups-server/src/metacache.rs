//! The metadata cache a create trusts: the files of the newest backup that were recorded with
//! settled metadata ([`FileMeta`], which says why that is safe), by path.

use std::collections::HashMap;

use crate::filemeta::FileMeta;
use crate::manifest::{Chunk, Entry, Manifest};

/// What the previous backup knew of one file: reused when the walk sees the same size and
/// metadata.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    pub(crate) size: u64,
    pub(crate) meta: FileMeta,
    pub(crate) chunks: Vec<Chunk>,
}

/// The cache a create trusts: the files of `manifest` (the newest readable backup) recorded with
/// metadata, by path. Files recorded without it (racy when read, or written by format 1) are
/// left out, and so read again.
pub(crate) fn cache_of(manifest: Manifest) -> HashMap<String, Cached> {
    manifest
        .entries
        .into_iter()
        .filter_map(|entry| match entry {
            Entry::File {
                path,
                size,
                chunks,
                meta: Some(meta),
                ..
            } => Some((path, Cached { size, meta, chunks })),
            _ => None,
        })
        .collect()
}
