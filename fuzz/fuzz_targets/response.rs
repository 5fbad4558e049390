//! Every operation's `parse_response` on an arbitrary status, content type and body; the first
//! byte picks the operation.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backups_fuzz::check_response(data));
