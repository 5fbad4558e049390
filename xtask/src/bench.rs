//! `cargo xtask bench`: side-by-side performance comparisons (see docs/performance.md).
//!
//! Each comparison is a plain bench binary (`harness = false`) in the crate it measures, which
//! runs ours and the baseline interleaved and prints one flat JSON object per comparison on
//! stdout. This task runs them through `cargo bench`, reads those lines, and prints the table.
//! Its options are in [`Args`] (`cargo xtask bench --help`).

mod instructions;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use serde::{Deserialize, Serialize};

/// The bench binaries: package and bench target.
const BENCHES: &[(&str, &str)] = &[
    ("backups-hyper", "hyper_compare"),
    ("backups-reqwest", "reqwest_compare"),
    ("backups-blocking", "ureq_compare"),
    ("backups-proto", "proto_compare"),
    ("backups-server", "server_compare"),
    ("backups-server", "python_compare"),
    ("backups-server", "serve_compare"),
];

/// The options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Smaller sizes, for CI smoke.
    #[arg(long)]
    quick: bool,
    /// One JSON object per comparison, to FILE, or else to stdout with the table on stderr.
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    json: Option<Option<PathBuf>>,
    /// Only the comparisons whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    only: Option<String>,
    /// Exit non-zero when a target is missed.
    #[arg(long)]
    strict: bool,
}

/// One comparison as a bench binary reports it (`bench-support/emit.rs`); other fields, such as
/// `samples`, are not needed here.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawRow")]
struct Row {
    name: String,
    unit: String,
    ours: f64,
    baseline: f64,
    /// The ratio the bench binary computed (the median of per-round ratios), if it gave one.
    #[serde(default, rename = "ratio")]
    paired: Option<f64>,
    /// `higher` or `lower`: which way is better for `ours`.
    #[serde(default)]
    better: String,
    /// The bound on `ours / baseline`, if the comparison has one.
    #[serde(default)]
    target: Option<f64>,
    note: String,
    /// Why the comparison did not run (its peer is missing, say); the row is then shown as
    /// skipped, and `ours` and `baseline` are 0.
    skipped: Option<String>,
}

/// A result line as written: `ours` and `baseline` are required unless the row is skipped.
#[derive(Debug, Deserialize)]
struct RawRow {
    name: String,
    #[serde(default)]
    unit: String,
    ours: Option<f64>,
    baseline: Option<f64>,
    #[serde(default)]
    ratio: Option<f64>,
    #[serde(default)]
    better: String,
    #[serde(default)]
    target: Option<f64>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    skipped: Option<String>,
}

impl TryFrom<RawRow> for Row {
    type Error = String;

    fn try_from(raw: RawRow) -> Result<Self, String> {
        let (ours, baseline) = match (raw.ours, raw.baseline, &raw.skipped) {
            (Some(ours), Some(baseline), _) => (ours, baseline),
            (_, _, Some(_)) => (0.0, 0.0),
            _ => return Err(format!("{}: missing `ours` or `baseline`", raw.name)),
        };
        Ok(Row {
            name: raw.name,
            unit: raw.unit,
            ours,
            baseline,
            paired: raw.ratio,
            better: raw.better,
            target: raw.target,
            note: raw.note,
            skipped: raw.skipped,
        })
    }
}

/// One comparison as `--json` writes it.
#[derive(Debug, Serialize)]
struct JsonRow<'a> {
    name: &'a str,
    unit: &'a str,
    ours: f64,
    baseline: f64,
    ratio: f64,
    target: Option<f64>,
    better: &'a str,
    pass: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<&'a str>,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.paired.unwrap_or(self.ours / self.baseline)
    }

    fn pass(&self) -> Option<bool> {
        if self.skipped.is_some() {
            return None;
        }
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

    fn json(&self) -> JsonRow<'_> {
        JsonRow {
            name: &self.name,
            unit: &self.unit,
            ours: self.ours,
            baseline: self.baseline,
            ratio: self.ratio(),
            target: self.target,
            better: &self.better,
            pass: self.pass(),
            skipped: self.skipped.as_deref(),
        }
    }
}

/// Runs the benchmark comparisons.
pub(crate) fn run(args: &Args) -> ExitCode {
    let quick = args.quick;
    let cargo = crate::workspace::cargo_program();
    let mut rows = Vec::new();
    let mut broken = false;
    for (package, bench) in BENCHES {
        let mut command = Command::new(&cargo);
        command.args(["bench", "--quiet", "-p", package, "--bench", bench, "--"]);
        if quick {
            command.arg("--quick");
        }
        if let Some(only) = &args.only {
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
            match serde_json::from_str(line) {
                Ok(row) => rows.push(row),
                Err(err) => {
                    eprintln!("xtask bench: unreadable result line ({err}): {line}");
                    broken = true;
                }
            }
        }
    }

    let mut skipped = None;
    match instructions::rows(&cargo, quick, args.only.as_deref()) {
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
    match &args.json {
        Some(None) => {
            eprint!("{table}");
            print!("{}", json_lines(&rows));
        }
        Some(Some(file)) => {
            print!("{table}");
            if let Err(err) = std::fs::write(file, json_lines(&rows)) {
                eprintln!("xtask bench: cannot write {}: {err}", file.display());
                return ExitCode::FAILURE;
            }
            eprintln!("xtask bench: wrote {}", file.display());
        }
        None => print!("{table}"),
    }
    let _ = std::io::stdout().flush();
    let missed = rows.iter().any(|row| row.pass() == Some(false));
    if broken || (args.strict && missed) {
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
        if row.skipped.is_some() {
            let _ = writeln!(
                out,
                "| {:<30} | {:<11} | {:>14} | {:>14} | {:>8} | {:>8} | {:<4} |",
                row.name,
                row.unit,
                "-",
                "-",
                "-",
                row.target_text(),
                "skip"
            );
            continue;
        }
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
    for row in rows {
        if let Some(why) = &row.skipped {
            let _ = writeln!(out, "  {}: SKIPPED: {why}", row.name);
        } else if !row.note.is_empty() {
            let _ = writeln!(out, "  {}: {}", row.name, row.note);
        }
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

/// One JSON object a line, one line per comparison.
fn json_lines(rows: &[Row]) -> String {
    rows.iter()
        .map(|row| {
            // A struct of strings, numbers and options always serializes.
            serde_json::to_string(&row.json()).expect("a row serializes") + "\n"
        })
        .collect()
}

#[cfg(test)]
#[path = "../bench-support/emit.rs"]
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

    fn parse(line: &str) -> Row {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn reads_a_result_line() {
        let row = parse(
            r#"{"name":"x","unit":"µs","ours":2,"baseline":4,"better":"lower","target":1.05,"samples":3,"note":"a, \"b\""}"#,
        );
        assert_eq!(row.name, "x");
        assert_eq!(row.unit, "µs");
        assert_eq!(row.note, "a, \"b\"");
        assert_eq!(row.ratio(), 0.5);
        let paired = parse(
            r#"{"name":"p","ours":10,"baseline":10,"ratio":0.9,"better":"higher","target":0.95}"#,
        );
        assert_eq!(paired.ratio(), 0.9);
        assert_eq!(paired.pass(), Some(false));
        assert_eq!(row.pass(), Some(true));
        let none = parse(r#"{"name":"m","ours":1,"baseline":1,"target":null}"#);
        assert_eq!(none.pass(), None);
        assert!(serde_json::from_str::<Row>(r#"{"name":"m","ours":1}"#).is_err());
    }

    #[test]
    fn reads_what_the_bench_binaries_write() {
        let line = emit::line(
            "a \"b\"",
            "µs",
            &[1.0, 3.0],
            &[2.0, 2.0],
            "lower",
            None,
            "x, }",
        );
        let row = parse(&line);
        assert_eq!((row.name.as_str(), row.note.as_str()), ("a \"b\"", "x, }"));
        assert_eq!((row.ours, row.baseline, row.paired), (2.0, 2.0, Some(1.0)));
        assert_eq!(row.pass(), None);
    }

    #[test]
    fn bench_binaries_read_quick_and_only() {
        let options = emit::Options::parse(
            ["--quick", "--only", "list-parse"]
                .map(String::from)
                .to_vec(),
        );
        assert!(options.quick);
        assert!(options.wants("list-parse-peak-mem"));
        assert!(!options.wants("list-round-trip"));
        assert!(options.wants_any(&["server-create", "list-parse"]));
        assert!(!options.wants_any(&["server-create", "server-restore"]));
        let all = emit::Options::parse(vec!["--only".into()]);
        assert!(!all.quick);
        assert!(all.wants("anything"));
    }

    #[test]
    fn a_skipped_row_is_shown_with_its_reason_and_never_passes() {
        let row = parse(&emit::skipped_line(
            "list-sequential-python",
            "calls/s",
            "higher",
            Some(8.0),
            "no venv",
        ));
        assert_eq!(row.skipped.as_deref(), Some("no venv"));
        assert_eq!(row.pass(), None);
        let table = table(&[row], false);
        assert!(table.contains("| skip |"), "{table}");
        assert!(
            table.contains("list-sequential-python: SKIPPED: no venv"),
            "{table}"
        );
        let json = json_lines(&[parse(&emit::skipped_line("s", "", "lower", None, "why"))]);
        assert!(json.contains(r#""skipped":"why""#), "{json}");
    }

    #[test]
    fn writes_one_object_a_line() {
        let rows = [
            parse(
                r#"{"name":"a\"b","unit":"MB/s","ours":2,"baseline":4,"better":"higher","target":0.9}"#,
            ),
            parse(
                r#"{"name":"c","unit":"µs","ours":1.5,"baseline":1,"ratio":1.25,"better":"lower"}"#,
            ),
        ];
        assert_eq!(
            json_lines(&rows),
            concat!(
                r#"{"name":"a\"b","unit":"MB/s","ours":2.0,"baseline":4.0,"ratio":0.5,"target":0.9,"better":"higher","pass":false}"#,
                "\n",
                r#"{"name":"c","unit":"µs","ours":1.5,"baseline":1.0,"ratio":1.25,"target":null,"better":"lower","pass":null}"#,
                "\n",
            )
        );
    }

    #[test]
    fn json_takes_an_optional_file() {
        use clap::Parser as _;

        let bench = |line: &[&str]| match crate::Cli::try_parse_from(
            ["cargo xtask", "bench"].iter().chain(line),
        ) {
            Ok(crate::Cli {
                task: Some(crate::Task::Bench(args)),
            }) => args,
            other => panic!("{other:?}"),
        };
        assert_eq!(bench(&[]).json, None);
        let args = bench(&["--json", "--quick"]);
        assert_eq!(args.json, Some(None));
        assert!(args.quick);
        let args = bench(&["--json", "b.json", "--only", "list", "--strict"]);
        assert_eq!(args.json, Some(Some("b.json".into())));
        assert_eq!(args.only.as_deref(), Some("list"));
        assert!(args.strict);
    }
}
