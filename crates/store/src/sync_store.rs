//! The store as a sync session reads it: the one [`SyncStore`] of native nodes and browsers.

use bamboo::Author;
use sync::{FestivalId, LogHeight, SyncStore, WireEntry};

use crate::Store;

impl SyncStore for Store {
    fn heights(&self, festival: &FestivalId) -> Vec<LogHeight> {
        // A read that fails leaves the session announcing less; it never ends it.
        Store::heights(self, festival).unwrap_or_default()
    }

    fn entries(
        &self,
        author: &Author,
        log_id: u64,
        from_seq: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Vec<WireEntry> {
        let entries = self.entries_from(*author, log_id, from_seq, max_count).unwrap_or_default();
        sync::store::within(entries.into_iter().map(|(entry, payload)| WireEntry { entry, payload }), max_bytes)
    }

    fn bytes_between(&self, author: &Author, log_id: u64, from_seq: u64, to_seq: u64) -> u64 {
        self.log_bytes_between(author, log_id, from_seq, to_seq).unwrap_or(0)
    }
}
