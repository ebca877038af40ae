//! The node's SQLite store as the sync session reads it.

use bamboo::Author;
use store::Store;
use sync::{FestivalId, LogHeight, SyncStore, WireEntry};

/// Read access to a [`Store`] for a [`sync::Session`].
pub struct StoreSync<'a>(pub &'a Store);

impl SyncStore for StoreSync<'_> {
    fn heights(&self, festival: &FestivalId) -> Vec<LogHeight> {
        match self.0.heights(festival) {
            Ok(hs) => hs.into_iter().map(|h| LogHeight { author: h.author, log_id: h.log_id, seq: h.seq }).collect(),
            Err(e) => {
                tracing::warn!("reading heights of {}: {e}", festival.short());
                Vec::new()
            }
        }
    }

    fn entries(
        &self,
        author: &Author,
        log_id: u64,
        from_seq: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Vec<WireEntry> {
        let rows = match self.0.entries_from(*author, log_id, from_seq, max_count) {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!("reading entries of {}/{log_id}: {e}", author.to_hex());
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(rows.len());
        let mut bytes = 0;
        for (expected, (entry, payload)) in (from_seq..).zip(rows) {
            bytes += entry.len() + payload.len();
            // Only consecutive entries: a gap ends the run.
            if bytes > max_bytes || bamboo::Entry::decode(&entry).map(|e| e.seq_num) != Ok(expected) {
                break;
            }
            out.push(WireEntry { entry, payload });
        }
        out
    }
}
