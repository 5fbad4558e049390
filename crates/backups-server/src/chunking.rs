//! Content-defined chunking: how a stored file is cut into objects.
//!
//! Cut points are chosen by the content (FastCDC 2020, gear hash, normalization level 1), not by
//! offsets, so an edit moves only the cut points around it: a byte changed in the middle of a big
//! file changes one chunk (rarely two), and bytes inserted at its start change the first chunk
//! or two while every later chunk keeps its boundaries and so its hash.
//!
//! The sizes: 32 KiB minimum, 128 KiB average, 512 KiB maximum.
//! - The average bounds what an edit costs: the chunk holding the edit (rarely two, when the edit
//!   falls in the window that decides a cut point). Over 40 random one-byte edits of a 64 MiB
//!   file, 128 KiB chunks added 0.28% of it on average and 0.77% at worst, under the 1% goal;
//!   a chunk holding a random byte is bigger than the average one, so restic's 1 MiB average
//!   would add over 1% per edit. 256 KiB (64 KiB minimum) added 0.5% on average for half the
//!   objects, but made no measurable difference to the time of a create here, so the smaller
//!   edit cost won. The maximum (512 KiB, under 1% of 64 MiB) bounds a one-chunk edit.
//! - Smaller averages cost more objects (one file, one rename and one stat each, and a manifest
//!   line each): 8,192 per GiB at 128 KiB, twice as many at 64 KiB, for no gain the goal needs.
//! - The minimum (a quarter of the average, as FastCDC suggests) skips hashing the first 32 KiB
//!   of every chunk and keeps tiny chunks out; files up to it stay one object.
//! - The maximum (four times the average) caps a chunk, the per-thread buffer and the worst case
//!   of an edit in content without cut points (long runs of one byte).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use fastcdc::v2020::{FastCDC, StreamCDC};

use crate::StoreError;

/// Chunks are at least this long, except the last one of a file; a file up to this size is one
/// chunk.
pub(crate) const MIN_CHUNK: usize = 32 * 1024;
/// The size chunks tend to: what one edit costs the store.
pub(crate) const AVG_CHUNK: usize = 128 * 1024;
/// No chunk is longer, whatever the content.
pub(crate) const MAX_CHUNK: usize = 512 * 1024;

/// Why [`for_each_chunk`] stopped.
#[derive(Debug)]
pub(crate) enum ChunkError {
    /// Reading the file failed.
    Read(io::Error),
    /// The callback failed (a write, or a cancel).
    Each(StoreError),
}

impl ChunkError {
    /// The store error, naming `path` for a read failure.
    pub(crate) fn into_store_error(self, path: &Path) -> StoreError {
        match self {
            ChunkError::Read(source) => StoreError::Io {
                context: format!("read {}", path.display()),
                source,
            },
            ChunkError::Each(err) => err,
        }
    }
}

/// Reads what remains of `file` once, calling `each` with every chunk in order; returns the bytes
/// read. An empty file has no chunk.
///
/// Memory stays bounded whatever the file's size: a file up to [`MAX_CHUNK`] is read into `buf`
/// (reused from file to file) and cut there; a longer one goes through FastCDC's streaming
/// chunker, which holds at most [`MAX_CHUNK`] bytes. Both cut the same content at the same points,
/// since a cut point depends only on the bytes up to [`MAX_CHUNK`] after the previous one.
pub(crate) fn for_each_chunk(
    file: &mut File,
    buf: &mut Vec<u8>,
    each: &mut dyn FnMut(&[u8]) -> Result<(), StoreError>,
) -> Result<u64, ChunkError> {
    buf.clear();
    buf.reserve(MAX_CHUNK + 1);
    // One byte more than a chunk tells a file that needs streaming, whatever the walk said of its
    // size (it may have grown since).
    Read::take(&mut *file, MAX_CHUNK as u64 + 1)
        .read_to_end(buf)
        .map_err(ChunkError::Read)?;
    if buf.len() <= MIN_CHUNK {
        if !buf.is_empty() {
            each(buf).map_err(ChunkError::Each)?;
        }
        return Ok(buf.len() as u64);
    }
    if buf.len() <= MAX_CHUNK {
        for chunk in FastCDC::new(buf, MIN_CHUNK, AVG_CHUNK, MAX_CHUNK) {
            each(&buf[chunk.offset..chunk.offset + chunk.length]).map_err(ChunkError::Each)?;
        }
        return Ok(buf.len() as u64);
    }
    let head = io::Cursor::new(buf.as_slice());
    let mut read = 0u64;
    for chunk in StreamCDC::new(head.chain(file), MIN_CHUNK, AVG_CHUNK, MAX_CHUNK) {
        let chunk = chunk.map_err(|err| ChunkError::Read(err.into()))?;
        read += chunk.data.len() as u64;
        each(&chunk.data).map_err(ChunkError::Each)?;
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temp::pseudo_random;

    fn chunk_lengths(content: &[u8]) -> Vec<usize> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, content).expect("write");
        let mut file = File::open(&path).expect("open");
        let mut out = Vec::new();
        let mut joined = Vec::new();
        let read = for_each_chunk(&mut file, &mut Vec::new(), &mut |chunk| {
            out.push(chunk.len());
            joined.extend_from_slice(chunk);
            Ok(())
        })
        .expect("chunk");
        assert_eq!(read, content.len() as u64);
        assert_eq!(joined, content, "the chunks put together are the file");
        out
    }

    #[test]
    fn small_files_are_one_chunk_and_empty_ones_none() {
        assert_eq!(chunk_lengths(b""), Vec::<usize>::new());
        assert_eq!(chunk_lengths(b"abc"), vec![3]);
        assert_eq!(chunk_lengths(&vec![7; MIN_CHUNK]), vec![MIN_CHUNK]);
    }

    #[test]
    fn big_files_are_cut_within_bounds_the_same_way_buffered_or_streamed() {
        let content = pseudo_random(3 * MAX_CHUNK + 12_345, 1);
        let lengths = chunk_lengths(&content);
        assert!(lengths.len() > 3, "{lengths:?}");
        let (last, rest) = lengths.split_last().expect("chunks");
        assert!(*last <= MAX_CHUNK);
        assert!(
            rest.iter().all(|&n| (MIN_CHUNK..=MAX_CHUNK).contains(&n)),
            "{lengths:?}"
        );
        // The buffered path (a file up to MAX_CHUNK) cuts where the streamed one does.
        let first = lengths[0];
        let head = &content[..MAX_CHUNK];
        let buffered = chunk_lengths(head);
        assert_eq!(buffered[0], first);
        // Content without cut points is cut at the maximum.
        assert_eq!(
            chunk_lengths(&vec![0; 2 * MAX_CHUNK + 1]),
            vec![MAX_CHUNK, MAX_CHUNK, 1]
        );
    }
}
