//! What every comparison bench binary prints: one flat JSON object per comparison, the format
//! `xtask/src/bench.rs` reads. Included by path (`#[path]`) from each crate's bench binary, so the
//! format is written in one place and no crate depends on another for it.

// Each bench binary includes this file and uses only part of it.
#![allow(dead_code)]

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
