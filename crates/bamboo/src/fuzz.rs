//! The checks the fuzz target runs, shared with the regression test that replays every
//! kept input on stable Rust. Not part of the API.

use std::sync::OnceLock;

use crate::{Entry, Keypair, LogWriter, MemoryLogs};

/// Logs holding a valid prefix of four entries, built once: signing per input would
/// slow the fuzzer tenfold.
fn prefix() -> MemoryLogs {
    static PREFIX: OnceLock<MemoryLogs> = OnceLock::new();
    PREFIX
        .get_or_init(|| {
            let mut logs = MemoryLogs::new();
            let mut writer = LogWriter::new(Keypair::from_secret([1; 32]), 0);
            for i in 0..4u8 {
                logs.insert(&writer.append(&[i]).bytes, None).expect("a valid prefix");
            }
            logs
        })
        .clone()
}

/// Decodes and verifies arbitrary bytes: as one entry (against logs holding a valid
/// prefix), and split by the first byte into entry and payload. Panics on a broken invariant.
pub fn decode_verify(data: &[u8]) {
    if let Ok(entry) = Entry::decode(data) {
        assert_eq!(entry.encode(), data, "an accepted encoding is the only encoding of its entry");
    }
    let mut logs = prefix();
    let _ = logs.insert(data, None);
    if let Some((&split, rest)) = data.split_first() {
        let at = (split as usize).min(rest.len());
        let (entry, payload) = rest.split_at(at);
        let _ = logs.insert(entry, Some(payload));
        let _ = logs.insert_batch(&[(entry, None), (payload, Some(entry))]);
    }
}
