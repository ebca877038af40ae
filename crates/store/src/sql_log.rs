//! One log as the database holds it, seen through bamboo's [`LogView`].

use bamboo::{Author, Entry, Hash, KnownEntry, LogView};
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

/// A log of the database: its row in `logs` read once, its entries read on demand.
pub struct SqlLog<'c> {
    conn: &'c Connection,
    author: Author,
    log_id: u64,
    max_seq: Option<u64>,
    end_seq: Option<u64>,
    fork_seq: Option<u64>,
}

impl<'c> SqlLog<'c> {
    pub fn load(conn: &'c Connection, author: Author, log_id: u64) -> Result<SqlLog<'c>, StoreError> {
        let row: Option<(i64, Option<i64>, Option<i64>)> = conn
            .prepare_cached("SELECT max_seq, end_seq, fork_seq FROM logs WHERE author = ?1 AND log_id = ?2")?
            .query_row(params![author.0.as_slice(), log_id as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        Ok(SqlLog {
            conn,
            author,
            log_id,
            max_seq: row.map(|r| r.0 as u64),
            end_seq: row.and_then(|r| r.1).map(|s| s as u64),
            fork_seq: row.and_then(|r| r.2).map(|s| s as u64),
        })
    }

    /// The stored hash is used rather than hashing the bytes again: every ingested entry
    /// looks up its link targets.
    fn known(bytes: &[u8], hash: &[u8]) -> Option<KnownEntry> {
        // Stored entries were verified on the way in; a decode failure means a damaged
        // database, which the integrity check reports. Treat the entry as absent here.
        let entry = Entry::decode(bytes).ok()?;
        Some(KnownEntry::of(&entry, Hash(hash.try_into().ok()?)))
    }
}

impl LogView for SqlLog<'_> {
    fn entry(&self, seq_num: u64) -> Option<KnownEntry> {
        if self.max_seq.is_none_or(|max| seq_num > max) {
            return None;
        }
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .prepare_cached("SELECT entry, hash FROM entries WHERE author = ?1 AND log_id = ?2 AND seq = ?3")
            .ok()?
            .query_row(params![self.author.0.as_slice(), self.log_id as i64, seq_num as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .ok()?;
        row.and_then(|(b, h)| Self::known(&b, &h))
    }

    fn entries_linking_to(&self, seq_num: u64) -> Vec<KnownEntry> {
        let Ok(mut stmt) = self.conn.prepare_cached(
            "SELECT entry, hash FROM entries WHERE author = ?1 AND log_id = ?2 AND (seq = ?3 + 1 OR lipmaa_seq = ?3)",
        ) else {
            return Vec::new();
        };
        let Ok(rows) = stmt.query_map(params![self.author.0.as_slice(), self.log_id as i64, seq_num as i64], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        }) else {
            return Vec::new();
        };
        rows.filter_map(|r| r.ok()).filter_map(|(b, h)| Self::known(&b, &h)).collect()
    }

    fn max_seq_num(&self) -> Option<u64> {
        self.max_seq
    }

    fn end_of_log(&self) -> Option<u64> {
        self.end_seq
    }

    fn fork(&self) -> Option<u64> {
        self.fork_seq
    }
}
