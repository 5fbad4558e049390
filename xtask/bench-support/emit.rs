//! What every comparison bench binary is given and prints: the options `cargo xtask bench`
//! passes ([`Options`]) and one flat JSON object per comparison, the format `xtask/src/bench.rs`
//! reads. Included by path (`#[path]`) from each crate's bench binary, so the
//! format is written in one place and no crate depends on another for it.

// Each bench binary includes this file and uses only part of it.
#![allow(dead_code)]

/// The options `cargo xtask bench` passes a bench binary: `--quick` for CI's smaller sizes, and
/// `--only TEXT` for the comparisons whose name contains TEXT. Other arguments (a binary's own
/// `--work` or `--mem` modes) stay in `args`.
pub(crate) struct Options {
    /// Every argument after the program's name.
    pub(crate) args: Vec<String>,
    /// Smaller sizes and fewer rounds.
    pub(crate) quick: bool,
    only: Option<String>,
}

impl Options {
    /// The options of this process.
    pub(crate) fn from_env() -> Self {
        Self::parse(std::env::args().skip(1).collect())
    }

    /// The options in `args`; `--only` without a value keeps every comparison.
    pub(crate) fn parse(args: Vec<String>) -> Self {
        let quick = args.iter().any(|a| a == "--quick");
        let only = args
            .iter()
            .position(|a| a == "--only")
            .and_then(|at| args.get(at + 1).cloned());
        Self { args, quick, only }
    }

    /// Whether the comparison `name` is to run.
    pub(crate) fn wants(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|only| name.contains(only))
    }

    /// Whether any of `names` is to run: for comparisons measured by the same runs, which run
    /// and print all together or not at all.
    pub(crate) fn wants_any(&self, names: &[&str]) -> bool {
        names.iter().any(|name| self.wants(name))
    }
}

/// The median of `samples` (the mean of the middle two for an even count).
pub(crate) fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 0 {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// The ratio of a comparison: the median of the per-round ratios `ours[i] / baseline[i]` when
/// the samples come in rounds (one of each side back to back, as every interleaved comparison
/// takes them), else the ratio of the medians.
///
/// Pairing cancels the drift of this VM's speed over seconds, which moves both samples of a round
/// alike but can leave the two medians from different stretches of a run.
pub(crate) fn ratio(ours: &[f64], baseline: &[f64]) -> f64 {
    if ours.len() == baseline.len() && ours.len() > 1 {
        let ratios: Vec<f64> = ours.iter().zip(baseline).map(|(o, b)| o / b).collect();
        median(&ratios)
    } else {
        median(ours) / median(baseline)
    }
}

/// Prints one comparison: medians of ours and of the baseline, the ratio (see [`ratio`]), which
/// way is better, the target.
///
/// Written with `serde_json`, which each bench crate already depends on, so that a name or note
/// with a quote in it still makes a line `xtask/src/bench.rs` can read.
pub(crate) fn emit(
    name: &str,
    unit: &str,
    ours: &[f64],
    baseline: &[f64],
    better: &str,
    target: Option<f64>,
    note: &str,
) {
    println!("{}", line(name, unit, ours, baseline, better, target, note));
}

/// Prints a comparison that could not run (a peer missing from the machine, say), with the
/// reason: the table shows it as skipped rather than leaving the row out.
pub(crate) fn skip(name: &str, unit: &str, better: &str, target: Option<f64>, why: &str) {
    println!("{}", skipped_line(name, unit, better, target, why));
}

/// The line [`skip`] prints.
pub(crate) fn skipped_line(
    name: &str,
    unit: &str,
    better: &str,
    target: Option<f64>,
    why: &str,
) -> String {
    serde_json::json!({
        "name": name,
        "unit": unit,
        "better": better,
        "target": target,
        "skipped": why,
    })
    .to_string()
}

/// The line [`emit`] prints.
pub(crate) fn line(
    name: &str,
    unit: &str,
    ours: &[f64],
    baseline: &[f64],
    better: &str,
    target: Option<f64>,
    note: &str,
) -> String {
    serde_json::json!({
        "name": name,
        "unit": unit,
        "ours": median(ours),
        "baseline": median(baseline),
        "ratio": ratio(ours, baseline),
        "better": better,
        "target": target,
        "samples": ours.len(),
        "note": note,
    })
    .to_string()
}
