//! An ordered index that a store keeps on disk: members `(group, start, id)`, such as a
//! festival's events by start or a resource's requests by start.
//!
//! Without a [`RowSource`] (a store in memory, a browser) it holds every member. With one, it
//! holds only the members changed since the store last wrote them and reads the rest back by
//! range, so a festival of a million entries keeps none of its 600,000 index members in
//! memory (they took some 65 MB). Each member is a row of its own whose key sorts as the
//! member does: the group's bytes, the start as big-endian with the sign bit flipped, and the
//! id; the value is empty. With `spans`, it also keeps each group's longest frame, so that a
//! range of members overlapping a frame starts a bounded distance before it.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Bound, RangeBounds};

use bamboo::{Author, Hash};

use crate::id::{Id, Key};
use crate::table::{RowSource, Table};
use crate::time::{TimeFrame, Timestamp};

/// What an index groups its members by: bytes of a fixed length.
pub trait Group: Copy + Ord + std::hash::Hash + serde::Serialize + serde::de::DeserializeOwned {
    const LEN: usize;
    fn bytes(&self) -> &[u8];
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
}

impl Group for Id {
    const LEN: usize = 64;
    fn bytes(&self) -> &[u8] {
        &self.0.0
    }
    fn from_bytes(bytes: &[u8]) -> Option<Id> {
        Some(Id(Hash(bytes.try_into().ok()?)))
    }
}

impl Group for Key {
    const LEN: usize = 32;
    fn bytes(&self) -> &[u8] {
        &self.0.0
    }
    fn from_bytes(bytes: &[u8]) -> Option<Key> {
        Some(Key(Author(bytes.try_into().ok()?)))
    }
}

type Member<G> = (G, Timestamp, Id);

/// The bounds of a range of members within a group, by (start, id).
pub type Bounds = (Bound<(Timestamp, Id)>, Bound<(Timestamp, Id)>);

const ZERO: Id = Id(Hash([0; 64]));
const MAX: Id = Id(Hash([0xff; 64]));

/// A member's key: also the key of an allocation's slot (`alloc::SLOTS`).
pub(crate) fn encode<G: Group>((group, start, id): &Member<G>) -> Vec<u8> {
    let mut key = Vec::with_capacity(G::LEN + 8 + 64);
    key.extend_from_slice(group.bytes());
    key.extend_from_slice(&((start.0 as u64) ^ (1 << 63)).to_be_bytes());
    key.extend_from_slice(&id.0.0);
    key
}

pub(crate) fn decode<G: Group>(key: &[u8]) -> Option<Member<G>> {
    if key.len() != G::LEN + 8 + 64 {
        return None;
    }
    let (group, rest) = key.split_at(G::LEN);
    let (start, id) = rest.split_at(8);
    let start = u64::from_be_bytes(start.try_into().ok()?) ^ (1 << 63);
    Some((G::from_bytes(group)?, Timestamp(start as i64), <Id as Group>::from_bytes(id)?))
}

#[derive(Clone)]
pub struct Index<G: Group> {
    name: &'static str,
    /// Without a source, every member (`true`). With one, the members changed since last
    /// written: `true` if present, `false` if removed.
    held: BTreeMap<Member<G>, bool>,
    dirty: BTreeSet<Member<G>>,
    /// Members handed out by [`Index::take_dirty`] whose write is not confirmed yet.
    writing: BTreeSet<Member<G>>,
    /// The longest frame inserted per group, if the index keeps them; held whole.
    spans: Option<(&'static str, Table<G, i64>)>,
    source: Option<std::sync::Arc<dyn RowSource>>,
    unreadable: Cell<bool>,
}

impl<G: Group> std::fmt::Debug for Index<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("name", &self.name)
            .field("held", &self.held.len())
            .field("source", &self.source.is_some())
            .finish()
    }
}

impl<G: Group> Index<G> {
    pub fn new(name: &'static str, spans: Option<&'static str>) -> Self {
        Index {
            name,
            held: BTreeMap::new(),
            dirty: BTreeSet::new(),
            writing: BTreeSet::new(),
            spans: spans.map(|s| (s, Table::default())),
            source: None,
            unreadable: Cell::new(false),
        }
    }

    /// Reads the members it does not hold from `source` from now on.
    pub fn set_source(&mut self, source: std::sync::Arc<dyn RowSource>) {
        self.source = Some(source);
    }

    pub fn unreadable(&self) -> bool {
        self.unreadable.get()
    }

    /// Files `id` under `group` at `frame`'s start, and widens the group's longest frame.
    pub fn insert(&mut self, group: G, frame: TimeFrame, id: Id) {
        self.insert_at(group, frame.start(), id);
        if let Some((_, spans)) = &mut self.spans {
            let len = frame.end().0 - frame.start().0;
            if spans.get(&group).is_none_or(|l| *l < len) {
                spans.insert(group, len);
            }
        }
    }

    /// Files `id` under `group` at `start`, without a frame.
    pub fn insert_at(&mut self, group: G, start: Timestamp, id: Id) {
        let member = (group, start, id);
        self.held.insert(member, true);
        self.dirty.insert(member);
    }

    pub fn remove(&mut self, group: G, start: Timestamp, id: Id) {
        let member = (group, start, id);
        match self.source {
            Some(_) => {
                self.held.insert(member, false);
            }
            None => {
                self.held.remove(&member);
            }
        }
        self.dirty.insert(member);
    }

    /// The longest frame ever filed under `group` (0 if none): a member overlapping a frame
    /// starts at most this long before it.
    pub fn longest(&self, group: &G) -> i64 {
        self.spans.as_ref().and_then(|(_, s)| s.get(group).copied()).unwrap_or(0)
    }

    /// Every group with members, if the index keeps spans (it knows its groups by them).
    pub fn groups(&self) -> Vec<G> {
        self.spans.as_ref().map(|(_, s)| s.iter().map(|(g, _)| *g).collect()).unwrap_or_default()
    }

    /// The members of `group` within `bounds`, in order, at most `limit`.
    pub fn range(&self, group: G, bounds: Bounds, limit: usize) -> Vec<(Timestamp, Id)> {
        let lo = match bounds.0 {
            Bound::Included(b) | Bound::Excluded(b) => b,
            Bound::Unbounded => (Timestamp(i64::MIN), ZERO),
        };
        let hi = match bounds.1 {
            Bound::Included(b) | Bound::Excluded(b) => b,
            Bound::Unbounded => (Timestamp(i64::MAX), MAX),
        };
        if lo > hi || limit == 0 {
            return Vec::new();
        }
        let (from, to) = ((group, lo.0, lo.1), (group, hi.0, hi.1));
        let held = self.held.range(from..=to);
        let Some(source) = &self.source else {
            return held.map(|((_, s, i), _)| (*s, *i)).filter(|m| bounds.contains(m)).take(limit).collect();
        };
        // Members held override the stored ones; enough are read to fill the page after the
        // held ones and the excluded bounds are dropped.
        let mut out: Vec<(Timestamp, Id)> = Vec::new();
        let mut overridden = 0usize;
        for ((_, s, i), present) in held {
            overridden += 1;
            if *present && bounds.contains(&(*s, *i)) {
                out.push((*s, *i));
            }
        }
        let want = limit.saturating_add(overridden).saturating_add(2);
        let stored = source.keys(self.name, &encode(&from), &encode(&to), want).unwrap_or_else(|_| {
            self.unreadable.set(true);
            Vec::new()
        });
        for key in stored {
            let Some(member) = decode::<G>(&key) else {
                self.unreadable.set(true);
                continue;
            };
            let (g, s, i) = member;
            if g != group || self.held.contains_key(&member) || !bounds.contains(&(s, i)) {
                continue;
            }
            out.push((s, i));
        }
        out.sort_unstable();
        out.dedup();
        out.truncate(limit);
        out
    }

    /// Every member of `group`, in order.
    pub fn all(&self, group: G) -> Vec<(Timestamp, Id)> {
        self.range(group, (Bound::Unbounded, Bound::Unbounded), usize::MAX)
    }

    /// The changed members as rows for a store: the index's own, then the spans'. They are
    /// handed out again until [`Index::written`].
    pub fn take_dirty(&mut self, rows: &mut Vec<crate::Row>) {
        crate::table::hand_out(&mut self.dirty, &mut self.writing);
        for m in &self.writing {
            let present = self.held.get(m).copied().unwrap_or(false);
            rows.push((self.name, encode(m), present.then(Vec::new)));
        }
        if let Some((name, spans)) = &mut self.spans {
            for (g, len) in spans.take_dirty() {
                rows.push((
                    name,
                    postcard::to_allocvec(&g).expect("keys serialise"),
                    len.map(|l| l.to_le_bytes().to_vec()),
                ));
            }
        }
    }

    /// The rows last taken are stored: with a source, forget them unless changed since.
    pub fn written(&mut self) {
        self.writing.clear();
        if let Some((_, spans)) = &mut self.spans {
            spans.written();
        }
        if self.source.is_some() {
            let dirty = &self.dirty;
            self.held.retain(|m, _| dirty.contains(m));
        }
    }

    /// A stored row of the index, when loading a store without a source.
    pub fn load_member(&mut self, key: &[u8]) -> Result<(), String> {
        let member = decode::<G>(key).ok_or_else(|| format!("a {} key of {} bytes", self.name, key.len()))?;
        self.held.insert(member, true);
        Ok(())
    }

    /// A stored row of the spans.
    pub fn load_span(&mut self, key: &[u8], value: &[u8]) -> Result<(), String> {
        let Some((_, spans)) = &mut self.spans else { return Err(format!("{} keeps no spans", self.name)) };
        let group: G = postcard::from_bytes(key).map_err(|e| e.to_string())?;
        let len = i64::from_le_bytes(value.try_into().map_err(|_| "a span of the wrong size".to_string())?);
        spans.load(group, len);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::table::MemoryRows;

    fn write(index: &mut Index<Id>, rows: &MemoryRows) {
        let mut out = Vec::new();
        index.take_dirty(&mut out);
        rows.write(out);
        index.written();
    }

    fn id(n: u8) -> Id {
        Id(Hash([n; 64]))
    }

    fn frame(start: i64, end: i64) -> TimeFrame {
        TimeFrame::new(Timestamp(start), Timestamp(end)).unwrap()
    }

    #[test]
    fn keys_sort_as_members_do() {
        let members = [
            (id(1), Timestamp(-5), id(9)),
            (id(1), Timestamp(-1), id(0)),
            (id(1), Timestamp(0), id(3)),
            (id(1), Timestamp(7), id(2)),
            (id(2), Timestamp(i64::MIN), id(0)),
        ];
        let keys: Vec<Vec<u8>> = members.iter().map(encode).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        for (m, k) in members.iter().zip(&keys) {
            assert_eq!(decode::<Id>(k), Some(*m));
        }
        assert_eq!(decode::<Id>(&keys[0][1..]), None);
    }

    /// The same changes give the same ranges whether the index holds everything, or holds
    /// only what changed since written and reads the rest back.
    #[test]
    fn a_lazy_index_answers_as_one_held_whole() {
        let rows = std::sync::Arc::new(MemoryRows::default());
        let mut lazy = Index::<Id>::new("idx", Some("spans"));
        lazy.set_source(rows.clone());
        let mut whole = Index::<Id>::new("idx", Some("spans"));
        let (a, b) = (id(1), id(2));
        for n in 0..40u8 {
            let f = frame(n as i64 * 10, n as i64 * 10 + 5 + (n % 3) as i64);
            for index in [&mut lazy, &mut whole] {
                index.insert(if n % 2 == 0 { a } else { b }, f, id(100 + n));
            }
            if n % 7 == 0 {
                write(&mut lazy, &rows);
            }
        }
        // Removed after written, removed before written, and moved.
        for index in [&mut lazy, &mut whole] {
            index.remove(a, Timestamp(0), id(100));
            index.remove(a, Timestamp(380), id(138));
            index.remove(a, Timestamp(200), id(120));
            index.insert(a, frame(205, 290), id(120));
        }
        let ranges = [
            (Bound::Unbounded, Bound::Unbounded),
            (Bound::Included((Timestamp(100), ZERO)), Bound::Excluded((Timestamp(300), ZERO))),
            (Bound::Excluded((Timestamp(205), id(120))), Bound::Unbounded),
            (Bound::Excluded((Timestamp(200), id(120))), Bound::Included((Timestamp(220), id(122)))),
        ];
        for round in 0..2 {
            for bounds in ranges {
                for limit in [0, 1, 3, usize::MAX] {
                    assert_eq!(
                        lazy.range(a, bounds, limit),
                        whole.range(a, bounds, limit),
                        "{bounds:?} {limit} {round}"
                    );
                    assert_eq!(lazy.range(b, bounds, limit), whole.range(b, bounds, limit));
                }
            }
            write(&mut lazy, &rows);
        }
        assert!(lazy.held.is_empty(), "written members are forgotten");
        assert_eq!(lazy.all(a).len(), 18);
        assert_eq!(lazy.all(a).first(), Some(&(Timestamp(20), id(102))));
        assert_eq!((lazy.longest(&a), lazy.longest(&b), lazy.longest(&id(3))), (85, 7, 0));
    }
}

/// Ids not known yet → the resources whose allocation looked them up: an [`Index`] of
/// members `(id, 0, resource)` with, in memory, how many members wait under each id's first
/// 8 bytes, so that the fold asks the store only about ids that may be waited for. A
/// festival synced with its owners' decisions before the requests they decide waits for
/// every request at once: 400,000 at a million entries, which in a map took some 50 MB.
#[derive(Clone, Debug)]
pub(crate) struct Waiting {
    index: Index<Id>,
    prefixes: std::collections::HashMap<u64, u32>,
}

impl Waiting {
    pub(crate) const TABLE: &'static str = "waiting";

    pub(crate) fn new() -> Waiting {
        Waiting { index: Index::new(Waiting::TABLE, None), prefixes: Default::default() }
    }

    pub(crate) fn set_source(&mut self, source: std::sync::Arc<dyn RowSource>) {
        self.index.set_source(source);
    }

    pub(crate) fn unreadable(&self) -> bool {
        self.index.unreadable()
    }

    /// `resource`'s fold looked up `missing`, which is not known yet.
    pub(crate) fn add(&mut self, missing: Id, resource: Id) {
        let p = missing.prefix();
        let member = (Bound::Included((Timestamp(0), resource)), Bound::Included((Timestamp(0), resource)));
        if self.prefixes.contains_key(&p) && !self.index.range(missing, member, 1).is_empty() {
            return;
        }
        self.index.insert_at(missing, Timestamp(0), resource);
        *self.prefixes.entry(p).or_default() += 1;
    }

    /// `id` became known: the resources that waited for it, no longer waiting.
    pub(crate) fn take(&mut self, id: &Id) -> Vec<Id> {
        let p = id.prefix();
        let Some(count) = self.prefixes.get_mut(&p) else { return Vec::new() };
        let members = self.index.all(*id);
        *count = count.saturating_sub(members.len() as u32);
        if *count == 0 {
            self.prefixes.remove(&p);
        }
        members
            .into_iter()
            .map(|(start, resource)| {
                self.index.remove(*id, start, resource);
                resource
            })
            .collect()
    }

    /// A stored row; a lazy state counts it without holding it.
    pub(crate) fn load(&mut self, key: &[u8], lazy: bool) -> Result<(), String> {
        let (missing, _, _) = decode::<Id>(key).ok_or_else(|| format!("a waiting key of {} bytes", key.len()))?;
        if !lazy {
            self.index.load_member(key)?;
        }
        *self.prefixes.entry(missing.prefix()).or_default() += 1;
        Ok(())
    }

    pub(crate) fn take_dirty(&mut self, rows: &mut Vec<crate::Row>) {
        self.index.take_dirty(rows);
    }

    pub(crate) fn written(&mut self) {
        self.index.written();
    }
}
