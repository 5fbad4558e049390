//! `Stop`, what ended a command early, which every command returns and `main` prints with its
//! exit status.

use backups_proto::Error;

use crate::exit::Exit;
use crate::ongoing::Ongoing;

/// What ended a command early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The SDK reported an error.
    Api(Error),
    /// The SDK reported an error that ended a create or restore after it started: the message
    /// names the backup and how to see how it ended.
    /// (Boxed: the other stops are small.)
    During(Box<(Error, Ongoing)>),
    /// The user pressed Ctrl-C; says what became of the operation on the server.
    Interrupted(String),
    /// Something on this machine failed (the demo's temporary files or server).
    Local(String),
    /// A failure with its own exit status and a message that says what to do.
    Failed { exit: Exit, message: String },
}

impl From<Error> for Stop {
    fn from(err: Error) -> Self {
        Self::Api(err)
    }
}

impl Stop {
    /// `error`, which ended `ongoing`.
    pub(crate) fn during(error: Error, ongoing: Ongoing) -> Self {
        Self::During(Box::new((error, ongoing)))
    }

    /// The same stop, saying that `safety` holds the local data from before the restore.
    pub(crate) fn with_safety(self, safety: &str) -> Self {
        match self {
            Self::During(mut during) => {
                during.1.safety = Some(safety.to_owned());
                Self::During(during)
            }
            other => other,
        }
    }
}
