//! Who makes the backups: this host, this platform, this version.

use backups_models::Platform;

/// The fields of a backup that describe the server making it rather than the data.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(crate) device_name: String,
    pub(crate) platform: Platform,
    pub(crate) version: String,
}

impl Origin {
    /// This machine's host name and platform, and this crate's version.
    pub(crate) fn this_server() -> Self {
        let host = gethostname::gethostname();
        let host = host.to_string_lossy().trim().to_owned();
        Self {
            device_name: if host.is_empty() {
                "unknown".to_owned()
            } else {
                host
            },
            platform: Platform::current(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}
