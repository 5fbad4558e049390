//! Project tasks, run as `cargo xtask <task>`.
//!
//! Each task lives in its own module with its options; `main` only parses and dispatches.

#![forbid(unsafe_code)]

mod bench;
mod conformance;
mod fuzz;
mod record;
mod workspace;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Project tasks of the Pieces OS Backups SDK.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Option<Task>,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Replay, property, transport and live suites, then the results table.
    Conformance(conformance::Args),
    /// Record HAR cases from a live server.
    Record(record::Args),
    /// Side-by-side performance comparisons.
    Bench(bench::Args),
    /// Run each cargo-fuzz target N seconds (nightly).
    Fuzz(fuzz::Args),
}

fn main() -> ExitCode {
    match Cli::parse().task {
        Some(Task::Conformance(args)) => conformance::run(&args),
        Some(Task::Record(args)) => record::run(&args),
        Some(Task::Bench(args)) => bench::run(&args),
        Some(Task::Fuzz(args)) => fuzz::run(&args),
        None => {
            // A bare `cargo xtask` asks what there is; answering it is not an error.
            let _ = Cli::command().print_help();
            ExitCode::SUCCESS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
