//! [`SuiteReport`]: pass and fail per case, the results table, and the results files that
//! `cargo xtask conformance` reads.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The environment variable naming the directory where test binaries write their results
/// (`<suite>.jsonl`); unset, nothing is written.
pub const RESULTS_DIR_ENV: &str = "BACKUPS_CONFORMANCE_RESULTS";

/// The result of one case (or one property) in one suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Which suite ran it: `replay`, `property`, `live`, or `transport` for a user's transport.
    pub suite: String,
    /// The case or property name.
    pub case: String,
    /// The operation it exercises (`list`, `create`, `create_streamed`, `delete`, or `models`).
    pub operation: String,
    /// The case family, such as `error-status`.
    pub family: String,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed (empty when it passed).
    pub detail: String,
}

/// The results of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// One entry per case run.
    pub results: Vec<CaseResult>,
}

impl SuiteReport {
    /// Whether every case passed (and at least one ran).
    pub fn passed(&self) -> bool {
        !self.results.is_empty() && self.results.iter().all(|r| r.passed)
    }

    /// The cases that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CaseResult> {
        self.results.iter().filter(|r| !r.passed)
    }

    /// Panics with the table and every failure unless the run passed.
    #[track_caller]
    pub fn assert_passed(&self) {
        if self.passed() {
            return;
        }
        let mut text = self.table();
        if self.results.is_empty() {
            text.push_str("no case ran\n");
        }
        for failure in self.failures() {
            let _ = writeln!(
                text,
                "\nFAILED {} {} ({} / {}):\n{}",
                failure.suite, failure.case, failure.operation, failure.family, failure.detail
            );
        }
        panic!("conformance failed:\n{text}");
    }

    /// The results table: each operation by each case family, `passed/failed` per cell.
    pub fn table(&self) -> String {
        render_table(&self.results)
    }

    /// Writes the results to `$BACKUPS_CONFORMANCE_RESULTS/<suite>.jsonl` when that variable is
    /// set, for `cargo xtask conformance` to read.
    pub fn write_results(&self, suite: &str) -> std::io::Result<Option<PathBuf>> {
        let Some(dir) = std::env::var_os(RESULTS_DIR_ENV) else {
            return Ok(None);
        };
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{suite}.jsonl"));
        let mut file = std::fs::File::create(&path)?;
        for result in &self.results {
            let line = serde_json::to_string(result).map_err(std::io::Error::other)?;
            writeln!(file, "{line}")?;
        }
        Ok(Some(path))
    }
}

/// Renders results as a table of operations by families.
pub fn render_table(results: &[CaseResult]) -> String {
    let mut cells: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    let mut families: Vec<&str> = Vec::new();
    let mut operations: Vec<&str> = Vec::new();
    for result in results {
        if !families.contains(&result.family.as_str()) {
            families.push(&result.family);
        }
        if !operations.contains(&result.operation.as_str()) {
            operations.push(&result.operation);
        }
        let cell = cells
            .entry((result.operation.as_str(), result.family.as_str()))
            .or_default();
        if result.passed {
            cell.0 += 1;
        } else {
            cell.1 += 1;
        }
    }
    families.sort_unstable();
    let order = ["list", "create", "create_streamed", "delete", "models"];
    operations.sort_by_key(|op| order.iter().position(|o| o == op).unwrap_or(order.len()));
    // Each column as wide as its family's name (the cells are shorter).
    let width = |family: &str| family.len().max(5);
    let mut text = format!("{:<16}", "operation");
    for family in &families {
        let _ = write!(text, " {family:>w$}", w = width(family));
    }
    text.push_str(&format!(" {:>9}\n", "total"));
    for op in &operations {
        let _ = write!(text, "{op:<16}");
        let mut total = (0, 0);
        for family in &families {
            let cell = match cells.get(&(*op, *family)) {
                Some(&(pass, fail)) => {
                    total.0 += pass;
                    total.1 += fail;
                    format!("{pass}/{fail}")
                }
                None => "-".to_owned(),
            };
            let _ = write!(text, " {cell:>w$}", w = width(family));
        }
        let _ = writeln!(text, " {:>9}", format!("{}/{}", total.0, total.1));
    }
    text.push_str("(cells: passed/failed)\n");
    text
}
