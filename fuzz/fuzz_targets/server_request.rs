//! Arbitrary bytes sent to a running reference server (in-process, over loopback): it never
//! panics, never answers 5xx, and keeps answering its health check.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backups_fuzz::check_server_request(data));
