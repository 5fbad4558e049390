//! The errors of the server and of its store.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::fsio::FsError;

/// A failure of the backup store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Another process (usually another `backups-server`) holds the store's lock.
    #[error(
        "the store {} is in use by another backups-server (lock file {}); stop it or use another --store",
        store.display(),
        lock.display()
    )]
    Locked {
        /// The store directory.
        store: PathBuf,
        /// Its lock file.
        lock: PathBuf,
    },
    /// The data directory cannot be backed up.
    #[error("cannot back up {}: {reason}", path.display())]
    DataDir {
        /// The data directory.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// A file name in the data directory is not UTF-8, which manifests cannot record.
    #[error("cannot back up {}: its name is not valid UTF-8", path.display())]
    NonUtf8Path {
        /// The file.
        path: PathBuf,
    },
    /// No backup has this id.
    #[error("no such backup: {id:?}")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// A manifest could not be read.
    #[error("unreadable manifest {}: {reason}", path.display())]
    BadManifest {
        /// The manifest file.
        path: PathBuf,
        /// Why it could not be read.
        reason: String,
    },
    /// A restore target exists and is not an empty directory.
    #[error("restore target {} already exists and is not an empty directory", path.display())]
    TargetNotEmpty {
        /// The target directory.
        path: PathBuf,
    },
    /// The create or restore was canceled before it committed; it left nothing behind.
    #[error("canceled")]
    Canceled,
    /// A restore cannot replace the data directory.
    #[error("cannot restore into {}: {reason}", path.display())]
    RestoreTarget {
        /// The data directory.
        path: PathBuf,
        /// Why not, and what to do.
        reason: String,
    },
    /// The journal of an interrupted restore cannot be read, so the next start cannot tell how
    /// to finish it.
    #[error(
        "unreadable restore journal {}: {reason}; check the data directory and its \
         .<name>.restore-*/.old-* siblings by hand, then remove the journal",
        path.display()
    )]
    RestoreJournal {
        /// The journal file.
        path: PathBuf,
        /// Why it could not be read.
        reason: String,
    },
    /// Stored content does not match its checksum.
    #[error("corrupt backup {id}: {what}")]
    Corrupt {
        /// The backup concerned.
        id: String,
        /// What is wrong.
        what: String,
    },
}

impl StoreError {
    /// An IO error with a description of what was being done.
    pub(crate) fn io(context: impl FnOnce() -> String) -> impl FnOnce(io::Error) -> StoreError {
        move |source| StoreError::Io {
            context: context(),
            source,
        }
    }
}

impl From<FsError> for StoreError {
    fn from(FsError { context, source }: FsError) -> Self {
        StoreError::Io { context, source }
    }
}

/// A failure to start or run the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}; {hint}")]
    Bind {
        /// The address tried.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: io::Error,
        /// What to do about it.
        hint: &'static str,
    },
    /// Every default port was taken.
    #[error(
        "no free port in 127.0.0.1:{first}..={last} (is Pieces OS or another backups-server running?); \
         pass --listen 127.0.0.1:0 to take any free port, or --listen ADDR:PORT for a given one"
    )]
    NoFreePort {
        /// The first port tried.
        first: u16,
        /// The last port tried.
        last: u16,
    },
    /// The port file could not be written.
    #[error("cannot write the port file {}: {source}; pass --port-file PATH to write it elsewhere", path.display())]
    PortFile {
        /// The port file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A background task failed unexpectedly.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServerError {
    /// A bind error with advice fitting its cause.
    pub(crate) fn bind(addr: SocketAddr, source: io::Error) -> Self {
        let hint = match source.kind() {
            io::ErrorKind::AddrInUse => {
                "another program is using that port; choose another with --listen ADDR:PORT, or --listen 127.0.0.1:0 for any free port"
            }
            io::ErrorKind::PermissionDenied => {
                "ports below 1024 need privileges; choose a port above 1024 with --listen ADDR:PORT"
            }
            io::ErrorKind::AddrNotAvailable => {
                "that address is not one of this machine's; use 127.0.0.1 (loopback) with --listen 127.0.0.1:PORT"
            }
            _ => "choose another address with --listen ADDR:PORT (127.0.0.1:0 takes any free port)",
        };
        ServerError::Bind { addr, source, hint }
    }
}
