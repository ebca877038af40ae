//! The store as a sync session reads it: the one [`SyncStore`] of native nodes and browsers.

use bamboo::Author;
use rusqlite::params;
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
        self.conn
            .prepare_cached(
                "SELECT COALESCE(SUM(length(entry) + length(payload)), 0) FROM entries
                 WHERE author = ?1 AND log_id = ?2 AND seq BETWEEN ?3 AND ?4",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![author.0.as_slice(), log_id as i64, from_seq as i64, to_seq as i64], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .map_or(0, |n| n as u64)
    }
}
