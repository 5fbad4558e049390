//! `cargo xtask conformance`: the conformance suite (see docs/conformance.md).
//!
//! The suites run as `cargo test` binaries, each writing its results where
//! [`RESULTS_DIR_ENV`] says; this task reads them back with the conformance crate's own reader
//! and prints its table, summed over the suites.

use std::process::ExitCode;

use backups_conformance::{CaseResult, RESULTS_DIR_ENV, SuiteReport};

use crate::workspace;

/// The suites whose results must be there: a suite that wrote none did not run.
const EXPECTED_SUITES: [&str; 7] = [
    "live",
    "property",
    "replay",
    "transport",
    "transport-blocking",
    "transport-hyper",
    "transport-reqwest",
];

/// The options of `cargo xtask conformance`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Passed on to `cargo test -p backups-conformance --tests --no-fail-fast`.
    #[arg(value_name = "CARGO TEST ARGS", allow_hyphen_values = true)]
    cargo_test_args: Vec<String>,
    /// Passed on to the test binaries (after `--`).
    #[arg(value_name = "TEST BINARY ARGS", last = true)]
    test_binary_args: Vec<String>,
}

impl Args {
    /// The arguments for `cargo test`, with the `--` that clap takes off a leading one put back.
    fn cargo_test_args(&self) -> Vec<String> {
        let mut args = self.cargo_test_args.clone();
        if !self.test_binary_args.is_empty() {
            args.push("--".into());
            args.extend(self.test_binary_args.iter().cloned());
        }
        args
    }
}

/// Runs the suite and prints the table.
pub(crate) fn run(args: &Args) -> ExitCode {
    let results_dir = workspace::target_dir().join("conformance-results");
    // Stale results from an earlier run must not count.
    let _ = std::fs::remove_dir_all(&results_dir);
    if let Err(err) = std::fs::create_dir_all(&results_dir) {
        eprintln!("cannot create {}: {err}", results_dir.display());
        return ExitCode::FAILURE;
    }
    println!("==> cargo test -p backups-conformance (replay, properties, transports, live)");
    let status = workspace::cargo()
        // No fail-fast: one failing suite must not hide the results of the others.
        .args([
            "test",
            "-p",
            "backups-conformance",
            "--tests",
            "--no-fail-fast",
        ])
        .args(args.cargo_test_args())
        .env(RESULTS_DIR_ENV, &results_dir)
        .status();
    let tests_passed = match status {
        Ok(status) => status.success(),
        Err(err) => {
            eprintln!("cannot run cargo: {err}");
            return ExitCode::FAILURE;
        }
    };
    let report = match SuiteReport::read_results(&results_dir) {
        Ok(report) => report,
        Err(err) => {
            eprintln!(
                "cannot read the results in {}: {err}",
                results_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let results = &report.results;
    let mut suites: Vec<&str> = results.iter().map(|r| r.suite.as_str()).collect();
    suites.sort_unstable();
    suites.dedup();
    println!("\n==> conformance results ({} checks)\n", results.len());
    print!("{}", report.table());
    for suite in &suites {
        let (pass, fail) = count(results.iter().filter(|r| r.suite == *suite));
        println!("suite {suite:<16} {pass:>4} passed {fail:>4} failed");
    }
    let failures: Vec<&CaseResult> = report.failures().collect();
    for failure in &failures {
        println!(
            "\nFAILED {} {} ({} / {}):\n{}",
            failure.suite, failure.case, failure.operation, failure.family, failure.detail
        );
    }
    let missing: Vec<&&str> = EXPECTED_SUITES
        .iter()
        .filter(|s| !suites.contains(s))
        .collect();
    if !missing.is_empty() {
        println!("\nno results from suite(s) {missing:?}: did their tests run?");
    }
    if tests_passed && failures.is_empty() && missing.is_empty() {
        println!("\nconformance: all passed");
        ExitCode::SUCCESS
    } else {
        println!("\nconformance: FAILED");
        ExitCode::FAILURE
    }
}

/// Passed and failed among `results`.
fn count<'a>(results: impl Iterator<Item = &'a CaseResult>) -> (usize, usize) {
    results.fold((0, 0), |(pass, fail), r| {
        if r.passed {
            (pass + 1, fail)
        } else {
            (pass, fail + 1)
        }
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::{Cli, Task};

    fn cargo_test_args(line: &[&str]) -> Vec<String> {
        let cli = Cli::try_parse_from(["cargo xtask", "conformance"].iter().chain(line)).unwrap();
        match cli.task {
            Some(Task::Conformance(args)) => args.cargo_test_args(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cargo_test_args_pass_through_unchanged() {
        assert!(cargo_test_args(&[]).is_empty());
        assert_eq!(
            cargo_test_args(&["--release", "--", "--nocapture"]),
            ["--release", "--", "--nocapture"]
        );
        assert_eq!(cargo_test_args(&["live", "-q"]), ["live", "-q"]);
        assert_eq!(
            cargo_test_args(&["--", "--nocapture"]),
            ["--", "--nocapture"]
        );
        assert_eq!(
            cargo_test_args(&["-q", "--test", "live", "--", "--nocapture", "-q"]),
            ["-q", "--test", "live", "--", "--nocapture", "-q"]
        );
    }
}
