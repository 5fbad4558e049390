//! Peak memory of the bench process, for the `*-mem` comparisons. Included by path (`#[path]`)
//! from the bench binaries that measure memory, like `emit.rs`.

/// The process's peak resident set (VmHWM) in KiB, from `/proc/self/status`; 0 where there is
/// none (the memory rows then read 0 on both sides).
pub(crate) fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
