//! The real `backups-server` binary as a child process: start it on a free port, kill it with
//! SIGKILL (no cleanup runs), read its resident memory.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::request;

pub struct Running {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The resident set size in KiB, from `/proc` (Linux only; `None` elsewhere).
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// SIGKILL, then reap.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }

    /// SIGTERM (sent by `kill`, as a service manager sends it), then waits up to 60 s for the
    /// process to exit: how long it took, and its exit status.
    #[cfg(unix)]
    pub fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let started = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return (started.elapsed(), status);
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "still running 60 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on `127.0.0.1:0` and waits until its health check answers.
pub async fn spawn(data: &Path, store: &Path, port_file: &Path, extra: &[&str]) -> Running {
    let _ = std::fs::remove_file(port_file);
    let child = Command::new(env!("CARGO_BIN_EXE_backups-server"))
        .arg("--data")
        .arg(data)
        .arg("--store")
        .arg(store)
        .arg("--port-file")
        .arg(port_file)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn backups-server");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let port = std::fs::read_to_string(port_file)
            .ok()
            .and_then(|text| text.trim().parse::<u16>().ok());
        if let Some(port) = port {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            if request(addr, "GET", "/.well-known/health", &[], b"")
                .await
                .status
                == 200
            {
                return Running { child, addr };
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut child = child;
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start within 30 s");
}

/// A port file path in `dir`.
pub fn port_file(dir: &Path) -> PathBuf {
    dir.join("port.txt")
}

/// A seed from `var` if set, else from the clock; printed so a failure can be replayed.
pub fn seed(var: &str) -> u64 {
    let seed = std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("seed {seed} (replay with {var}={seed})");
    seed
}

/// How many kills a randomized crash test makes: `BACKUPS_CRASH_KILLS`, at least 20.
pub fn kill_count() -> usize {
    std::env::var("BACKUPS_CRASH_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
        .max(20)
}

/// Runs `backups-server verify` on `store`, as a user would after a crash, and fails the test
/// with its output unless every backup checks out.
pub fn verify_with_binary(store: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_backups-server"))
        .arg("verify")
        .arg("--store")
        .arg(store)
        .output()
        .expect("run verify");
    assert!(
        output.status.success(),
        "verify failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
