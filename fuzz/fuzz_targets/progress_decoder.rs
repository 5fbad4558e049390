//! The progress decoder on arbitrary bytes cut at arbitrary points: never a panic, and the
//! same result however the bytes are chunked.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backups_fuzz::check_decoder(data));
