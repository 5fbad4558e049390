//! Asking the user before something that cannot be undone: on a terminal only, yes or no.

use std::io::{BufRead, IsTerminal, Write};

use crate::exit::Exit;
use crate::stop::Stop;

/// Whether stdin is a terminal to ask on.
pub(crate) fn can_ask() -> bool {
    std::io::stdin().is_terminal()
}

/// Prints `question` with ` [y/N] ` on stderr and reads the answer from stdin: `Ok(())` for
/// yes, else `Stop` with `declined` (exit 1), since nothing was done.
pub(crate) fn yes_or_stop(question: &str, declined: String) -> Result<(), Stop> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|err| Stop::Local(format!("cannot read the answer: {err}")))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Stop::Failed {
            exit: Exit::Local,
            message: declined,
        })
    }
}
