//! What a session needs from storage ([`SyncStore`]), and [`MemoryStore`], an in-memory store
//! for tests and simulations.

use std::collections::BTreeMap;

use bamboo::{Admission, Author, Entry, LogKey, MemoryLogs};

use thiserror::Error;

use crate::FestivalId;
use crate::wire::{LogHeight, WireEntry};

/// The read side of a node's store, as replication needs it. Writes stay with the caller:
/// received entries come out of the session as [`crate::Output::Entries`].
pub trait SyncStore {
    /// Every log of `festival` held here, each with its height: the greatest `n` such that
    /// entries `1..=n` are all held. Logs of other festivals must not appear.
    fn heights(&self, festival: &FestivalId) -> Vec<LogHeight>;

    /// Entries of one log from `from_seq` on, consecutive and in log order, as many as fit:
    /// at most `max_count`, and together (entries plus payloads) at most `max_bytes`.
    /// May return fewer, or none if the first one alone is larger than `max_bytes`.
    fn entries(
        &self,
        author: &Author,
        log_id: u64,
        from_seq: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Vec<WireEntry>;

    /// The size (entries plus payloads) of entries `from_seq..=to_seq` of one log, for the
    /// totals announced before a catch-up. The default reads the entries.
    fn bytes_between(&self, author: &Author, log_id: u64, from_seq: u64, to_seq: u64) -> u64 {
        let mut total = 0;
        let mut seq = from_seq;
        while seq <= to_seq {
            let count = usize::try_from(to_seq - seq + 1).unwrap_or(usize::MAX).min(1024);
            let chunk = self.entries(author, log_id, seq, count, usize::MAX);
            if chunk.is_empty() {
                break;
            }
            seq += chunk.len() as u64;
            total += chunk.iter().map(|e| (e.entry.len() + e.payload.len()) as u64).sum::<u64>();
        }
        total
    }
}

/// Why [`MemoryStore`] refuses an entry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    #[error(transparent)]
    Entry(#[from] bamboo::Error),
    #[error("entry {seq} of the log would leave a gap after entry {height}")]
    Gap { seq: u64, height: u64 },
    #[error("the log belongs to another festival (or to none)")]
    WrongFestival,
    #[error("fork: a different entry {seq} is already in this log")]
    Fork { seq: u64 },
}

#[derive(Clone)]
struct StoredLog {
    festival: FestivalId,
    entries: Vec<WireEntry>,
}

/// Logs held in memory, each as a contiguous run from entry 1. [`MemoryStore::new`] verifies
/// everything with [`bamboo::MemoryLogs`]; [`MemoryStore::trusting`] skips signatures and
/// links (for simulations whose entries are known to be valid).
#[derive(Clone)]
pub struct MemoryStore {
    logs: BTreeMap<LogKey, StoredLog>,
    verifier: Option<MemoryLogs>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore { logs: BTreeMap::new(), verifier: Some(MemoryLogs::new()) }
    }

    pub fn trusting() -> MemoryStore {
        MemoryStore { logs: BTreeMap::new(), verifier: None }
    }

    /// Adds one entry of `festival`'s log. Entries of a log must come in log order from 1.
    pub fn insert(&mut self, festival: FestivalId, entry: &[u8], payload: &[u8]) -> Result<Admission, StoreError> {
        let decoded = Entry::decode(entry).map_err(bamboo::Error::from)?;
        let key = (decoded.author, decoded.log_id);
        let height = self.height(&key.0, key.1);
        if decoded.seq_num <= height {
            let held = &self.logs[&key].entries[(decoded.seq_num - 1) as usize];
            return if held.entry == entry {
                Ok(Admission::Duplicate)
            } else {
                Err(StoreError::Fork { seq: decoded.seq_num })
            };
        }
        if decoded.seq_num > height + 1 {
            return Err(StoreError::Gap { seq: decoded.seq_num, height });
        }
        let log_festival_ok = match self.logs.get(&key) {
            Some(log) => log.festival == festival,
            None => crate::log_festival(entry, payload) == Some(festival),
        };
        if !log_festival_ok {
            return Err(StoreError::WrongFestival);
        }
        if let Some(verifier) = &mut self.verifier {
            verifier.insert(entry, Some(payload))?;
        }
        let wire = WireEntry { entry: entry.to_vec(), payload: payload.to_vec() };
        self.logs.entry(key).or_insert_with(|| StoredLog { festival, entries: Vec::new() }).entries.push(wire);
        Ok(Admission::New)
    }

    /// Adds a batch all or nothing, as a node stores a received batch in one transaction.
    /// Copies the whole store: meant for tests.
    pub fn insert_batch(
        &mut self,
        festival: FestivalId,
        entries: &[(&[u8], &[u8])],
    ) -> Result<Vec<Admission>, StoreError> {
        let mut trial = self.clone();
        let admissions =
            entries.iter().map(|(entry, payload)| trial.insert(festival, entry, payload)).collect::<Result<_, _>>()?;
        *self = trial;
        Ok(admissions)
    }

    /// The number of entries held of one log (all of them, from 1).
    pub fn height(&self, author: &Author, log_id: u64) -> u64 {
        self.logs.get(&(*author, log_id)).map_or(0, |l| l.entries.len() as u64)
    }

    /// The festival of a log held here.
    pub fn festival_of(&self, author: &Author, log_id: u64) -> Option<FestivalId> {
        self.logs.get(&(*author, log_id)).map(|l| l.festival)
    }

    /// Every log held, with its festival and height.
    pub fn logs(&self) -> impl Iterator<Item = (FestivalId, LogHeight)> + '_ {
        self.logs.iter().map(|((author, log_id), log)| {
            (log.festival, LogHeight { author: *author, log_id: *log_id, seq: log.entries.len() as u64 })
        })
    }

    /// How many entries are held in all.
    pub fn len(&self) -> usize {
        self.logs.values().map(|l| l.entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.logs.is_empty()
    }
}

impl SyncStore for MemoryStore {
    fn heights(&self, festival: &FestivalId) -> Vec<LogHeight> {
        self.logs().filter(|(f, _)| f == festival).map(|(_, h)| h).collect()
    }

    fn entries(
        &self,
        author: &Author,
        log_id: u64,
        from_seq: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Vec<WireEntry> {
        let Some(log) = self.logs.get(&(*author, log_id)) else { return Vec::new() };
        let start = usize::try_from(from_seq.max(1) - 1).unwrap_or(usize::MAX);
        within(log.entries.iter().skip(start).take(max_count).cloned(), max_bytes)
    }
}

/// The first of `entries` that fit in `max_bytes` (entries plus payloads), in order: what
/// [`SyncStore::entries`] answers.
pub fn within(entries: impl IntoIterator<Item = WireEntry>, max_bytes: usize) -> Vec<WireEntry> {
    let mut bytes = 0usize;
    entries
        .into_iter()
        .take_while(|e| {
            bytes = bytes.saturating_add(e.entry.len() + e.payload.len());
            bytes <= max_bytes
        })
        .collect()
}
