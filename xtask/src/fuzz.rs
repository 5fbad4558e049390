//! `cargo xtask fuzz [--seconds N] [--only TARGET]...`: runs every cargo-fuzz target under
//! `fuzz/` for N seconds each (default 60) and reports, per target, how many inputs were tried
//! and whether it crashed. Exits 1 when a target crashed, 2 when fuzzing cannot run here.
//!
//! Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain (`rustup toolchain
//! install nightly`); when there is no nightly, it tries the default toolchain with
//! `RUSTC_BOOTSTRAP=1`. Crashing inputs are left in `fuzz/artifacts/<target>/`; replay one with
//! `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// How the fuzzer is invoked here.
struct Toolchain {
    /// `+nightly`, or nothing with `RUSTC_BOOTSTRAP=1`.
    plus: Option<&'static str>,
    bootstrap: bool,
}

impl Toolchain {
    fn command(&self, root: &Path) -> Command {
        let mut command = Command::new("cargo");
        if let Some(plus) = self.plus {
            command.arg(plus);
        }
        if self.bootstrap {
            command.env("RUSTC_BOOTSTRAP", "1");
        }
        command.arg("fuzz").current_dir(root);
        // The variable belongs to the outer cargo; cargo-fuzz takes its own directory.
        command.env_remove("CARGO_TARGET_DIR");
        command.env_remove("CARGO");
        command.env_remove("RUSTUP_TOOLCHAIN");
        command
    }
}

/// The options of `cargo xtask fuzz`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How long to fuzz each target.
    #[arg(long, value_name = "N", default_value_t = 60)]
    seconds: u64,
    /// Only this target (repeat for more); all targets without it.
    #[arg(long, value_name = "TARGET")]
    only: Vec<String>,
}

/// `$CARGO_TARGET_DIR/fuzz` when the variable is set, so that fuzz builds stay beside the
/// others; otherwise cargo-fuzz's own `fuzz/target`.
fn fuzz_target_dir() -> Option<PathBuf> {
    std::env::var_os("CARGO_TARGET_DIR").map(|dir| PathBuf::from(dir).join("fuzz"))
}

fn works(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Finds a way to run cargo-fuzz, or says why there is none.
fn toolchain(root: &Path) -> Result<Toolchain, String> {
    if !works(Command::new("cargo").args(["fuzz", "--version"])) {
        return Err("cargo-fuzz is not installed: run `cargo install cargo-fuzz`".into());
    }
    let nightly = Toolchain {
        plus: Some("+nightly"),
        bootstrap: false,
    };
    if works(Command::new("cargo").args(["+nightly", "--version"])) {
        return Ok(nightly);
    }
    let bootstrap = Toolchain {
        plus: None,
        bootstrap: true,
    };
    if works(bootstrap.command(root).arg("list")) {
        eprintln!(
            "xtask fuzz: no nightly toolchain; trying the default one with RUSTC_BOOTSTRAP=1"
        );
        return Ok(bootstrap);
    }
    Err(
        "no nightly toolchain (cargo-fuzz needs -Zsanitizer): run `rustup toolchain install \
         nightly`. Meanwhile the proptest twins of every target run in `cargo test`."
            .into(),
    )
}

fn targets(root: &Path, toolchain: &Toolchain) -> Result<Vec<String>, String> {
    let output = toolchain
        .command(root)
        .arg("list")
        .output()
        .map_err(|err| format!("cannot run cargo fuzz list: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo fuzz list failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The number of inputs libFuzzer reports in its last `#N` status line or `Done N runs`.
fn runs(log: &str) -> Option<u64> {
    let done = log.lines().rev().find_map(|line| {
        line.strip_prefix("Done ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    });
    done.or_else(|| {
        log.lines().rev().find_map(|line| {
            line.strip_prefix('#')
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
    })
}

fn artifacts(root: &Path, target: &str) -> Vec<PathBuf> {
    std::fs::read_dir(root.join("fuzz/artifacts").join(target))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the task.
pub(crate) fn run(options: &Args) -> ExitCode {
    let root = crate::workspace::root();
    let toolchain = match toolchain(&root) {
        Ok(toolchain) => toolchain,
        Err(why) => {
            eprintln!("xtask fuzz: cannot fuzz here: {why}");
            return ExitCode::from(2);
        }
    };
    let all = match targets(&root, &toolchain) {
        Ok(all) => all,
        Err(err) => {
            eprintln!("xtask fuzz: {err}");
            return ExitCode::FAILURE;
        }
    };
    let chosen: Vec<&String> = all
        .iter()
        .filter(|t| options.only.is_empty() || options.only.contains(t))
        .collect();
    if chosen.is_empty() {
        eprintln!("xtask fuzz: no target matches; targets: {}", all.join(", "));
        return ExitCode::from(2);
    }
    let mut rows = Vec::new();
    for target in chosen {
        let before = artifacts(&root, target).len();
        eprintln!("xtask fuzz: {target} for {} s", options.seconds);
        let mut command = toolchain.command(&root);
        command.args(["run", target]);
        if let Some(dir) = fuzz_target_dir() {
            command.arg("--target-dir").arg(dir);
        }
        let output = command
            .arg("--")
            .arg(format!("-max_total_time={}", options.seconds))
            .stdout(Stdio::inherit())
            .output();
        let (ok, log) = match output {
            Ok(output) => (
                output.status.success(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ),
            Err(err) => (false, format!("cannot run cargo fuzz: {err}")),
        };
        let new_artifacts = artifacts(&root, target).len().saturating_sub(before);
        if !ok {
            // The end of libFuzzer's report: the panic and the artifact's path.
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            for line in tail.into_iter().rev() {
                eprintln!("    {line}");
            }
        }
        rows.push((target.clone(), ok, runs(&log), new_artifacts));
    }
    println!("\n{:<28} {:>12}  result", "target", "inputs");
    let mut failed = false;
    for (target, ok, runs, new_artifacts) in &rows {
        let runs = runs.map_or_else(|| "?".to_owned(), |n| n.to_string());
        let result = if *ok {
            "ok".to_owned()
        } else {
            failed = true;
            format!("CRASH ({new_artifacts} new input(s) in fuzz/artifacts/{target}/)")
        };
        println!("{target:<28} {runs:>12}  {result}");
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_read_from_the_done_line_or_the_last_status() {
        let log = "#2\tINITED cov: 3\n#4096\tpulse  cov: 30\nDone 12345 runs in 2 second(s)\n";
        assert_eq!(runs(log), Some(12345));
        assert_eq!(runs("#2\tINITED\n#777\tNEW cov: 4\n"), Some(777));
        assert_eq!(runs("nothing"), None);
    }

    #[test]
    fn options_parse() {
        use clap::Parser as _;

        let fuzz = |line: &[&str]| {
            crate::Cli::try_parse_from(["cargo xtask", "fuzz"].iter().chain(line)).map(|cli| {
                match cli.task {
                    Some(crate::Task::Fuzz(args)) => args,
                    other => panic!("{other:?}"),
                }
            })
        };
        let options = fuzz(&["--seconds", "5", "--only", "delete_id"]).expect("parse");
        assert_eq!(options.seconds, 5);
        assert_eq!(options.only, ["delete_id"]);
        let options = fuzz(&["--only", "a", "--only", "b"]).expect("parse");
        assert_eq!(options.seconds, 60);
        assert_eq!(options.only, ["a", "b"]);
        assert!(fuzz(&["--seconds", "x"]).is_err());
    }
}
