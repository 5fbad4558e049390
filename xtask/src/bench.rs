//! `cargo xtask bench`: side-by-side performance comparisons (see docs/performance.md).

use std::process::ExitCode;

/// Runs the benchmark comparisons.
pub(crate) fn run(_args: &[String]) -> ExitCode {
    eprintln!("xtask bench: not implemented yet");
    ExitCode::FAILURE
}
