//! The plan as rows: what a store persists ([`State::take_changes`]) and loads
//! ([`State::loader`]). Rows are postcard (a compact serde format: the plan is a cache of
//! the logs, rebuilt when its shape changes) keyed by table; the indexes are derived on load.

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::state::{Indexes, State};
use crate::table::Table;
use crate::time::TimeFrame;

/// Restores a [`State`] from rows, one at a time.
pub struct Loader {
    state: State,
}

impl Loader {
    /// One persisted row: table name, encoded key, encoded value.
    pub fn row(&mut self, table: &str, k: &[u8], v: &[u8]) -> Result<(), String> {
        fn put<K: for<'de> Deserialize<'de> + std::hash::Hash + Eq + Clone, V: for<'de> Deserialize<'de>>(
            table: &mut Table<K, V>,
            k: &[u8],
            v: &[u8],
        ) -> Result<(), String> {
            let k: K = postcard::from_bytes(k).map_err(|e| e.to_string())?;
            let v: V = postcard::from_bytes(v).map_err(|e| e.to_string())?;
            table.load(k, v);
            Ok(())
        }
        let s = &mut self.state;
        match table {
            "logs" => put(&mut s.logs, k, v),
            "festivals" => put(&mut s.festivals, k, v),
            "profiles" => put(&mut s.profiles, k, v),
            "resources" => put(&mut s.resources, k, v),
            "events" => put(&mut s.events, k, v),
            "requests" => put(&mut s.requests, k, v),
            "ops" => put(&mut s.ops, k, v),
            "waiting" => put(&mut s.waiting, k, v),
            "collectives" => put(&mut s.collectives, k, v),
            "votes" => put(&mut s.votes, k, v),
            other => Err(format!("unknown table {other}")),
        }
        .map_err(|e| format!("cannot load {table}: {e}"))
    }

    /// The state, with its indexes rebuilt.
    pub fn finish(mut self) -> State {
        self.state.rebuild_indexes();
        self.state
    }
}

/// A changed row, for a store to persist: table name, encoded key and value (`None`: deleted).
pub type Row = (&'static str, Vec<u8>, Option<Vec<u8>>);

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("rows serialise")
}

impl State {
    // -----------------------------------------------------------------------------------
    // Persistence

    /// The rows changed since the last call, for a store to write in the same transaction
    /// as the entries that changed them.
    pub fn take_changes(&mut self) -> Vec<Row> {
        let mut rows = Vec::new();
        fn drain<K: Serialize + std::hash::Hash + Eq + Clone, V: Serialize>(
            name: &'static str,
            table: &mut Table<K, V>,
            rows: &mut Vec<Row>,
        ) {
            for (k, v) in table.take_dirty() {
                rows.push((name, encode(&k), v.map(encode)));
            }
        }
        drain("logs", &mut self.logs, &mut rows);
        drain("festivals", &mut self.festivals, &mut rows);
        drain("profiles", &mut self.profiles, &mut rows);
        drain("resources", &mut self.resources, &mut rows);
        drain("events", &mut self.events, &mut rows);
        drain("requests", &mut self.requests, &mut rows);
        drain("ops", &mut self.ops, &mut rows);
        drain("waiting", &mut self.waiting, &mut rows);
        drain("collectives", &mut self.collectives, &mut rows);
        drain("votes", &mut self.votes, &mut rows);
        rows
    }

    /// The names of the tables [`State::take_changes`] writes.
    pub const TABLES: [&'static str; 10] =
        ["logs", "festivals", "profiles", "resources", "events", "requests", "ops", "waiting", "collectives", "votes"];

    /// Restores a state from persisted rows and rebuilds the indexes.
    pub fn load(rows: impl IntoIterator<Item = (String, Vec<u8>, Vec<u8>)>) -> Result<State, String> {
        let mut loader = State::loader();
        for (table, k, v) in rows {
            loader.row(&table, &k, &v)?;
        }
        Ok(loader.finish())
    }

    /// Restores a state row by row, so that a store can stream its rows without holding
    /// them all: call [`Loader::row`] for each, then [`Loader::finish`].
    pub fn loader() -> Loader {
        Loader { state: State::default() }
    }

    fn rebuild_indexes(&mut self) {
        let mut idx = Indexes::default();
        for f in self.festivals.values() {
            if let Some(p) = f.parent {
                idx.children.entry(p).or_default().insert(f.id);
            }
        }
        for r in self.resources.values() {
            idx.resources_by_festival.entry(r.festival).or_default().insert(r.id);
        }
        for e in self.events.values() {
            idx.events_by_festival.entry(e.festival).or_default().insert(e.id);
        }
        for (author, log_id) in self.logs.iter().map(|(k, _)| *k) {
            idx.logs_by_author.entry(author).or_default().insert(log_id);
        }
        for q in self.requests.values().filter(|q| q.invalid.is_none()) {
            if let Some(old) = q.replaces {
                idx.replacements.insert(old, q.id);
            }
        }
        self.idx = idx;
        let requests: Vec<(Id, TimeFrame, Id)> = self.requests.values().map(|q| (q.resource, q.frame, q.id)).collect();
        for (resource, frame, id) in requests {
            self.index_request(resource, frame, id);
        }
    }
}
