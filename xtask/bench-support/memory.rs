//! Peak memory of a process, for the `*-mem` and `*-rss` comparisons. Included by path
//! (`#[path]`) from the bench binaries that measure memory, like `emit.rs`.

// Each bench binary includes this file and uses only part of it: its own peak, or a child's.
#![allow(dead_code)]

/// The process's peak resident set (VmHWM) in KiB, from `/proc/self/status`; 0 where there is
/// none (the memory rows then read 0 on both sides).
pub(crate) fn vm_hwm_kib() -> u64 {
    hwm_kib("/proc/self/status")
}

/// The peak resident set (VmHWM) in KiB of process `pid`, from `/proc/<pid>/status`; 0 where
/// there is none: no `/proc`, a process that has gone, or a zombie (whose status has no memory
/// lines), so a caller that polls keeps the largest value it read before the process exited.
pub(crate) fn vm_hwm_kib_of(pid: u32) -> u64 {
    hwm_kib(&format!("/proc/{pid}/status"))
}

fn hwm_kib(status_path: &str) -> u64 {
    let status = std::fs::read_to_string(status_path).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
