//! `cargo xtask conformance` and `cargo xtask record`: the conformance suite (see
//! docs/conformance.md).
//!
//! Kept light on purpose: these tasks shell out to cargo and read the JSON lines the test
//! binaries write, rather than linking the crates they check; the lines are flat objects of
//! strings and booleans, read by the small parser at the end of this file, so xtask has no
//! dependencies at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The variable the conformance tests read to know where to write their results.
const RESULTS_DIR_ENV: &str = "BACKUPS_CONFORMANCE_RESULTS";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_relative() {
                workspace_root().join(dir)
            } else {
                dir
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Records fresh HAR cases from a live server.
pub(crate) fn record(args: &[String]) -> ExitCode {
    let status = cargo()
        .args([
            "run",
            "--quiet",
            "-p",
            "backups-conformance",
            "--example",
            "record",
            "--",
        ])
        .args(args)
        .status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("cannot run cargo: {err}");
            ExitCode::FAILURE
        }
    }
}

/// One line of a results file.
struct Result_ {
    suite: String,
    case: String,
    operation: String,
    family: String,
    passed: bool,
    detail: String,
}

/// Runs the suite and prints the table.
pub(crate) fn run(extra: &[String]) -> ExitCode {
    let results_dir = target_dir().join("conformance-results");
    // Stale results from an earlier run must not count.
    let _ = std::fs::remove_dir_all(&results_dir);
    if let Err(err) = std::fs::create_dir_all(&results_dir) {
        eprintln!("cannot create {}: {err}", results_dir.display());
        return ExitCode::FAILURE;
    }
    println!("==> cargo test -p backups-conformance (replay, properties, transports, live)");
    let status = cargo()
        // No fail-fast: one failing suite must not hide the results of the others.
        .args([
            "test",
            "-p",
            "backups-conformance",
            "--tests",
            "--no-fail-fast",
        ])
        .args(extra)
        .env(RESULTS_DIR_ENV, &results_dir)
        .status();
    let tests_passed = match status {
        Ok(status) => status.success(),
        Err(err) => {
            eprintln!("cannot run cargo: {err}");
            return ExitCode::FAILURE;
        }
    };
    let results = match read_results(&results_dir) {
        Ok(results) => results,
        Err(err) => {
            eprintln!(
                "cannot read the results in {}: {err}",
                results_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let suites: Vec<&str> = {
        let mut suites: Vec<&str> = results.iter().map(|r| r.suite.as_str()).collect();
        suites.sort_unstable();
        suites.dedup();
        suites
    };
    println!("\n==> conformance results ({} checks)\n", results.len());
    print!("{}", table(&results));
    for suite in &suites {
        let (pass, fail) = count(results.iter().filter(|r| r.suite == *suite));
        println!("suite {suite:<16} {pass:>4} passed {fail:>4} failed");
    }
    let failures: Vec<&Result_> = results.iter().filter(|r| !r.passed).collect();
    for failure in &failures {
        println!(
            "\nFAILED {} {} ({} / {}):\n{}",
            failure.suite, failure.case, failure.operation, failure.family, failure.detail
        );
    }
    let expected = ["live", "property", "replay", "transport", "transport-hyper"];
    let missing: Vec<&&str> = expected.iter().filter(|s| !suites.contains(s)).collect();
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

fn read_results(dir: &Path) -> std::io::Result<Vec<Result_>> {
    let mut results = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|ext| ext != "jsonl") {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            let fields = parse_flat_object(line).ok_or_else(|| {
                std::io::Error::other(format!("{}: bad line {line}", path.display()))
            })?;
            let text = |key: &str| match fields.get(key) {
                Some(Field::Text(text)) => text.clone(),
                _ => String::new(),
            };
            results.push(Result_ {
                suite: text("suite"),
                case: text("case"),
                operation: text("operation"),
                family: text("family"),
                passed: matches!(fields.get("passed"), Some(Field::Bool(true))),
                detail: text("detail"),
            });
        }
    }
    Ok(results)
}

fn count<'a>(results: impl Iterator<Item = &'a Result_>) -> (usize, usize) {
    results.fold((0, 0), |(pass, fail), r| {
        if r.passed {
            (pass + 1, fail)
        } else {
            (pass, fail + 1)
        }
    })
}

/// Each operation by each case family, `passed/failed` summed over the suites.
fn table(results: &[Result_]) -> String {
    let mut cells: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    let mut families: Vec<&str> = Vec::new();
    for r in results {
        if !families.contains(&r.family.as_str()) {
            families.push(&r.family);
        }
        let cell = cells.entry((&r.operation, &r.family)).or_default();
        if r.passed {
            cell.0 += 1;
        } else {
            cell.1 += 1;
        }
    }
    families.sort_unstable();
    let order = ["list", "create", "create_streamed", "delete", "models"];
    let mut operations: Vec<&str> = results.iter().map(|r| r.operation.as_str()).collect();
    operations.sort_by_key(|op| {
        (
            order.iter().position(|o| o == op).unwrap_or(order.len()),
            *op,
        )
    });
    operations.dedup();
    // Each column as wide as its family's name (the cells are shorter).
    let width = |family: &str| family.len().max(5);
    let mut out = format!("{:<16}", "operation");
    for family in &families {
        out.push_str(&format!(" {family:>w$}", w = width(family)));
    }
    out.push_str(&format!(" {:>9}\n", "total"));
    for op in operations {
        out.push_str(&format!("{op:<16}"));
        let mut total = (0, 0);
        for family in &families {
            let cell = cells.get(&(op, family)).map_or("-".to_owned(), |&(p, f)| {
                total.0 += p;
                total.1 += f;
                format!("{p}/{f}")
            });
            out.push_str(&format!(" {cell:>w$}", w = width(family)));
        }
        out.push_str(&format!(" {:>9}\n", format!("{}/{}", total.0, total.1)));
    }
    out.push_str("(cells: passed/failed, summed over the suites)\n");
    out
}

/// A value of a flat JSON object.
enum Field {
    Text(String),
    Bool(bool),
    Other,
}

/// Reads a JSON object whose values are strings, booleans, numbers or null (what the results
/// files hold); `None` for anything else.
fn parse_flat_object(line: &str) -> Option<BTreeMap<String, Field>> {
    let mut chars = line.trim().chars().peekable();
    let mut fields = BTreeMap::new();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
    };
    let string = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Option<String> {
        if chars.next()? != '"' {
            return None;
        }
        let mut out = String::new();
        loop {
            match chars.next()? {
                '"' => return Some(out),
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        // Surrogate pairs are rare in results; a lone one becomes U+FFFD.
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    other => out.push(other),
                },
                c => out.push(c),
            }
        }
    };
    skip_ws(&mut chars);
    if chars.next()? != '{' {
        return None;
    }
    loop {
        skip_ws(&mut chars);
        if chars.peek() == Some(&'}') {
            chars.next();
            return Some(fields);
        }
        let key = string(&mut chars)?;
        skip_ws(&mut chars);
        if chars.next()? != ':' {
            return None;
        }
        skip_ws(&mut chars);
        let value = match chars.peek()? {
            '"' => Field::Text(string(&mut chars)?),
            _ => {
                let word: String =
                    std::iter::from_fn(|| chars.next_if(|c| !matches!(c, ',' | '}'))).collect();
                match word.trim() {
                    "true" => Field::Bool(true),
                    "false" => Field::Bool(false),
                    _ => Field::Other,
                }
            }
        };
        fields.insert(key, value);
        skip_ws(&mut chars);
        match chars.next()? {
            ',' => continue,
            '}' => return Some(fields),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_results_line() {
        let line =
            r#"{"suite":"replay","case":"a \"b\"\n\u00e9","passed":false,"n":3,"detail":"x, }"}"#;
        let fields = parse_flat_object(line).unwrap();
        assert!(matches!(fields.get("case"), Some(Field::Text(t)) if t == "a \"b\"\n\u{e9}"));
        assert!(matches!(fields.get("passed"), Some(Field::Bool(false))));
        assert!(matches!(fields.get("detail"), Some(Field::Text(t)) if t == "x, }"));
        assert!(matches!(fields.get("n"), Some(Field::Other)));
        assert!(parse_flat_object("not json").is_none());
    }
}
