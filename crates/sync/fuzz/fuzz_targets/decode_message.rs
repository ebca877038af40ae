#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sync::fuzz::decode_message(data));
