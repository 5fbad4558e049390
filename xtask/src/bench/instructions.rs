//! Instruction counts: each side's work run alone under `valgrind --tool=callgrind`.
//!
//! Wall-clock ratios on a shared 2-core VM move by several percent between runs; the number of
//! instructions a piece of work executes does not. Each case runs one side's work twice, at two
//! sizes, in a process of its own (the list server in another process, so that only the client
//! is counted), and reports the instructions per unit of work: the difference between the two
//! runs divided by the difference in size, which cancels start-up and set-up.

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, Command, Stdio};

use serde::Deserialize;

use super::Row;

/// One counted comparison.
struct Case {
    name: &'static str,
    unit: &'static str,
    package: &'static str,
    bench: &'static str,
    /// The bench binary's `--work` case.
    work: &'static str,
    /// The two sizes (units of work), full and `--quick`.
    sizes: (u64, u64),
    quick_sizes: (u64, u64),
    /// Whether the work needs the bench binary's `--serve` server.
    server: bool,
    target: f64,
    note: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "list-instructions",
        unit: "instr/call",
        package: "backups-hyper",
        bench: "hyper_compare",
        work: "list",
        sizes: (200, 1200),
        quick_sizes: (100, 400),
        server: true,
        target: 1.05,
        note: "callgrind: client instructions per list, 10-backup listing",
    },
    Case {
        name: "progress-decode-instructions",
        unit: "instr/event",
        package: "backups-proto",
        bench: "proto_compare",
        work: "progress-decode",
        sizes: (20_000, 120_000),
        quick_sizes: (10_000, 40_000),
        server: false,
        target: 1.25,
        note: "callgrind: instructions per progress event (1.25 = the 0.8 throughput bar)",
    },
];

/// The counted comparisons whose name contains `only` (all without it), or why none ran.
pub(super) fn rows(cargo: &str, quick: bool, only: Option<&str>) -> Result<Vec<Row>, String> {
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|case| only.is_none_or(|only| case.name.contains(only)))
        .collect();
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let found = Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !found.is_ok_and(|status| status.success()) {
        return Err("skipped: valgrind is not installed (apt-get install valgrind)".into());
    }
    let mut rows = Vec::new();
    for case in cases {
        eprintln!("xtask bench: counting instructions for {}", case.name);
        let exe = bench_executable(cargo, case.package, case.bench)?;
        let server = if case.server {
            Some(Server::start(&exe)?)
        } else {
            None
        };
        let (small, large) = if quick { case.quick_sizes } else { case.sizes };
        let mut per_unit = [0.0; 2];
        for (side, slot) in ["ours", "floor"].iter().zip(&mut per_unit) {
            let at_small = count(&exe, case, side, small, server.as_ref())?;
            let at_large = count(&exe, case, side, large, server.as_ref())?;
            *slot = at_large.saturating_sub(at_small) as f64 / (large - small) as f64;
        }
        rows.push(Row {
            name: case.name.into(),
            unit: case.unit.into(),
            ours: per_unit[0],
            baseline: per_unit[1],
            paired: None,
            better: "lower".into(),
            target: Some(case.target),
            note: case.note.into(),
            skipped: None,
        });
    }
    Ok(rows)
}

/// The path of a bench binary, built if needed.
fn bench_executable(cargo: &str, package: &str, bench: &str) -> Result<String, String> {
    let output = Command::new(cargo)
        .args(["bench", "--no-run", "--quiet", "--message-format=json"])
        .args(["-p", package, "--bench", bench])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|err| format!("cannot run cargo: {err}"))?;
    if !output.status.success() {
        return Err(format!("building {package} {bench} failed"));
    }
    executable(&String::from_utf8_lossy(&output.stdout))
        .ok_or_else(|| format!("cargo named no executable for {package} {bench}"))
}

/// The fields of cargo's `--message-format=json` messages that name a built executable.
#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    executable: Option<String>,
}

/// The executable of the first compiler artifact that has one in cargo's messages.
fn executable(messages: &str) -> Option<String> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .find(|message| message.reason == "compiler-artifact" && message.executable.is_some())
        .and_then(|message| message.executable)
}

/// The bench binary's canned server, in a process of its own; it stops when dropped.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn start(exe: &str) -> Result<Self, String> {
        let mut child = Command::new(exe)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot start {exe} --serve: {err}"))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        let base_url = line.trim().to_owned();
        if !base_url.starts_with("http://") {
            let _ = child.kill();
            return Err(format!("{exe} --serve printed {line:?}, not its URL"));
        }
        Ok(Self { child, base_url })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing its standard input tells it to stop.
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.wait();
    }
}

/// The instructions of one run of `--work` under callgrind.
fn count(
    exe: &str,
    case: &Case,
    side: &str,
    size: u64,
    server: Option<&Server>,
) -> Result<u64, String> {
    let mut command = Command::new("valgrind");
    command
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null", exe])
        .args(["--work", case.work, side, &size.to_string()]);
    if let Some(server) = server {
        command.env("BENCH_SERVER", &server.base_url);
    }
    let output = command
        .stdout(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run valgrind: {err}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "{} {side} {size} failed under callgrind:\n{stderr}",
            case.work
        ));
    }
    collected(&stderr)
        .ok_or_else(|| format!("no instruction count in callgrind's output:\n{stderr}"))
}

/// The total from callgrind's summary line `==PID== Collected : N`.
fn collected(report: &str) -> Option<u64> {
    report.lines().find_map(|line| {
        let (_, after) = line.split_once("Collected :")?;
        after.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_collected_total() {
        let report = "==12== Events    : Ir\n==12== Collected : 176261840\n==12==\n==12== I   refs:      176,261,840\n";
        assert_eq!(collected(report), Some(176_261_840));
        assert_eq!(collected("==1== nothing here\n"), None);
    }

    #[test]
    fn finds_the_executable_in_cargos_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","package_id":"a","executable":null,"fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"b"},"executable":"/t/b-1"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
            "\n",
        );
        assert_eq!(executable(messages).as_deref(), Some("/t/b-1"));
        assert_eq!(executable(r#"{"reason":"build-finished"}"#), None);
    }
}
