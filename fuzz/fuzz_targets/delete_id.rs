//! Any non-empty id travels as exactly one path segment that decodes back to the id.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backups_fuzz::check_delete_id(data));
