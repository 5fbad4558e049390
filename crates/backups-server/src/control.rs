//! How a long create or restore reports its progress and learns that it is to stop.
//!
//! The store's loops call [`Control::step`] after every file and every MiB, and
//! [`Control::commit`] once, just before the first change that cannot be undone (objects renamed
//! into the store, or a restored tree swapped in). A cancel is honoured up to that point and
//! refused after it, so a canceled operation never leaves anything behind.

/// The operation was canceled before its commit point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Canceled;

impl From<Canceled> for crate::StoreError {
    fn from(Canceled: Canceled) -> Self {
        crate::StoreError::Canceled
    }
}

/// What a running create or restore reports to; `Send`, as a restore copies on several threads.
pub(crate) trait Control: Send {
    /// `done` of `total` bytes are processed; `Err` stops the operation.
    fn step(&mut self, done: u64, total: u64) -> Result<(), Canceled>;

    /// The point of no return: `Err` if the operation was canceled before it, and after `Ok`
    /// no cancel is accepted any more.
    fn commit(&mut self) -> Result<(), Canceled>;
}

/// Nobody watches and nobody cancels: the `restore` subcommand.
#[derive(Debug, Default)]
pub(crate) struct Unwatched;

impl Control for Unwatched {
    fn step(&mut self, _done: u64, _total: u64) -> Result<(), Canceled> {
        Ok(())
    }

    fn commit(&mut self) -> Result<(), Canceled> {
        Ok(())
    }
}

/// Bytes done of an operation, reported to a [`Control`] after every chunk and file.
pub(crate) struct Tally<'a> {
    done: u64,
    total: u64,
    control: &'a mut dyn Control,
}

impl<'a> Tally<'a> {
    /// A tally of `total` bytes, none done yet.
    pub(crate) fn new(total: u64, control: &'a mut dyn Control) -> Self {
        Self {
            done: 0,
            total,
            control,
        }
    }

    /// Counts `n` more bytes and reports; `n` = 0 marks the end of a file or entry.
    pub(crate) fn add(&mut self, n: u64) -> Result<(), Canceled> {
        self.done += n;
        // Files may grow between the walk and the copy; never report more than 100%.
        self.total = self.total.max(self.done);
        self.control.step(self.done, self.total)
    }

    /// Passes the commit point on to the control.
    pub(crate) fn commit(&mut self) -> Result<(), Canceled> {
        self.control.commit()
    }
}
