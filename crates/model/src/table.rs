//! A map that remembers which rows changed, so a store can persist only those.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// A set of changed keys ([`hand_out`]).
pub(crate) trait Keys: Default + IntoIterator + Extend<<Self as IntoIterator>::Item> {
    fn is_empty(&self) -> bool;
}

impl<K: Hash + Eq> Keys for HashSet<K> {
    fn is_empty(&self) -> bool {
        HashSet::is_empty(self)
    }
}

impl<K: Ord> Keys for std::collections::BTreeSet<K> {
    fn is_empty(&self) -> bool {
        std::collections::BTreeSet::is_empty(self)
    }
}

/// Moves the keys changed since the last write (`dirty`) to those being written (`writing`):
/// the set itself when no write is pending (the usual case), so that a plan write of tens of
/// thousands of rows does not build a second set of their keys (7 MB at the peak of a
/// million-entry import).
pub(crate) fn hand_out<S: Keys>(dirty: &mut S, writing: &mut S) {
    let dirty = std::mem::take(dirty);
    if writing.is_empty() {
        *writing = dirty;
    } else {
        writing.extend(dirty);
    }
}

#[derive(Clone, Debug)]
pub struct Table<K, V> {
    rows: HashMap<K, V>,
    dirty: HashSet<K>,
    /// Rows handed out by [`Table::take_dirty`] whose write is not confirmed yet.
    writing: HashSet<K>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table { rows: HashMap::new(), dirty: HashSet::new(), writing: HashSet::new() }
    }
}

impl<K: Hash + Eq + Clone, V> Table<K, V> {
    pub fn get(&self, key: &K) -> Option<&V> {
        self.rows.get(key)
    }

    pub fn contains(&self, key: &K) -> bool {
        self.rows.contains_key(key)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let row = self.rows.get_mut(key)?;
        self.dirty.insert(key.clone());
        Some(row)
    }

    pub fn insert(&mut self, key: K, value: V) {
        self.dirty.insert(key.clone());
        self.rows.insert(key, value);
    }

    /// Inserts without marking the row changed: for loading from a store.
    pub fn load(&mut self, key: K, value: V) {
        self.rows.insert(key, value);
    }

    /// A row to change without marking it changed: for loading from a store, and for the
    /// parts of a row that track their own changes (an allocation's slots).
    pub fn get_mut_unmarked(&mut self, key: &K) -> Option<&mut V> {
        self.rows.get_mut(key)
    }

    /// Every row, as [`Table::get_mut_unmarked`].
    pub fn values_mut_unmarked(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.rows.iter_mut()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.rows.iter()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.rows.values()
    }

    #[allow(dead_code)]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    #[allow(dead_code)]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The changed rows: `Some(value)` for present rows, `None` for removed. Until
    /// [`Table::written`] confirms the write, the next call hands them out again.
    pub fn take_dirty(&mut self) -> Vec<(K, Option<&V>)> {
        hand_out(&mut self.dirty, &mut self.writing);
        self.writing.iter().map(|k| (k.clone(), self.rows.get(k))).collect()
    }

    /// The rows last taken are stored.
    pub fn written(&mut self) {
        self.writing.clear();
    }
}

/// Where a [`LazyTable`] reads the rows it does not hold: the rows [`crate::State::take_changes`]
/// returned and a store wrote. Implemented by the store over its own read connection.
pub trait RowSource: Send + Sync {
    /// The value stored under `key` in `table`; an error if it cannot be read.
    fn row(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, String>;
    /// The keys stored in `table` from `from` to `to`, both included, in order; at most `limit`.
    fn keys(&self, table: &str, from: &[u8], to: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, String>;
    /// As [`RowSource::keys`], with each key's value.
    fn rows(&self, table: &str, from: &[u8], to: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>, String>;
}

impl std::fmt::Debug for dyn RowSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RowSource")
    }
}

/// How many rows a lazy table keeps read from its source before it forgets them (at the
/// next [`LazyTable::written`] or [`LazyTable::trim`]).
pub const CACHED_ROWS: usize = 4096;

/// A table whose rows, once written, may live only in the store: it holds the rows changed
/// since they were last written and a bounded cache of rows read back. Without a source
/// (an in-memory store, tests) it holds every row, like [`Table`].
///
/// Reads take `&self`, so rows read from the source go into an append-only cache whose
/// entries stay put while borrowed ([`elsa::FrozenMap`]); it is emptied only through
/// `&mut self`, when no borrow can be alive.
pub struct LazyTable<K, V> {
    name: &'static str,
    /// Every row without a source; with one, the rows changed since last written. Boxed: the
    /// map keeps its capacity after the rows are forgotten, and a batch of tens of thousands
    /// of rows left tens of megabytes of empty slots the size of a row (issue 15).
    rows: HashMap<K, Box<V>>,
    dirty: HashSet<K>,
    /// Rows handed out by [`LazyTable::take_dirty`] whose write is not confirmed yet.
    writing: HashSet<K>,
    cache: elsa::FrozenMap<K, Box<V>>,
    source: Option<std::sync::Arc<dyn RowSource>>,
    /// A row from the source did not decode: the store's rows are damaged.
    unreadable: std::cell::Cell<bool>,
    /// How many rows read back it keeps ([`CACHED_ROWS`]).
    bound: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> Clone for LazyTable<K, V> {
    fn clone(&self) -> Self {
        LazyTable {
            name: self.name,
            rows: self.rows.clone(),
            dirty: self.dirty.clone(),
            writing: self.writing.clone(),
            cache: elsa::FrozenMap::new(),
            source: self.source.clone(),
            unreadable: self.unreadable.clone(),
            bound: self.bound,
        }
    }
}

impl<K: Hash + Eq, V> std::fmt::Debug for LazyTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyTable")
            .field("name", &self.name)
            .field("rows", &self.rows.len())
            .field("cached", &self.cache.len())
            .field("source", &self.source.is_some())
            .finish()
    }
}

impl<K: Hash + Eq, V> LazyTable<K, V> {
    pub fn new(name: &'static str) -> Self {
        LazyTable {
            name,
            rows: HashMap::new(),
            dirty: HashSet::new(),
            writing: HashSet::new(),
            cache: elsa::FrozenMap::new(),
            source: None,
            unreadable: std::cell::Cell::new(false),
            bound: CACHED_ROWS,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Reads rows it does not hold from `source` from now on.
    pub fn set_source(&mut self, source: std::sync::Arc<dyn RowSource>) {
        self.source = Some(source);
    }

    pub fn set_bound(&mut self, rows: usize) {
        self.bound = rows;
    }

    pub fn is_lazy(&self) -> bool {
        self.source.is_some()
    }

    /// Whether a row read from the source failed to decode.
    pub fn unreadable(&self) -> bool {
        self.unreadable.get()
    }

    /// Rows held in memory: changed, or read back and not forgotten yet.
    pub fn held(&self) -> usize {
        self.rows.len() + self.cache.len()
    }
}

/// A row of a [`LazyTable`] as stored: the parts its key or its other fields already say
/// are left out, and put back when it is read.
pub trait StoredRow<K> {
    /// Puts back what the stored row leaves out, from its `key`; nothing for a row stored
    /// whole.
    fn restore(&mut self, _key: &K) {}
}

impl<K, V> LazyTable<K, V>
where
    K: Hash + Eq + Clone + serde::Serialize + serde::de::DeserializeOwned,
    V: serde::de::DeserializeOwned + StoredRow<K>,
{
    fn read(&self, key: &K) -> Option<V> {
        let source = self.source.as_ref()?;
        let k = postcard::to_allocvec(key).expect("keys serialise");
        let bytes = match source.row(self.name, &k) {
            Ok(bytes) => bytes?,
            Err(_) => {
                self.unreadable.set(true);
                return None;
            }
        };
        match postcard::from_bytes::<V>(&bytes) {
            Ok(mut v) => {
                v.restore(key);
                Some(v)
            }
            Err(_) => {
                self.unreadable.set(true);
                None
            }
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        if let Some(v) = self.rows.get(key) {
            return Some(v);
        }
        if let Some(v) = self.cache.get(key) {
            return Some(v);
        }
        let v = self.read(key)?;
        Some(self.cache.insert(key.clone(), Box::new(v)))
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        if !self.rows.contains_key(key) {
            let v = match self.cache.as_mut().remove(key) {
                Some(v) => v,
                None => Box::new(self.read(key)?),
            };
            self.rows.insert(key.clone(), v);
        }
        self.dirty.insert(key.clone());
        self.rows.get_mut(key).map(|v| &mut **v)
    }

    pub fn insert(&mut self, key: K, value: V) {
        self.cache.as_mut().remove(&key);
        self.dirty.insert(key.clone());
        self.rows.insert(key, Box::new(value));
    }

    /// Inserts without marking the row changed: for loading from a store that keeps no
    /// source, so that the table holds every row.
    pub fn load(&mut self, key: K, value: V) {
        self.rows.insert(key, Box::new(value));
    }

    /// Every key: those held and, with a source, those stored.
    pub fn keys(&self) -> Vec<K> {
        let mut keys: HashSet<K> = self.rows.keys().cloned().collect();
        if let Some(source) = &self.source {
            let stored = source.keys(self.name, &[], &[0xff; 80], usize::MAX).unwrap_or_else(|_| {
                self.unreadable.set(true);
                Vec::new()
            });
            for k in stored {
                match postcard::from_bytes(&k) {
                    Ok(k) => {
                        keys.insert(k);
                    }
                    Err(_) => self.unreadable.set(true),
                }
            }
        }
        keys.into_iter().collect()
    }

    /// Keys whose encoding lies between `from` and `to` (both included), at most `limit`.
    pub fn keys_between(&self, from: &[u8], to: &[u8], limit: usize) -> Vec<K> {
        let in_range = |k: &K| {
            let e = postcard::to_allocvec(k).expect("keys serialise");
            from <= e.as_slice() && e.as_slice() <= to
        };
        let mut keys: Vec<K> = self.rows.keys().filter(|k| in_range(k)).cloned().collect();
        if let Some(source) = &self.source {
            let stored = source.keys(self.name, from, to, limit).unwrap_or_else(|_| {
                self.unreadable.set(true);
                Vec::new()
            });
            for k in stored {
                if let Ok(k) = postcard::from_bytes::<K>(&k)
                    && !self.rows.contains_key(&k)
                {
                    keys.push(k);
                }
            }
        }
        keys.truncate(limit);
        keys
    }

    /// The changed rows, for a store to write. They stay held until [`LazyTable::written`]
    /// says the write is committed; if it never comes, the next call hands them out again.
    pub fn take_dirty(&mut self) -> Vec<(K, Option<&V>)> {
        hand_out(&mut self.dirty, &mut self.writing);
        self.writing.iter().map(|k| (k.clone(), self.rows.get(k).map(|v| &**v))).collect()
    }

    /// The rows last taken are stored: with a source, forget them unless changed since.
    pub fn written(&mut self) {
        self.writing.clear();
        if self.source.is_some() {
            let dirty = &self.dirty;
            self.rows.retain(|k, _| dirty.contains(k));
        }
        self.trim();
    }

    /// Forgets the rows read back once there are more than its bound.
    pub fn trim(&mut self) {
        if self.cache.len() > self.bound {
            self.cache = elsa::FrozenMap::new();
        }
    }
}

/// A [`RowSource`] over rows kept in memory by table and key, as a store keeps them: for the
/// unit tests of what reads rows back.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct MemoryRows(pub(crate) std::sync::Mutex<std::collections::BTreeMap<(&'static str, Vec<u8>), Vec<u8>>>);

#[cfg(test)]
impl MemoryRows {
    /// Stores rows as a store's write would.
    pub(crate) fn write(&self, rows: Vec<crate::Row>) {
        let mut stored = self.0.lock().unwrap();
        for (table, k, v) in rows {
            match v {
                Some(v) => stored.insert((table, k), v),
                None => stored.remove(&(table, k)),
            };
        }
    }

    fn range(&self, table: &str, from: &[u8], to: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let stored = self.0.lock().unwrap();
        let rows = stored.iter().filter(|((t, k), _)| *t == table && from <= k.as_slice() && k.as_slice() <= to);
        rows.map(|((_, k), v)| (k.clone(), v.clone())).take(limit).collect()
    }
}

#[cfg(test)]
impl RowSource for MemoryRows {
    fn row(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        Ok(self.range(table, key, key, 1).pop().map(|(_, v)| v))
    }

    fn keys(&self, table: &str, from: &[u8], to: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, String> {
        Ok(self.range(table, from, to, limit).into_iter().map(|(k, _)| k).collect())
    }

    fn rows(&self, table: &str, from: &[u8], to: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>, String> {
        Ok(self.range(table, from, to, limit))
    }
}
