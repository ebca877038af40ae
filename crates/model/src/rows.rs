//! The plan as rows: what a store persists ([`State::take_changes`]) and loads
//! ([`State::loader`]). Rows are postcard (a compact serde format: the plan is a cache of
//! the logs, rebuilt when its shape changes) keyed by table; the indexes are derived on load.

use serde::{Deserialize, Serialize};

use crate::alloc::{Allocation, Decision};
use crate::id::{Id, Key};
use crate::state::{Event, OpRecord, Request, Resource, State};
use crate::table::{RowSource, StoredRow, Table};
use crate::time::{TimeFrame, Timestamp};

/// Restores a [`State`] from rows, one at a time.
pub struct Loader {
    state: State,
}

impl Loader {
    /// One persisted row: table name, encoded key, encoded value. Tables come in the order
    /// of [`Loader::tables`]: a slot is loaded into its resource.
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
        fn decode<V: for<'de> Deserialize<'de>>(v: &[u8]) -> Result<V, String> {
            postcard::from_bytes(v).map_err(|e| e.to_string())
        }
        fn restored<V: for<'de> Deserialize<'de> + StoredRow<Id>>(k: &[u8], v: &[u8]) -> Result<(Id, V), String> {
            let id = decode::<Id>(k)?;
            let mut v = decode::<V>(v)?;
            v.restore(&id);
            Ok((id, v))
        }
        let s = &mut self.state;
        // A lazy state reads back what grows with every entry when it needs it: events,
        // requests, their indexes, operation records, decisions and decision histories.
        match table {
            "logs" => put(&mut s.logs, k, v),
            "festivals" => put(&mut s.festivals, k, v),
            "profiles" => put(&mut s.profiles, k, v),
            "resources" => decode::<Id>(k).and_then(|id| decode::<Resource>(v).map(|r| (id, r))).map(|(id, mut r)| {
                if let Some(source) = &s.slot_source {
                    r.alloc.set_source(id, source.clone());
                }
                s.resources.load(id, r);
            }),
            "eventspans" => s.event_index.load_span(k, v),
            "requestspans" => s.request_index.load_span(k, v),
            "replacements" => put(&mut s.replacements, k, v),
            "alloclens" => s.alloc_ops.load_len(k, v),
            // Derived from the histories when they are held whole.
            "allocnaming" => Ok(()),
            t if s.is_lazy() && Loader::LAZY.contains(&t) => Ok(()),
            "slots" => match Allocation::slot_resource(k).and_then(|id| s.resources.get_mut_unmarked(&id)) {
                Some(r) => r.alloc.load_slot(k, v),
                None => Err("a slot of no resource loaded".to_string()),
            },
            "eventindex" => s.event_index.load_member(k, v),
            "requestindex" => s.request_index.load_member(k, v),
            "organiserindex" => s.organiser_index.load_member(k, v),
            "events" => restored::<Event>(k, v).map(|(id, e)| s.events.load(id, e)),
            "requests" => restored::<Request>(k, v).map(|(id, q)| s.requests.load(id, q)),
            "ops" => restored::<OpRecord>(k, v).map(|(id, r)| s.ops.load(id, r)),
            "allocops" => s.alloc_ops.load_op(k, v),
            "decisions" => {
                decode::<(Id, Id)>(k).and_then(|key| decode::<Decision>(v).map(|d| s.decisions.load(key, d)))
            }
            "waiting" => {
                let lazy = s.is_lazy();
                s.waiting.load(k, v, lazy)
            }
            "collectives" => put(&mut s.collectives, k, v),
            "votes" => put(&mut s.votes, k, v),
            other => Err(format!("unknown table {other}")),
        }
        .map_err(|e| format!("cannot load {table}: {e}"))
    }

    /// The tables a lazy state reads back row by row instead of loading.
    const LAZY: [&'static str; 9] =
        ["events", "requests", "ops", "allocops", "decisions", "slots", "eventindex", "requestindex", "organiserindex"];

    /// The tables no state loads: a lazy one reads them back, one held whole derives them.
    const NEVER: [&'static str; 1] = ["allocnaming"];

    /// The tables to read rows from: a lazy state loads none of those that grow with every
    /// entry.
    pub fn tables(&self) -> Vec<&'static str> {
        State::TABLES
            .into_iter()
            .filter(|t| !(self.state.is_lazy() && Loader::LAZY.contains(t)) && !Loader::NEVER.contains(t))
            .collect()
    }

    /// The state, with its indexes rebuilt.
    /// [`State::index_events_of`], before the rows come.
    pub fn index_events_of(&mut self, organiser: Key) {
        self.state.index_events_of(organiser);
    }

    pub fn finish(mut self) -> State {
        self.state.rebuild_indexes();
        self.state
    }
}

/// How many changed rows [`State::take_changes_in_parts`] encodes and hands out at a time.
pub(crate) const WRITE_CHUNK: usize = 2048;

/// A changed row, for a store to persist: table name, encoded key and value (`None`: deleted).
pub type Row = (&'static str, Vec<u8>, Option<Vec<u8>>);

/// Where the organiser index files an event: it only tells which events are the organiser's.
const ORGANISER_START: Timestamp = Timestamp(0);

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("rows serialise")
}

impl State {
    // -----------------------------------------------------------------------------------
    // Persistence

    /// The rows changed since the last call, for a store to write in the same transaction
    /// as the entries that changed them.
    pub fn take_changes(&mut self) -> Vec<Row> {
        let mut all = Vec::new();
        self.take_changes_in_parts(|rows| {
            all.extend(rows);
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap_or_else(|never| match never {});
        all
    }

    /// [`State::take_changes`], handed to `write` a table or two at a time, so that the
    /// encoded rows of every table are never all in memory at once (a resource's decision
    /// history was one row of tens of kilobytes, and a write of a million-entry festival's
    /// plan touched thousands of them). A `write` that fails stops the rest; until
    /// [`State::written`], the next call hands every row out again.
    pub fn take_changes_in_parts<E>(&mut self, mut write: impl FnMut(Vec<Row>) -> Result<(), E>) -> Result<(), E> {
        // Rows are of a settled state only.
        self.settle();
        // Encoded a chunk at a time: a table's changed rows encoded at once took 7 MB at the
        // peak of a million-entry sync.
        fn rows<K: Serialize + Ord, V: Serialize, E>(
            name: &'static str,
            mut dirty: Vec<(K, Option<&V>)>,
            write: &mut impl FnMut(Vec<Row>) -> Result<(), E>,
        ) -> Result<(), E> {
            // In order, not only each chunk: a write then goes through a table's b-tree once,
            // from one end to the other (ids, most rows' keys, are encoded in their order).
            // A million-entry import took 32.7 and 33.5 s against 34.3–37.7 s with each chunk
            // in order only (alternating); 100,000 entries as long (issue 15).
            dirty.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            for chunk in dirty.chunks(WRITE_CHUNK) {
                write(chunk.iter().map(|(k, v)| (name, encode(k), v.map(encode))).collect())?;
            }
            Ok(())
        }
        fn index<G: crate::index::Group>(index: &mut crate::index::Index<G>) -> Vec<Row> {
            let mut rows = Vec::new();
            index.take_dirty(&mut rows);
            rows
        }
        rows("logs", self.logs.take_dirty(), &mut write)?;
        rows("festivals", self.festivals.take_dirty(), &mut write)?;
        rows("profiles", self.profiles.take_dirty(), &mut write)?;
        rows("resources", self.resources.take_dirty(), &mut write)?;
        let mut slots = Vec::new();
        for (id, r) in self.resources.values_mut_unmarked() {
            r.alloc.take_dirty(id, &mut slots);
            if slots.len() >= WRITE_CHUNK {
                write(std::mem::take(&mut slots))?;
            }
        }
        write(slots)?;
        rows(self.events.name(), self.events.take_dirty(), &mut write)?;
        rows(self.requests.name(), self.requests.take_dirty(), &mut write)?;
        rows(self.ops.name(), self.ops.take_dirty(), &mut write)?;
        self.alloc_ops.take_dirty(&mut write)?;
        rows(self.decisions.name(), self.decisions.take_dirty(), &mut write)?;
        let mut waiting = Vec::new();
        self.waiting.take_dirty(&mut waiting);
        write(waiting)?;
        rows("collectives", self.collectives.take_dirty(), &mut write)?;
        rows("votes", self.votes.take_dirty(), &mut write)?;
        rows("replacements", self.replacements.take_dirty(), &mut write)?;
        write(index(&mut self.event_index))?;
        write(index(&mut self.request_index))?;
        write(index(&mut self.organiser_index))?;
        Ok(())
    }

    /// The rows last taken by [`State::take_changes`] are stored (their transaction is
    /// committed): a lazy state forgets them. Until this is called, the next
    /// [`State::take_changes`] returns them again.
    pub fn written(&mut self) {
        self.logs.written();
        self.festivals.written();
        self.profiles.written();
        self.resources.written();
        for (_, r) in self.resources.values_mut_unmarked() {
            r.alloc.written();
        }
        self.waiting.written();
        self.collectives.written();
        self.votes.written();
        self.events.written();
        self.requests.written();
        self.ops.written();
        self.alloc_ops.written();
        self.decisions.written();
        self.replacements.written();
        self.event_index.written();
        self.request_index.written();
        self.organiser_index.written();
    }

    /// The names of the tables [`State::take_changes`] writes.
    pub const TABLES: [&'static str; 21] = [
        "logs",
        "festivals",
        "profiles",
        "resources",
        // After the resources: a state held whole loads each slot into its resource.
        "slots",
        "events",
        "requests",
        "ops",
        "waiting",
        "collectives",
        "votes",
        "allocops",
        "allocnaming",
        "alloclens",
        "decisions",
        "replacements",
        "eventindex",
        "eventspans",
        "requestindex",
        "requestspans",
        "organiserindex",
    ];

    /// Restores a state from persisted rows, in any order, and rebuilds the indexes.
    pub fn load(rows: impl IntoIterator<Item = (String, Vec<u8>, Vec<u8>)>) -> Result<State, String> {
        let mut loader = State::loader();
        let mut rows: Vec<_> = rows.into_iter().collect();
        // The loader takes a resource's slots after the resource.
        rows.sort_by_key(|(table, ..)| State::TABLES.iter().position(|t| t == table));
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

    /// As [`State::loader`], for a state that reads rows back from `source`: it keeps only
    /// the indexes of events and requests, and needs no operation records at all.
    pub fn lazy_loader(source: std::sync::Arc<dyn RowSource>) -> Loader {
        let mut state = State::default();
        state.read_rows_from(source);
        Loader { state }
    }

    pub(crate) fn index_organiser(&mut self, organiser: Key, event: Id) {
        if self.idx.organiser.is_none_or(|k| k == organiser) {
            self.organiser_index.insert_at(organiser, ORGANISER_START, event);
        }
    }

    /// Indexes the events of `organiser` only, not everyone's (a million-entry festival's
    /// 200,000 events took 23 MB): a node acts on its own events only ([`State::events_of`]
    /// scans for anyone else's). Set before the plan is loaded or folded; the index it keeps
    /// is stored, so set it to the same key whenever the plan is loaded.
    pub fn index_events_of(&mut self, organiser: Key) {
        if self.idx.organiser == Some(organiser) {
            return;
        }
        // Another key (one imported into a running node): its events, read once.
        if let Some(old) = self.idx.organiser {
            for (start, e) in self.organiser_index.all(old) {
                self.organiser_index.remove(old, start, e);
            }
        }
        let mine: Vec<Id> = self
            .event_ids()
            .into_iter()
            .filter_map(|e| self.events.get(&e))
            .filter(|e| e.organiser == organiser)
            .map(|e| e.id)
            .collect();
        self.idx.organiser = Some(organiser);
        for e in mine {
            self.organiser_index.insert_at(organiser, ORGANISER_START, e);
        }
    }

    /// Files event `id` of `festival` under its start `now`, no longer under `was`.
    pub(crate) fn index_event_frame(&mut self, festival: Id, id: Id, was: Option<TimeFrame>, now: TimeFrame) {
        if let Some(was) = was {
            self.event_index.remove(festival, was.start(), id);
        }
        self.event_index.insert(festival, now, id);
    }

    /// The indexes of the tables held whole.
    fn rebuild_indexes(&mut self) {
        for f in self.festivals.values() {
            if let Some(p) = f.parent {
                self.idx.children.entry(p).or_default().insert(f.id);
            }
        }
        for r in self.resources.values() {
            self.idx.resources_by_festival.entry(r.festival).or_default().insert(r.id);
        }
        for (author, log_id) in self.logs.iter().map(|(k, _)| *k) {
            self.idx.logs_by_author.entry(author).or_default().insert(log_id);
        }
    }
}
