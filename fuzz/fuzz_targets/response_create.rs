//! `CreateBackup::parse_response` on an arbitrary status, content type and body.

#![no_main]

use backups_proto::operations::CreateBackup;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backups_fuzz::check_response::<CreateBackup>(data));
