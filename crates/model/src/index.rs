//! An ordered index that a store keeps on disk: members `(group, start, id)`, such as a
//! festival's events by start or a resource's requests by start.
//!
//! Without a [`RowSource`] (a store in memory, a browser) it holds every member. With one, it
//! holds only the members changed since the store last wrote them and reads the rest back by
//! range, so a festival of a million entries keeps none of its 600,000 index members in
//! memory (they took some 65 MB). Each member is a row of its own whose key sorts as the
//! member does: the group's bytes, the start as big-endian with the sign bit flipped, and the
//! id. The value is the end of the member's frame (8 bytes, big-endian) if it was filed with
//! one, else empty: a range of members overlapping a frame skips those that end before it
//! without reading their rows (the first page of a day's programme read 500 events that ended
//! before the day, for 100 it showed). With `spans`, it also keeps each group's longest frame,
//! so that such a range starts a bounded distance before the frame.

use std::cell::{Cell, RefCell};
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

/// A member as the index holds it in memory: ordered by the first 8 bytes of its group, its
/// start, its id, and only then its whole group, so that filing and sorting members compares
/// starts, not the 64 bytes of a group that all members of an index share (those comparisons
/// were most of the time of writing an index's rows, issue 15). A group's members are
/// together unless another group shares its first 8 bytes, which anyone can make happen:
/// a range of a group is filtered by the whole group.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Filed<G> {
    near: u64,
    start: Timestamp,
    id: Id,
    group: G,
}

impl<G: Group> Filed<G> {
    fn new((group, start, id): Member<G>) -> Filed<G> {
        let near = u64::from_be_bytes(group.bytes()[..8].try_into().expect("groups are longer than 8 bytes"));
        Filed { near, start, id, group }
    }

    fn member(&self) -> Member<G> {
        (self.group, self.start, self.id)
    }
}

/// A member as an index holds it: present, with the end of its frame if filed with one; or
/// removed since the rows were written (with a source only).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Held {
    Present(Option<Timestamp>),
    Removed,
}

/// Whether a member from [`Index::range_ending`] may overlap `frame`: only the rows of those
/// need reading. Unknown without an end.
pub fn may_overlap(&(start, _, end): &(Timestamp, Id, Option<Timestamp>), frame: &TimeFrame) -> bool {
    end.and_then(|end| TimeFrame::new(start, end)).is_none_or(|member| member.overlaps(frame))
}

/// A member row's value: its frame's end, or nothing.
fn encode_end(end: Option<Timestamp>) -> Vec<u8> {
    end.map(|e| e.0.to_be_bytes().to_vec()).unwrap_or_default()
}

/// `None` if the value is neither empty nor an end: the row is damaged.
fn decode_end(value: &[u8]) -> Option<Option<Timestamp>> {
    match value.len() {
        0 => Some(None),
        _ => Some(Some(Timestamp(i64::from_be_bytes(value.try_into().ok()?)))),
    }
}

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

/// The members an index holds, and the changes it has not sorted in yet.
#[derive(Clone)]
struct Members<G: Group> {
    /// Without a source, every member. With one, the members changed since last written.
    held: BTreeMap<Filed<G>, Held>,
    dirty: BTreeSet<Filed<G>>,
    /// Members filed or removed since `held` was last read, in the order of the changes.
    /// The fold only files; queries read. Filing into `held` and `dirty` at once was two
    /// inserts into ordered sets of 136-byte members at random places, 9 % of the time of
    /// the thread that stores an import (issue 15); now the changes are sorted once, when
    /// the members are next read or written.
    pending: Vec<(Filed<G>, Held)>,
}

impl<G: Group> Members<G> {
    /// Sorts the pending changes into `held` and `dirty`; without a source, a removed
    /// member is forgotten.
    fn settle(&mut self, lazy: bool) {
        if self.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        // Stable: a member's later change stays after its earlier one, and wins.
        pending.sort_by(|a, b| a.0.cmp(&b.0));
        if self.held.is_empty() && self.dirty.is_empty() {
            // All changes since the last write (a lazy index forgot what it wrote): built
            // at once from the sorted changes, without a search for each, the last change
            // of each member kept. Inserting them one by one was most of taking an import's
            // changed members for a write (issue 15).
            pending.reverse();
            pending.dedup_by(|a, b| a.0 == b.0);
            pending.reverse();
            self.dirty = pending.iter().map(|(member, _)| *member).collect();
            self.held = pending.into_iter().filter(|(_, held)| lazy || *held != Held::Removed).collect();
            return;
        }
        for (member, held) in pending {
            match held {
                Held::Removed if !lazy => {
                    self.held.remove(&member);
                }
                held => {
                    self.held.insert(member, held);
                }
            }
            self.dirty.insert(member);
        }
    }
}

#[derive(Clone)]
pub struct Index<G: Group> {
    name: &'static str,
    /// Behind a `RefCell`: reading sorts the pending changes in.
    members: RefCell<Members<G>>,
    /// Members handed out by [`Index::take_dirty`] whose write is not confirmed yet.
    writing: BTreeSet<Filed<G>>,
    /// The longest frame inserted per group, if the index keeps them; held whole.
    spans: Option<(&'static str, Table<G, i64>)>,
    source: Option<std::sync::Arc<dyn RowSource>>,
    unreadable: Cell<bool>,
}

impl<G: Group> std::fmt::Debug for Index<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("name", &self.name)
            .field("held", &self.members.borrow().held.len())
            .field("source", &self.source.is_some())
            .finish()
    }
}

impl<G: Group> Index<G> {
    pub fn new(name: &'static str, spans: Option<&'static str>) -> Self {
        Index {
            name,
            members: RefCell::new(Members { held: BTreeMap::new(), dirty: BTreeSet::new(), pending: Vec::new() }),
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

    /// Files `id` under `group` at `frame`'s start, with its end, and widens the group's
    /// longest frame.
    pub fn insert(&mut self, group: G, frame: TimeFrame, id: Id) {
        self.file((group, frame.start(), id), Some(frame.end()));
        if let Some((_, spans)) = &mut self.spans {
            let len = frame.end().0 - frame.start().0;
            if spans.get(&group).is_none_or(|l| *l < len) {
                spans.insert(group, len);
            }
        }
    }

    /// Files `id` under `group` at `start`, without a frame.
    pub fn insert_at(&mut self, group: G, start: Timestamp, id: Id) {
        self.file((group, start, id), None);
    }

    fn file(&mut self, member: Member<G>, end: Option<Timestamp>) {
        self.members.get_mut().pending.push((Filed::new(member), Held::Present(end)));
    }

    pub fn remove(&mut self, group: G, start: Timestamp, id: Id) {
        self.members.get_mut().pending.push((Filed::new((group, start, id)), Held::Removed));
    }

    /// The members, the pending changes sorted in.
    fn settled(&self) -> std::cell::Ref<'_, Members<G>> {
        if !self.members.borrow().pending.is_empty() {
            self.members.borrow_mut().settle(self.source.is_some());
        }
        self.members.borrow()
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
        self.range_ending(group, bounds, limit).into_iter().map(|(start, id, _)| (start, id)).collect()
    }

    /// [`Index::range`], each member with the end of the frame it was filed with, if any.
    pub fn range_ending(&self, group: G, bounds: Bounds, limit: usize) -> Vec<(Timestamp, Id, Option<Timestamp>)> {
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
        let members = self.settled();
        // Members of another group sharing the group's first 8 bytes may be among them.
        let held = members.held.range(Filed::new(from)..=Filed::new(to)).filter(|(m, _)| m.group == group);
        let present = |(m, held): (&Filed<G>, &Held)| match held {
            Held::Present(end) if bounds.contains(&(m.start, m.id)) => Some((m.start, m.id, *end)),
            _ => None,
        };
        let Some(source) = &self.source else {
            return held.filter_map(present).take(limit).collect();
        };
        // Members held override the stored ones; enough are read to fill the page after the
        // held ones and the excluded bounds are dropped.
        let mut overridden = 0usize;
        let mut out: Vec<(Timestamp, Id, Option<Timestamp>)> =
            held.inspect(|_| overridden += 1).filter_map(present).collect();
        let want = limit.saturating_add(overridden).saturating_add(2);
        let stored = source.rows(self.name, &encode(&from), &encode(&to), want).unwrap_or_else(|_| {
            self.unreadable.set(true);
            Vec::new()
        });
        for (key, value) in stored {
            let (Some(member), Some(end)) = (decode::<G>(&key), decode_end(&value)) else {
                self.unreadable.set(true);
                continue;
            };
            let (g, s, i) = member;
            if g != group || members.held.contains_key(&Filed::new(member)) || !bounds.contains(&(s, i)) {
                continue;
            }
            out.push((s, i, end));
        }
        out.sort_unstable_by_key(|(s, i, _)| (*s, *i));
        out.dedup_by_key(|(s, i, _)| (*s, *i));
        out.truncate(limit);
        out
    }

    /// The ids of `group`'s members that may overlap `frame`, by start: from the longest
    /// frame's length before it, without those known to end before it.
    pub fn overlapping(&self, group: G, frame: &TimeFrame) -> Vec<Id> {
        let members = self.range_ending(group, self.overlap_bounds(&group, frame), usize::MAX);
        members.into_iter().filter(|m| may_overlap(m, frame)).map(|(_, id, _)| id).collect()
    }

    /// Where `group`'s members that may overlap `frame` are: from the longest frame's length
    /// before it until its end.
    pub fn overlap_bounds(&self, group: &G, frame: &TimeFrame) -> Bounds {
        let from = (Timestamp(frame.start().0.saturating_sub(self.longest(group))), ZERO);
        (Bound::Included(from), Bound::Excluded((frame.end(), ZERO)))
    }

    /// Every member of `group`, in order.
    pub fn all(&self, group: G) -> Vec<(Timestamp, Id)> {
        self.range(group, (Bound::Unbounded, Bound::Unbounded), usize::MAX)
    }

    /// The changed members as rows for a store: the index's own, then the spans'. They are
    /// handed out again until [`Index::written`].
    pub fn take_dirty(&mut self, rows: &mut Vec<crate::Row>) {
        let members = self.members.get_mut();
        members.settle(self.source.is_some());
        crate::table::hand_out(&mut members.dirty, &mut self.writing);
        for m in &self.writing {
            let value = match members.held.get(m) {
                Some(Held::Present(end)) => Some(encode_end(*end)),
                Some(Held::Removed) | None => None,
            };
            rows.push((self.name, encode(&m.member()), value));
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
            // Changes still pending are not in `held`: they stay pending.
            let members = self.members.get_mut();
            let dirty = &members.dirty;
            members.held.retain(|m, _| dirty.contains(m));
        }
    }

    /// A stored row of the index, when loading a store without a source.
    pub fn load_member(&mut self, key: &[u8], value: &[u8]) -> Result<(), String> {
        let member = decode::<G>(key).ok_or_else(|| format!("a {} key of {} bytes", self.name, key.len()))?;
        let end = decode_end(value).ok_or_else(|| format!("a {} value of {} bytes", self.name, value.len()))?;
        let members = self.members.get_mut();
        members.settle(self.source.is_some());
        members.held.insert(Filed::new(member), Held::Present(end));
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
                        lazy.range_ending(a, bounds, limit),
                        whole.range_ending(a, bounds, limit),
                        "{bounds:?} {limit} {round}"
                    );
                    assert_eq!(lazy.range_ending(b, bounds, limit), whole.range_ending(b, bounds, limit));
                }
            }
            write(&mut lazy, &rows);
        }
        assert!(lazy.members.get_mut().held.is_empty(), "written members are forgotten");
        assert_eq!(lazy.all(a).len(), 18);
        assert_eq!(lazy.all(a).first(), Some(&(Timestamp(20), id(102))));
        // Each member with the end it was filed with: the moved one with its new end.
        let moved = (Bound::Included((Timestamp(205), id(120))), Bound::Included((Timestamp(205), id(120))));
        assert_eq!(lazy.range_ending(a, moved, 9), [(Timestamp(205), id(120), Some(Timestamp(290)))]);
        let first = (Bound::Unbounded, Bound::Included((Timestamp(20), id(102))));
        assert_eq!(lazy.range_ending(a, first, 9), [(Timestamp(20), id(102), Some(Timestamp(27)))]);
        assert_eq!((lazy.longest(&a), lazy.longest(&b), lazy.longest(&id(3))), (85, 7, 0));
    }

    /// A member changed several times between two reads is as its last change left it,
    /// whether or not the index reads rows back, held nothing yet or held some.
    #[test]
    fn the_last_change_of_a_member_wins() {
        for (lazy, held_some) in [(false, false), (true, false), (false, true), (true, true)] {
            let rows = std::sync::Arc::new(MemoryRows::default());
            let mut index = Index::<Id>::new("idx", None);
            if lazy {
                index.set_source(rows.clone());
            }
            let a = id(1);
            if held_some {
                index.insert(a, frame(0, 5), id(99));
                assert_eq!(index.all(a).len(), 1);
            }
            index.insert(a, frame(10, 20), id(100));
            index.remove(a, Timestamp(10), id(100));
            index.insert(a, frame(10, 30), id(100));
            index.insert(a, frame(40, 50), id(101));
            index.remove(a, Timestamp(40), id(101));
            let mut expected = vec![(Timestamp(10), id(100), Some(Timestamp(30)))];
            if held_some {
                expected.insert(0, (Timestamp(0), id(99), Some(Timestamp(5))));
            }
            let all = (Bound::Unbounded, Bound::Unbounded);
            assert_eq!(index.range_ending(a, all, 9), expected, "lazy {lazy}, held some {held_some}");
            write(&mut index, &rows);
            assert_eq!(index.range_ending(a, all, 9), expected, "written: lazy {lazy}, held some {held_some}");
        }
    }

    /// Groups that share their first 8 bytes (anyone can make two such ids) keep their
    /// members apart, held or read back.
    #[test]
    fn groups_sharing_their_first_bytes_keep_their_own_members() {
        let rows = std::sync::Arc::new(MemoryRows::default());
        let (mut a, mut b) = (id(7), id(7));
        a.0.0[63] = 1;
        b.0.0[63] = 2;
        let mut index = Index::<Id>::new("idx", Some("spans"));
        index.set_source(rows.clone());
        for n in 0..10u8 {
            let group = if n % 2 == 0 { a } else { b };
            index.insert(group, frame(n as i64, n as i64 + 1), id(100 + n));
            if n == 4 {
                write(&mut index, &rows);
            }
        }
        let all = (Bound::Unbounded, Bound::Unbounded);
        let starts = |group| index.range(group, all, usize::MAX).into_iter().map(|(s, _)| s.0).collect::<Vec<_>>();
        assert_eq!((starts(a), starts(b)), (vec![0, 2, 4, 6, 8], vec![1, 3, 5, 7, 9]));
        let some = (Bound::Included((Timestamp(3), ZERO)), Bound::Excluded((Timestamp(8), ZERO)));
        assert_eq!(index.range(a, some, 9), [(Timestamp(4), id(104)), (Timestamp(6), id(106))]);
        assert_eq!(index.range(b, some, 1), [(Timestamp(3), id(103))]);
    }

    /// A member filed without a frame has no end; a value that is no end is a damaged row.
    #[test]
    fn a_member_row_holds_its_end_or_nothing() {
        let rows = std::sync::Arc::new(MemoryRows::default());
        let mut index = Index::<Id>::new("idx", None);
        index.set_source(rows.clone());
        index.insert_at(id(1), Timestamp(4), id(2));
        index.insert(id(1), frame(5, 9), id(3));
        write(&mut index, &rows);
        let all = (Bound::Unbounded, Bound::Unbounded);
        assert_eq!(
            index.range_ending(id(1), all, 9),
            [(Timestamp(4), id(2), None), (Timestamp(5), id(3), Some(Timestamp(9)))]
        );
        assert!(!index.unreadable());
        let mut whole = Index::<Id>::new("idx", None);
        assert_eq!(whole.load_member(&encode(&(id(1), Timestamp(5), id(3))), &9i64.to_be_bytes()), Ok(()));
        assert_eq!(whole.range_ending(id(1), all, 9), [(Timestamp(5), id(3), Some(Timestamp(9)))]);
        let damaged = encode(&(id(1), Timestamp(6), id(4)));
        assert_eq!(whole.load_member(&damaged, &[0; 3]), Err("a idx value of 3 bytes".to_string()));
        rows.0.lock().unwrap().insert(("idx", damaged), vec![0; 3]);
        index.range(id(1), all, 9);
        assert!(index.unreadable());
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
    pub(crate) fn load(&mut self, key: &[u8], value: &[u8], lazy: bool) -> Result<(), String> {
        let (missing, _, _) = decode::<Id>(key).ok_or_else(|| format!("a waiting key of {} bytes", key.len()))?;
        if !lazy {
            self.index.load_member(key, value)?;
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
