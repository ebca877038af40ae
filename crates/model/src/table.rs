//! A map that remembers which rows changed, so a store can persist only those.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

#[derive(Clone, Debug)]
pub struct Table<K, V> {
    rows: HashMap<K, V>,
    dirty: HashSet<K>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table { rows: HashMap::new(), dirty: HashSet::new() }
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

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let removed = self.rows.remove(key);
        if removed.is_some() {
            self.dirty.insert(key.clone());
        }
        removed
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

    /// The changed rows since the last call: `Some(value)` for present rows, `None` for removed.
    pub fn take_dirty(&mut self) -> Vec<(K, Option<&V>)> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .map(|k| {
                let v = self.rows.get(&k);
                (k, v)
            })
            .collect()
    }
}
