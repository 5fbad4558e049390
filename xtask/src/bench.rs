//! `cargo xtask bench`: side-by-side performance comparisons (see docs/performance.md).
//!
//! Each comparison is a plain bench binary (`harness = false`) in the crate it measures, which
//! runs ours and the baseline interleaved and prints one flat JSON object per comparison on
//! stdout. This task runs them through `cargo bench`, reads those lines, and prints the table.
//!
//! Options: `--quick` (smaller sizes, for CI smoke), `--json [FILE]` (one object per comparison,
//! to FILE or else to stdout with the table on stderr), `--only TEXT` (comparisons whose name
//! contains TEXT), `--strict` (exit non-zero when a target is missed).

mod instructions;

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, ExitCode, Stdio};

/// The bench binaries: package and bench target.
const BENCHES: &[(&str, &str)] = &[
    ("backups-hyper", "hyper_compare"),
    ("backups-proto", "proto_compare"),
    ("backups-server", "server_compare"),
];

/// One comparison as a bench binary reports it.
#[derive(Debug, Default)]
struct Row {
    name: String,
    unit: String,
    ours: f64,
    baseline: f64,
    /// The ratio the bench binary computed (the median of per-round ratios), if it gave one.
    paired: Option<f64>,
    /// `higher` or `lower`: which way is better for `ours`.
    better: String,
    /// The bound on `ours / baseline`, if the comparison has one.
    target: Option<f64>,
    note: String,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.paired.unwrap_or(self.ours / self.baseline)
    }

    fn pass(&self) -> Option<bool> {
        let target = self.target?;
        Some(if self.better == "higher" {
            self.ratio() >= target
        } else {
            self.ratio() <= target
        })
    }

    fn target_text(&self) -> String {
        match self.target {
            None => "-".into(),
            Some(t) if self.better == "higher" => format!(">= {t}"),
            Some(t) => format!("<= {t}"),
        }
    }
}

/// Runs the benchmark comparisons.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let mut quick = false;
    let mut strict = false;
    let mut json: Option<Option<String>> = None;
    let mut only: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--quick" => quick = true,
            "--strict" => strict = true,
            "--json" => {
                let file = args.get(i + 1).filter(|a| !a.starts_with("--")).cloned();
                if file.is_some() {
                    i += 1;
                }
                json = Some(file);
            }
            "--only" => {
                only = args.get(i + 1).cloned();
                i += 1;
            }
            other => {
                eprintln!("xtask bench: unknown option {other}");
                eprintln!(
                    "usage: cargo xtask bench [--quick] [--json [FILE]] [--only TEXT] [--strict]"
                );
                return ExitCode::from(2);
            }
        }
        i += 1;
    }

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut rows = Vec::new();
    let mut broken = false;
    for (package, bench) in BENCHES {
        let mut command = Command::new(&cargo);
        command.args(["bench", "--quiet", "-p", package, "--bench", bench, "--"]);
        if quick {
            command.arg("--quick");
        }
        if let Some(only) = &only {
            command.args(["--only", only]);
        }
        eprintln!("xtask bench: {package} {bench}");
        let output = match command.stderr(Stdio::inherit()).output() {
            Ok(output) => output,
            Err(err) => {
                eprintln!("xtask bench: cannot run cargo: {err}");
                return ExitCode::FAILURE;
            }
        };
        if !output.status.success() {
            eprintln!("xtask bench: {package} {bench} failed ({})", output.status);
            broken = true;
        }
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let line = line.trim();
            if !line.starts_with('{') {
                continue;
            }
            match parse_row(line) {
                Some(row) => rows.push(row),
                None => {
                    eprintln!("xtask bench: unreadable result line: {line}");
                    broken = true;
                }
            }
        }
    }

    let mut skipped = None;
    match instructions::rows(&cargo, quick, only.as_deref()) {
        Ok(counted) => rows.extend(counted),
        Err(why) if why.starts_with("skipped") => skipped = Some(why),
        Err(why) => {
            eprintln!("xtask bench: instruction counts: {why}");
            broken = true;
        }
    }

    let mut table = table(&rows, quick);
    if let Some(why) = &skipped {
        let _ = writeln!(table, "  instruction counts: {why}");
    }
    match &json {
        Some(None) => {
            eprint!("{table}");
            print!("{}", json_lines(&rows));
        }
        Some(Some(file)) => {
            print!("{table}");
            if let Err(err) = std::fs::write(file, json_lines(&rows)) {
                eprintln!("xtask bench: cannot write {file}: {err}");
                return ExitCode::FAILURE;
            }
            eprintln!("xtask bench: wrote {file}");
        }
        None => print!("{table}"),
    }
    let _ = std::io::stdout().flush();
    let missed = rows.iter().any(|row| row.pass() == Some(false));
    if broken || (strict && missed) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn table(rows: &[Row], quick: bool) -> String {
    let mut out = String::new();
    let mode = if quick { " (--quick)" } else { "" };
    let _ = writeln!(
        out,
        "\ncargo xtask bench{mode}: medians; ratio = ours / baseline, the median of per-round ratios\n"
    );
    let _ = writeln!(
        out,
        "| {:<30} | {:<11} | {:>14} | {:>14} | {:>8} | {:>8} | {:<4} |",
        "comparison", "unit", "ours", "baseline", "ratio", "target", "pass"
    );
    let _ = writeln!(
        out,
        "|{}|{}|{}|{}|{}|{}|{}|",
        "-".repeat(32),
        "-".repeat(13),
        "-".repeat(16),
        "-".repeat(16),
        "-".repeat(10),
        "-".repeat(10),
        "-".repeat(6)
    );
    for row in rows {
        let pass = match row.pass() {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "-",
        };
        let _ = writeln!(
            out,
            "| {:<30} | {:<11} | {:>14} | {:>14} | {:>8.3} | {:>8} | {:<4} |",
            row.name,
            row.unit,
            number(row.ours),
            number(row.baseline),
            row.ratio(),
            row.target_text(),
            pass
        );
    }
    for row in rows.iter().filter(|row| !row.note.is_empty()) {
        let _ = writeln!(out, "  {}: {}", row.name, row.note);
    }
    out
}

fn number(value: f64) -> String {
    if value.abs() >= 1000.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}

fn json_lines(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        let _ = writeln!(
            out,
            "{{\"name\":{},\"unit\":{},\"ours\":{},\"baseline\":{},\"ratio\":{},\"target\":{},\"better\":{},\"pass\":{}}}",
            quote(&row.name),
            quote(&row.unit),
            row.ours,
            row.baseline,
            row.ratio(),
            row.target.map_or("null".into(), |t| t.to_string()),
            quote(&row.better),
            row.pass().map_or("null".into(), |p| p.to_string()),
        );
    }
    out
}

fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads one flat JSON object of strings, numbers and nulls (what the bench binaries print).
fn parse_row(line: &str) -> Option<Row> {
    let mut row = Row::default();
    let mut rest = line.strip_prefix('{')?.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return after.trim().is_empty().then_some(row);
        }
        let (key, after) = parse_string(rest)?;
        rest = after.trim_start().strip_prefix(':')?.trim_start();
        let value;
        if rest.starts_with('"') {
            let (text, after) = parse_string(rest)?;
            value = Value::Text(text);
            rest = after;
        } else {
            let end = rest.find([',', '}'])?;
            let token = rest[..end].trim();
            value = if token == "null" {
                Value::Null
            } else {
                Value::Number(token.parse().ok()?)
            };
            rest = &rest[end..];
        }
        match (key.as_str(), value) {
            ("name", Value::Text(t)) => row.name = t,
            ("unit", Value::Text(t)) => row.unit = t,
            ("better", Value::Text(t)) => row.better = t,
            ("note", Value::Text(t)) => row.note = t,
            ("ours", Value::Number(n)) => row.ours = n,
            ("baseline", Value::Number(n)) => row.baseline = n,
            ("ratio", Value::Number(n)) => row.paired = Some(n),
            ("target", Value::Number(n)) => row.target = Some(n),
            _ => {}
        }
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        }
    }
}

enum Value {
    Text(String),
    Number(f64),
    Null,
}

/// A JSON string at the start of `text` (simple escapes only); returns it and what follows.
fn parse_string(text: &str) -> Option<(String, &str)> {
    let mut chars = text.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((out, &text[at + 2..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
#[path = "../bench-support/emit.rs"]
#[allow(dead_code)]
mod emit;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_are_compared_pair_by_pair() {
        // The second half of the run is twice as slow for both sides: the medians of each side
        // come from different halves, the per-round ratios do not.
        let ours = [9.0, 9.0, 9.0, 4.5, 4.5];
        let baseline = [10.0, 10.0, 5.0, 5.0, 5.0];
        assert_eq!(emit::ratio(&ours, &baseline), 0.9);
        assert_eq!(emit::median(&ours) / emit::median(&baseline), 1.8);
        assert_eq!(emit::ratio(&[3.0], &[2.0, 4.0]), 1.0);
    }

    #[test]
    fn reads_a_result_line() {
        let row = parse_row(
            r#"{"name":"x","unit":"µs","ours":2,"baseline":4,"better":"lower","target":1.05,"samples":3,"note":"a, \"b\""}"#,
        )
        .unwrap();
        assert_eq!(row.name, "x");
        assert_eq!(row.unit, "µs");
        assert_eq!(row.note, "a, \"b\"");
        assert_eq!(row.ratio(), 0.5);
        let paired = parse_row(
            r#"{"name":"p","ours":10,"baseline":10,"ratio":0.9,"better":"higher","target":0.95}"#,
        )
        .unwrap();
        assert_eq!(paired.ratio(), 0.9);
        assert_eq!(paired.pass(), Some(false));
        assert_eq!(row.pass(), Some(true));
        let none = parse_row(r#"{"name":"m","ours":1,"baseline":1,"target":null}"#).unwrap();
        assert_eq!(none.pass(), None);
    }
}
