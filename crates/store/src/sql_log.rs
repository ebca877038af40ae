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

/// The logs one batch touches: each log's row is read once, and the batch's new entries
/// are kept in memory, so checking an entry against its log reads the database only for
/// links to entries stored before the batch. [`BatchLogs::write`] then updates each
/// touched log's row once.
pub(crate) struct BatchLogs<'c> {
    conn: &'c Connection,
    logs: std::collections::HashMap<(Author, u64), BatchLog<'c>>,
}

pub(crate) struct BatchLog<'c> {
    stored: SqlLog<'c>,
    new: std::collections::BTreeMap<u64, KnownEntry>,
    /// The batch's entries by the sequence numbers they link to.
    linking: std::collections::HashMap<u64, Vec<u64>>,
    end: Option<u64>,
    /// The bytes of the batch's new entries and their payloads, added to the log's `bytes`.
    bytes: u64,
}

impl<'c> BatchLogs<'c> {
    pub fn new(conn: &'c Connection) -> BatchLogs<'c> {
        BatchLogs { conn, logs: Default::default() }
    }

    pub fn log(&mut self, author: Author, log_id: u64) -> Result<&mut BatchLog<'c>, StoreError> {
        use std::collections::hash_map::Entry as Slot;
        Ok(match self.logs.entry((author, log_id)) {
            Slot::Occupied(o) => o.into_mut(),
            Slot::Vacant(v) => v.insert(BatchLog {
                stored: SqlLog::load(self.conn, author, log_id)?,
                new: Default::default(),
                linking: Default::default(),
                end: None,
                bytes: 0,
            }),
        })
    }

    /// Writes the height, end and bytes of every log that received entries.
    pub fn write(&self) -> Result<(), StoreError> {
        let mut upsert = self.conn.prepare_cached(
            "INSERT INTO logs (author, log_id, max_seq, end_seq, bytes) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (author, log_id) DO UPDATE SET max_seq = MAX(max_seq, excluded.max_seq),
               end_seq = COALESCE(end_seq, excluded.end_seq), bytes = bytes + excluded.bytes",
        )?;
        for ((author, log_id), log) in &self.logs {
            let Some((&max, _)) = log.new.last_key_value() else { continue };
            upsert.execute(params![
                author.0.as_slice(),
                *log_id as i64,
                max as i64,
                log.end.map(|s| s as i64),
                log.bytes as i64
            ])?;
        }
        Ok(())
    }
}

impl BatchLog<'_> {
    /// Records an entry of this batch as part of the log: `bytes`, its bytes and its
    /// payload's.
    pub fn add(&mut self, entry: &Entry, hash: Hash, bytes: usize) {
        self.bytes += bytes as u64;
        let seq = entry.seq_num;
        if seq > 1 {
            self.linking.entry(seq - 1).or_default().push(seq);
        }
        if entry.lipmaa_link.is_some() && bamboo::lipmaa(seq) != seq - 1 {
            self.linking.entry(bamboo::lipmaa(seq)).or_default().push(seq);
        }
        if entry.end_of_log {
            self.end = Some(self.end.map_or(seq, |e| e.min(seq)));
        }
        self.new.insert(seq, KnownEntry::of(entry, hash));
    }

    /// Freezes the log at `seq_num`, as the fork the batch found there does.
    pub fn freeze(&mut self, seq_num: u64) {
        self.stored.fork_seq = Some(self.stored.fork_seq.map_or(seq_num, |f| f.min(seq_num)));
    }
}

impl LogView for BatchLog<'_> {
    fn entry(&self, seq_num: u64) -> Option<KnownEntry> {
        self.new.get(&seq_num).cloned().or_else(|| self.stored.entry(seq_num))
    }

    fn entries_linking_to(&self, seq_num: u64) -> Vec<KnownEntry> {
        let mut all = self.stored.entries_linking_to(seq_num);
        let linking = self.linking.get(&seq_num).into_iter().flatten();
        all.extend(linking.filter_map(|s| self.new.get(s)).cloned());
        all
    }

    fn max_seq_num(&self) -> Option<u64> {
        self.new.last_key_value().map(|(s, _)| *s).max(self.stored.max_seq)
    }

    fn end_of_log(&self) -> Option<u64> {
        match (self.end, self.stored.end_seq) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn fork(&self) -> Option<u64> {
        self.stored.fork_seq
    }
}
