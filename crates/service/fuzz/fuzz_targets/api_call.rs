#![no_main]

use std::sync::Mutex;

// One node for the whole run: opening a store per input would slow the fuzzer a hundredfold.
static NODE: Mutex<Option<(service::Node, [String; 4])>> = Mutex::new(None);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut guard = NODE.lock().unwrap();
    let (node, ids) = guard.get_or_insert_with(service::fuzz::node);
    service::fuzz::api_call(node, ids, data);
});
