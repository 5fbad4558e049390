//! The one BLAKE3 hashing loop of the server, shared by creates, restores and `verify`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use crate::StoreError;
use crate::control::Canceled;

/// [`hash_copy`] that keeps nothing: hashes what remains of `file` with BLAKE3, calling
/// `on_chunk` with each read's length; returns the hash in lower hex and the number of bytes read.
pub(crate) fn hash_stream(
    file: &mut File,
    buf: &mut [u8],
    on_chunk: &mut dyn FnMut(u64) -> Result<(), Canceled>,
) -> Result<(String, u64), CopyError> {
    hash_copy(file, &mut io::sink(), buf, on_chunk)
}

/// Why a [`hash_copy`] stopped: callers name the file in the error.
#[derive(Debug)]
pub(crate) enum CopyError {
    Read(io::Error),
    Write(io::Error),
    /// `on_chunk` asked to stop.
    Canceled,
}

impl From<CopyError> for io::Error {
    fn from(err: CopyError) -> Self {
        match err {
            CopyError::Read(err) | CopyError::Write(err) => err,
            CopyError::Canceled => io::Error::other("canceled"),
        }
    }
}

impl CopyError {
    /// The store error, naming `from` for a read failure and `to` for a write failure.
    pub(crate) fn into_store_error(self, from: &Path, to: &Path) -> StoreError {
        match self {
            CopyError::Read(source) => StoreError::Io {
                context: format!("read {}", from.display()),
                source,
            },
            CopyError::Write(source) => StoreError::Io {
                context: format!("write {}", to.display()),
                source,
            },
            CopyError::Canceled => StoreError::Canceled,
        }
    }
}

/// Hashes what remains of `file` with BLAKE3 while writing it to `out`, calling `on_chunk` with
/// each read's length; returns the hash in lower hex and the number of bytes read. The one
/// hashing loop of the server: creating, restoring and verifying backups all go through it, so
/// they agree on what a file's hash is.
pub(crate) fn hash_copy(
    file: &mut File,
    out: &mut impl Write,
    buf: &mut [u8],
    on_chunk: &mut dyn FnMut(u64) -> Result<(), Canceled>,
) -> Result<(String, u64), CopyError> {
    let mut hasher = blake3::Hasher::new();
    let mut read = 0u64;
    loop {
        let n = match file.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(CopyError::Read(err)),
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(CopyError::Write)?;
        read += n as u64;
        on_chunk(n as u64).map_err(|Canceled| CopyError::Canceled)?;
    }
    Ok((hasher.finalize().to_hex().to_string(), read))
}
