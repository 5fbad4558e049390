//! Project tasks, run as `cargo xtask <task>`.
//!
//! Each task lives in its own module; `main` only dispatches on the first argument.

#![forbid(unsafe_code)]

mod bench;
mod conformance;
mod fuzz;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("bench") => bench::run(&rest),
        Some("conformance") => conformance::run(&rest),
        Some("record") => conformance::record(&rest),
        Some("fuzz") => fuzz::run(&rest),
        Some("help") | Some("--help") | Some("-h") | None => {
            usage();
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("xtask: unknown task `{other}`");
            usage();
            ExitCode::from(2)
        }
    }
}

fn usage() {
    eprintln!("usage: cargo xtask <task> [options]");
    eprintln!();
    eprintln!("tasks:");
    eprintln!("  bench [--quick] [--json FILE]   side-by-side performance comparisons");
    eprintln!(
        "  conformance [cargo test args]   replay, property, transport and live suites, then the table"
    );
    eprintln!(
        "  fuzz [--seconds N] [--only TARGET]   run each cargo-fuzz target N seconds (nightly)"
    );
    eprintln!(
        "  record --base-url URL [--redact] [--out DIR] [--prefix NAME]   record HAR cases from a live server"
    );
}
