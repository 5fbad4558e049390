//! [`SuiteReport`]: pass and fail per case, the results table, and the results files that
//! `cargo xtask conformance` reads.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use backups_proto::Operation;
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

    /// Reads back every `<suite>.jsonl` that [`write_results`](Self::write_results) left in
    /// `dir`, in file-name order so that the table does not depend on the directory's order.
    pub fn read_results(dir: &Path) -> std::io::Result<Self> {
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == "jsonl") {
                paths.push(path);
            }
        }
        paths.sort();
        let mut results = Vec::new();
        for path in paths {
            for line in std::fs::read_to_string(&path)?.lines() {
                let result = serde_json::from_str(line).map_err(|err| {
                    std::io::Error::other(format!("{}: {err} in {line}", path.display()))
                })?;
                results.push(result);
            }
        }
        Ok(Self { results })
    }
}

/// Renders results as a table of operations by families; cells sum over the suites when the
/// results come from several.
pub fn render_table(results: &[CaseResult]) -> String {
    let mut cells: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    let mut families: Vec<&str> = Vec::new();
    let mut operations: Vec<&str> = Vec::new();
    let mut suites: Vec<&str> = Vec::new();
    for result in results {
        if !suites.contains(&result.suite.as_str()) {
            suites.push(&result.suite);
        }
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
    // The API's operations in its order, then the model checks, then anything else by name.
    let rank = |op: &str| {
        Operation::ALL
            .iter()
            .position(|o| o.name() == op)
            .unwrap_or(Operation::ALL.len() + usize::from(op != "models"))
    };
    operations.sort_by_key(|op| (rank(op), *op));
    // Each column as wide as its family's name (the cells are shorter).
    let width = |family: &str| family.len().max(5);
    // The first column as wide as the longest operation name.
    let first = operations
        .iter()
        .map(|op| op.len())
        .max()
        .unwrap_or(0)
        .max(16);
    let mut text = format!("{:<first$}", "operation");
    for family in &families {
        let _ = write!(text, " {family:>w$}", w = width(family));
    }
    text.push_str(&format!(" {:>9}\n", "total"));
    for op in &operations {
        let _ = write!(text, "{op:<first$}");
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
    if suites.len() > 1 {
        text.push_str("(cells: passed/failed, summed over the suites)\n");
    } else {
        text.push_str("(cells: passed/failed)\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(suite: &str, operation: &str, passed: bool) -> CaseResult {
        CaseResult {
            suite: suite.into(),
            case: "a \"case\"\n".into(),
            operation: operation.into(),
            family: "error-status".into(),
            passed,
            detail: String::new(),
        }
    }

    #[test]
    fn results_files_read_back_in_file_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let line = |r: &CaseResult| serde_json::to_string(r).unwrap() + "\n";
        let replay = result("replay", "delete", false);
        let live = result("live", "list", true);
        std::fs::write(dir.path().join("replay.jsonl"), line(&replay)).unwrap();
        std::fs::write(dir.path().join("live.jsonl"), line(&live)).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not results").unwrap();
        let report = SuiteReport::read_results(dir.path()).unwrap();
        assert_eq!(report.results, [live, replay]);

        std::fs::write(dir.path().join("bad.jsonl"), "{\"suite\":").unwrap();
        assert!(SuiteReport::read_results(dir.path()).is_err());
    }

    #[test]
    fn the_table_lists_operations_in_api_order_and_says_when_it_sums_suites() {
        let one = [
            result("replay", "models", true),
            result("replay", "list", true),
        ];
        let table = render_table(&one);
        assert!(table.find("list").unwrap() < table.find("models").unwrap());
        assert!(table.ends_with("(cells: passed/failed)\n"), "{table}");
        let two = [
            result("replay", "list", true),
            result("live", "list", false),
        ];
        let table = render_table(&two);
        let list_row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(list_row, ["list", "1/1", "1/1"], "{table}");
        assert!(table.ends_with("summed over the suites)\n"), "{table}");
        let long = [
            result("replay", "list", true),
            result("replay", "restoration_status", true),
        ];
        let table = render_table(&long);
        let ends: Vec<usize> = table.lines().take(3).map(str::len).collect();
        assert!(
            ends.iter().all(|&end| end == ends[0]),
            "columns align:\n{table}"
        );
    }
}
