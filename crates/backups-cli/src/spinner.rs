//! A spinner with the elapsed time on stderr for a plain create or restore, which prints nothing
//! until it ends (possibly many minutes later): it shows that the command is alive, and where the
//! operation stands when its status is polled alongside.

use std::io::IsTerminal;
use std::time::Duration;

use backups_models::BackupStreamedProgress;
use indicatif::{ProgressBar, ProgressStyle};

use crate::output;

/// A spinner on stderr when stderr is a terminal (and the output is not JSON); nothing elsewhere,
/// so that pipes and logs get no control sequences.
#[derive(Debug)]
pub(crate) struct Spinner {
    bar: Option<ProgressBar>,
    doing: &'static str,
}

impl Spinner {
    /// Starts spinning with `doing` ("Restoring…") as its message.
    pub(crate) fn start(doing: &'static str, json: bool) -> Self {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.set_message(doing);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { bar, doing }
    }

    /// Shows where the operation stands, from a status polled alongside the call.
    pub(crate) fn show(&self, event: &BackupStreamedProgress) {
        if let Some(bar) = &self.bar {
            let standing = output::standing(event.status.as_ref(), event.percentage.as_ref());
            bar.set_message(format!("{} {standing}", self.doing));
        }
    }

    /// Removes the spinner, before the result or the error is printed.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.finish();
    }
}
