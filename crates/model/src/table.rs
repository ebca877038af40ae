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
    pub fn take_dirty(&mut self) -> Vec<(&K, Option<&V>)> {
        hand_out(&mut self.dirty, &mut self.writing);
        self.writing.iter().map(|k| (k, self.rows.get(k))).collect()
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
    /// The value stored under each of `keys` (sorted), in their order: a source may read
    /// them on several connections at once.
    fn rows_of(&self, table: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, String> {
        keys.iter().map(|k| self.row(table, k)).collect()
    }
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
    rows: HashMap<K, Marked<Box<V>>>,
    /// Without a source, the keys changed since last handed out. With one, every row held is
    /// changed, and each says itself whether it changed since it was handed out: a set of
    /// their keys beside them was a second copy of every key, 6 MB of a million-entry
    /// import's peak.
    dirty: HashSet<K>,
    /// Without a source: the rows handed out by [`LazyTable::take_dirty`] whose write is not
    /// confirmed yet.
    writing: HashSet<K>,
    cache: elsa::FrozenMap<K, Box<V>>,
    /// Keys read ahead ([`LazyTable::prefetch`]) and stored nowhere: a get answers `None`
    /// without reading again, as for an undecided request's decision. Forgotten with the cache
    /// and on a write of the key.
    absent: std::cell::RefCell<HashSet<K>>,
    source: Option<std::sync::Arc<dyn RowSource>>,
    /// A row from the source did not decode: the store's rows are damaged.
    unreadable: std::cell::Cell<bool>,
    /// How many rows read back it keeps ([`CACHED_ROWS`]).
    bound: usize,
}

/// A row held in memory, and whether it changed since its table last handed out its rows to
/// be written: what a table with a source, which holds only unwritten rows, keeps instead of
/// a set of their keys.
#[derive(Clone, Debug)]
pub(crate) struct Marked<V> {
    pub(crate) value: V,
    pub(crate) changed: bool,
}

impl<V> Marked<V> {
    pub(crate) fn changed(value: V) -> Marked<V> {
        Marked { value, changed: true }
    }

    pub(crate) fn unchanged(value: V) -> Marked<V> {
        Marked { value, changed: false }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Clone for LazyTable<K, V> {
    fn clone(&self) -> Self {
        LazyTable {
            name: self.name,
            rows: self.rows.clone(),
            dirty: self.dirty.clone(),
            writing: self.writing.clone(),
            cache: elsa::FrozenMap::new(),
            absent: Default::default(),
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
            absent: Default::default(),
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
        // It then holds only the rows not yet written, each marked if changed since handed out;
        // the others are stored (written, or loaded from the store).
        let (dirty, writing) = (std::mem::take(&mut self.dirty), std::mem::take(&mut self.writing));
        self.rows.retain(|key, held| {
            held.changed = dirty.contains(key);
            held.changed || writing.contains(key)
        });
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
        match source.row(self.name, &k) {
            Ok(bytes) => self.decode(key, &bytes?),
            Err(_) => {
                self.unreadable.set(true);
                None
            }
        }
    }

    fn decode(&self, key: &K, bytes: &[u8]) -> Option<V> {
        match postcard::from_bytes::<V>(bytes) {
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

    /// Reads the rows of `keys` that it holds neither changed nor cached, in one call of
    /// [`RowSource::rows_of`], so that the gets that follow find them in memory. For a query
    /// that knows the rows it will read: a page of the programme reads five rows an event,
    /// each from a page of the database of its own.
    #[cfg(not(target_arch = "wasm32"))] // no source in a browser (`State::prefetch_programme`)
    pub fn prefetch<'k>(&self, keys: impl IntoIterator<Item = &'k K>)
    where
        K: 'k,
    {
        let Some(source) = &self.source else { return };
        let mut wanted: Vec<(Vec<u8>, &K)> = keys
            .into_iter()
            .filter(|k| {
                !self.rows.contains_key(*k) && self.cache.get(*k).is_none() && !self.absent.borrow().contains(*k)
            })
            .map(|k| (postcard::to_allocvec(k).expect("keys serialise"), k))
            .collect();
        if wanted.is_empty() {
            return;
        }
        // In key order, each connection walks its part of the key index from left to right.
        wanted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        wanted.dedup_by(|a, b| a.0 == b.0);
        let (encoded, keys): (Vec<Vec<u8>>, Vec<&K>) = wanted.into_iter().unzip();
        let values = match source.rows_of(self.name, &encoded) {
            Ok(values) if values.len() == keys.len() => values,
            _ => {
                self.unreadable.set(true);
                return;
            }
        };
        for (key, bytes) in keys.into_iter().zip(values) {
            let Some(bytes) = bytes else {
                self.absent.borrow_mut().insert(key.clone());
                continue;
            };
            if let Some(v) = self.decode(key, &bytes) {
                self.cache.insert(key.clone(), Box::new(v));
            }
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        if let Some(held) = self.rows.get(key) {
            return Some(&held.value);
        }
        if let Some(v) = self.cache.get(key) {
            return Some(v);
        }
        if self.absent.borrow().contains(key) {
            return None;
        }
        let v = self.read(key)?;
        Some(self.cache.insert(key.clone(), Box::new(v)))
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        if !self.rows.contains_key(key) {
            let v = match self.cache.as_mut().remove(key) {
                Some(v) => v,
                None if self.absent.get_mut().contains(key) => return None,
                None => Box::new(self.read(key)?),
            };
            self.rows.insert(key.clone(), Marked::changed(v));
        }
        self.mark(key);
        let held = self.rows.get_mut(key)?;
        held.changed = true;
        Some(&mut held.value)
    }

    pub fn insert(&mut self, key: K, value: V) {
        self.cache.as_mut().remove(&key);
        self.absent.get_mut().remove(&key);
        self.mark(&key);
        self.rows.insert(key, Marked::changed(Box::new(value)));
    }

    /// Without a source, notes `key` as changed; with one, the row says so itself.
    fn mark(&mut self, key: &K) {
        if self.source.is_none() {
            self.dirty.insert(key.clone());
        }
    }

    /// Inserts without marking the row changed: for loading from a store that keeps no
    /// source, so that the table holds every row.
    pub fn load(&mut self, key: K, value: V) {
        self.rows.insert(key, Marked::unchanged(Box::new(value)));
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
    pub fn take_dirty(&mut self) -> Vec<(&K, Option<&V>)> {
        if self.source.is_some() {
            // Every row held is unwritten, whether handed out before or not.
            let rows = self.rows.iter_mut().map(|(k, held)| {
                held.changed = false;
                (k, Some(&*held.value))
            });
            return rows.collect();
        }
        hand_out(&mut self.dirty, &mut self.writing);
        self.writing.iter().map(|k| (k, self.rows.get(k).map(|held| &*held.value))).collect()
    }

    /// The rows last taken are stored: with a source, forget them unless changed since.
    pub fn written(&mut self) {
        self.writing.clear();
        if self.source.is_some() {
            self.rows.retain(|_, held| held.changed);
        }
        self.trim();
    }

    /// Forgets the rows read back once there are more than its bound.
    pub fn trim(&mut self) {
        if self.cache.len() > self.bound || self.absent.get_mut().len() > self.bound {
            self.cache = elsa::FrozenMap::new();
            self.absent.get_mut().clear();
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Rows in memory that count the reads made of them, one by one or in a batch.
    #[derive(Default)]
    struct Counted {
        rows: MemoryRows,
        one_by_one: AtomicUsize,
        batches: AtomicUsize,
    }

    impl RowSource for Counted {
        fn row(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
            self.one_by_one.fetch_add(1, Ordering::Relaxed);
            self.rows.row(table, key)
        }

        fn keys(&self, table: &str, from: &[u8], to: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, String> {
            self.rows.keys(table, from, to, limit)
        }

        fn rows(&self, table: &str, from: &[u8], to: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>, String> {
            self.rows.rows(table, from, to, limit)
        }

        fn rows_of(&self, table: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, String> {
            self.batches.fetch_add(1, Ordering::Relaxed);
            assert!(keys.is_sorted(), "the keys come sorted");
            keys.iter().map(|k| self.rows.row(table, k)).collect()
        }
    }

    #[derive(Clone, Debug, PartialEq, serde::Deserialize)]
    struct Title(String);

    impl StoredRow<u32> for Title {}

    fn key(k: u32) -> Vec<u8> {
        postcard::to_allocvec(&k).unwrap()
    }

    #[test]
    fn rows_prefetched_are_read_in_one_batch_and_then_found_in_memory() {
        // Scenario: a table whose rows are in its source only prefetches keys 1 to 5, 2 of them
        // twice, 4 held changed in memory and 5 stored nowhere; then it is asked for each; then
        // 5 is written, and 6, stored nowhere, is read ahead and the cache forgotten.
        let source = Arc::new(Counted::default());
        let rows = (1..=3).map(|k| ("events", key(k), Some(postcard::to_allocvec(&format!("t{k}")).unwrap())));
        source.rows.write(rows.collect());
        let mut table: LazyTable<u32, Title> = LazyTable::new("events");
        table.set_source(source.clone());
        table.insert(4, Title("held".into()));
        table.prefetch(&[3, 2, 1, 2, 4, 5]);
        // Assert: one batch read them; the stored rows are then found without another read, the
        // row held in memory is the one held, and the key stored nowhere is known to be absent.
        assert_eq!(source.batches.load(Ordering::Relaxed), 1);
        let titles: Vec<Option<Title>> = (1..=5).map(|k| table.get(&k).cloned()).collect();
        let expected = ["t1", "t2", "t3", "held"].map(|t| Some(Title(t.into())));
        assert_eq!(titles, [&expected[..], &[None]].concat());
        assert_eq!(source.one_by_one.load(Ordering::Relaxed), 0, "nothing read again");
        // Assert: what is in memory or known absent is not read again, and nothing is read for
        // nothing.
        table.prefetch(&[1, 2, 3, 4, 5]);
        table.prefetch(&[]);
        assert_eq!(source.batches.load(Ordering::Relaxed), 1);
        // Then the absent key is written: it is found. Once the cache is forgotten, a stored
        // nowhere key is read again.
        assert_eq!(table.get_mut(&5), None);
        table.insert(5, Title("new".into()));
        assert_eq!(table.get(&5), Some(&Title("new".into())));
        table.prefetch(&[6]);
        table.set_bound(0);
        table.trim();
        assert_eq!(table.get(&6), None);
        assert_eq!(source.one_by_one.load(Ordering::Relaxed), 1, "only the forgotten absent key read again");
    }

    #[test]
    fn a_prefetched_row_that_does_not_decode_marks_the_table_unreadable() {
        // Scenario: one of two stored rows is damaged (not a string); both are prefetched.
        let source = Arc::new(Counted::default());
        let good = postcard::to_allocvec(&"fine").unwrap();
        source.rows.write(vec![("events", key(1), Some(good)), ("events", key(2), Some(vec![0xff; 3]))]);
        let mut table: LazyTable<u32, Title> = LazyTable::new("events");
        table.set_source(source);
        table.prefetch(&[1, 2]);
        // Assert: the good row is kept and the table reports its rows damaged, as a get does.
        assert_eq!(table.get(&1), Some(&Title("fine".into())));
        assert!(table.unreadable());
    }
}
