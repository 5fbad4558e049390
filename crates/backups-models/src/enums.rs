//! The string enums of the API.

use crate::wire_enum::wire_enum;

wire_enum! {
    /// The operating system a backup was made on (wire schema `PlatformEnum`).
    Platform {
        /// `UNKNOWN`
        Unknown = "UNKNOWN",
        /// `WEB`
        Web = "WEB",
        /// `MACOS`
        Macos = "MACOS",
        /// `LINUX`
        Linux = "LINUX",
        /// `WINDOWS`
        Windows = "WINDOWS",
        /// `FUCHSIA`
        Fuchsia = "FUCHSIA",
        /// `IOS`
        Ios = "IOS",
        /// `ANDROID`
        Android = "ANDROID",
    }
}

wire_enum! {
    /// Where a backup in progress stands (wire schemas `ModelDownloadProgressStatusEnum` and
    /// `BackupStatusEnum`, which hold the same values).
    ProgressStatus {
        /// `UNKNOWN`
        Unknown = "UNKNOWN",
        /// `INITIALIZED`: the backup has started, nothing is copied yet.
        Initialized = "INITIALIZED",
        /// `IN-PROGRESS`: data is being copied.
        InProgress = "IN-PROGRESS",
        /// `COMPLETED`: the backup is done and carried by the event.
        Completed = "COMPLETED",
        /// `FAILED`: the backup could not be made.
        Failed = "FAILED",
        /// `CANCELED`: the backup was stopped before it finished.
        Canceled = "CANCELED",
        /// `RESET`
        Reset = "RESET",
    }
}

impl ProgressStatus {
    /// Whether no further progress follows a status: `COMPLETED`, `FAILED` or `CANCELED`.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Canceled)
    }
}

wire_enum! {
    /// The semantic version of an embedded model schema (wire schema
    /// `EmbeddedModelSchemaSemanticVersionEnum`).
    SemanticVersion {
        /// `UNKNOWN`
        Unknown = "UNKNOWN",
        /// `MAJOR_0_MINOR_0_PATCH_1`
        Major0Minor0Patch1 = "MAJOR_0_MINOR_0_PATCH_1",
    }
}

impl Platform {
    /// The platform this program was compiled for, as the API names it.
    pub fn current() -> Self {
        match std::env::consts::OS {
            "macos" => Self::Macos,
            "linux" => Self::Linux,
            "windows" => Self::Windows,
            "ios" => Self::Ios,
            "android" => Self::Android,
            "fuchsia" => Self::Fuchsia,
            _ => Self::Unknown,
        }
    }
}
