#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sync::fuzz::session_receive(data));
