#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bamboo::fuzz::decode_verify(data));
