//! One WebSocket message read as each channel's model: never a panic, and the error the
//! contract names for a binary, oversized or malformed message.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backups_fuzz::check_socket_message(data));
