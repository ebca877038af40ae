//! Each resource's decision history: the operations of its owner's log that decide its
//! allocation, in log order, as append-only rows a store keeps on disk.
//!
//! A fold appends one operation at a time and reads a history whole only to fold it again
//! (`State::refold`). Held as one row per resource, a million-entry festival's histories were
//! rows of tens of kilobytes, rewritten whole at every plan write and read back whole to find
//! the one operation naming a request (issue 15). Here each operation is a row of its own,
//! keyed by the resource and its position, and written once; a second table files the
//! operations that name a request under (resource, request, position), with the operation as
//! value, so that `State::settled_by_decisions` reads one short range. The length of each
//! history is held whole, like the resources.
//!
//! Without a [`RowSource`] (a store in memory, a browser) it holds every operation. With one,
//! it holds only those appended since the store last wrote them, and reads the rest back.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use bamboo::Hash;

use crate::alloc::AllocOp;
use crate::id::Id;
use crate::table::{Marked, RowSource, Table};

type Position = (Id, u32);

/// The key of an operation: the resource's bytes, then its position, big-endian.
fn op_key((resource, at): Position) -> Vec<u8> {
    let mut key = Vec::with_capacity(64 + 4);
    key.extend_from_slice(&resource.0.0);
    key.extend_from_slice(&at.to_be_bytes());
    key
}

/// The key under which an operation naming `request` is filed.
fn naming_key(resource: Id, request: Id, at: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(64 + 64 + 4);
    key.extend_from_slice(&resource.0.0);
    key.extend_from_slice(&request.0.0);
    key.extend_from_slice(&at.to_be_bytes());
    key
}

/// The position at the end of a key of either table.
fn position_of(key: &[u8], len: usize) -> Option<u32> {
    if key.len() != len {
        return None;
    }
    Some(u32::from_be_bytes(key[len - 4..].try_into().ok()?))
}

#[derive(Clone)]
pub struct History {
    ops: &'static str,
    naming: &'static str,
    lens_name: &'static str,
    /// How many operations each resource's history holds; held whole.
    lens: Table<Id, u32>,
    /// Without a source, every operation. With one, those not yet written, each marked if
    /// appended since they were last handed out ([`Marked`]).
    held: BTreeMap<Position, Marked<AllocOp>>,
    /// Without a source: the operations not yet handed out.
    unstored: BTreeSet<Position>,
    /// Without a source: operations handed out by [`History::take_dirty`] whose write is not
    /// confirmed yet.
    writing: BTreeSet<Position>,
    source: Option<std::sync::Arc<dyn RowSource>>,
    unreadable: Cell<bool>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History").field("held", &self.held.len()).field("source", &self.source.is_some()).finish()
    }
}

impl History {
    /// Stored as `ops` (resource, position → operation), `naming` (resource, request,
    /// position → operation) and `lens` (resource → length).
    pub fn new(ops: &'static str, naming: &'static str, lens: &'static str) -> History {
        History {
            ops,
            naming,
            lens_name: lens,
            lens: Table::default(),
            held: BTreeMap::new(),
            unstored: BTreeSet::new(),
            writing: BTreeSet::new(),
            source: None,
            unreadable: Cell::new(false),
        }
    }

    /// Reads the operations it does not hold from `source` from now on.
    pub fn set_source(&mut self, source: std::sync::Arc<dyn RowSource>) {
        // It then holds only the operations not yet written, each marked if appended since
        // handed out; the others are stored.
        let (unstored, writing) = (std::mem::take(&mut self.unstored), std::mem::take(&mut self.writing));
        self.held.retain(|at, op| {
            op.changed = unstored.contains(at);
            op.changed || writing.contains(at)
        });
        self.source = Some(source);
    }

    pub fn unreadable(&self) -> bool {
        self.unreadable.get()
    }

    /// Operations held in memory.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Appends `op` to the history of `resource`.
    pub fn push(&mut self, resource: Id, op: AllocOp) {
        let at = self.lens.get(&resource).copied().unwrap_or(0);
        self.lens.insert(resource, at + 1);
        self.held.insert((resource, at), Marked::changed(op));
        if self.source.is_none() {
            self.unstored.insert((resource, at));
        }
    }

    /// The history of `resource`, in log order.
    pub fn all(&self, resource: Id) -> Vec<AllocOp> {
        let held = self.held.range((resource, 0)..=(resource, u32::MAX)).map(|((_, at), op)| (*at, op.value.clone()));
        let Some(source) = &self.source else { return held.map(|(_, op)| op).collect() };
        let rows = source.rows(self.ops, &op_key((resource, 0)), &op_key((resource, u32::MAX)), usize::MAX);
        let mut ops = self.decode(rows, 64 + 4);
        ops.extend(held);
        ops.into_values().collect()
    }

    /// The operations of `resource`'s history that name `request`, in log order.
    pub fn naming(&self, resource: Id, request: Id) -> Vec<AllocOp> {
        let names = |op: &AllocOp| op.request() == Some(request);
        let held = self
            .held
            .range((resource, 0)..=(resource, u32::MAX))
            .filter(|(_, op)| names(&op.value))
            .map(|((_, at), op)| (*at, op.value.clone()));
        let Some(source) = &self.source else { return held.map(|(_, op)| op).collect() };
        let rows = source.rows(
            self.naming,
            &naming_key(resource, request, 0),
            &naming_key(resource, request, u32::MAX),
            usize::MAX,
        );
        let mut ops = self.decode(rows, 64 + 64 + 4);
        ops.extend(held);
        ops.into_values().filter(names).collect()
    }

    /// Stored rows of either table, by position; a row that does not decode marks the
    /// history unreadable.
    fn decode(&self, rows: Result<Vec<(Vec<u8>, Vec<u8>)>, String>, key_len: usize) -> BTreeMap<u32, AllocOp> {
        let rows = rows.unwrap_or_else(|_| {
            self.unreadable.set(true);
            Vec::new()
        });
        let mut ops = BTreeMap::new();
        for (k, v) in rows {
            match (position_of(&k, key_len), postcard::from_bytes::<AllocOp>(&v)) {
                (Some(at), Ok(op)) => {
                    ops.insert(at, op);
                }
                _ => self.unreadable.set(true),
            }
        }
        ops
    }

    /// The operations appended since last written, as rows of both tables, and the changed
    /// lengths, handed to `write` some thousand operations at a time: a plan write of a
    /// million-entry festival appends tens of thousands. They are handed out again until
    /// [`History::written`]; a `write` that fails stops the rest.
    pub fn take_dirty<E>(&mut self, mut write: impl FnMut(Vec<crate::Row>) -> Result<(), E>) -> Result<(), E> {
        let (naming, ops) = (self.naming, self.ops);
        let mut rows = Vec::new();
        let row = |(resource, at): Position, op: &AllocOp, rows: &mut Vec<crate::Row>| {
            let value = postcard::to_allocvec(op).expect("rows serialise");
            if let Some(request) = op.request() {
                rows.push((naming, naming_key(resource, request, at), Some(value.clone())));
            }
            rows.push((ops, op_key((resource, at)), Some(value)));
        };
        if self.source.is_some() {
            // Every operation held is unwritten, whether handed out before or not.
            for (&at, op) in self.held.iter_mut() {
                op.changed = false;
                row(at, &op.value, &mut rows);
                if rows.len() >= crate::rows::WRITE_CHUNK {
                    write(std::mem::take(&mut rows))?;
                }
            }
        } else {
            crate::table::hand_out(&mut self.unstored, &mut self.writing);
            for at in &self.writing {
                row(*at, &self.held[at].value, &mut rows);
                if rows.len() >= crate::rows::WRITE_CHUNK {
                    write(std::mem::take(&mut rows))?;
                }
            }
        }
        for (resource, len) in self.lens.take_dirty() {
            let len = len.map(|l| postcard::to_allocvec(l).expect("rows serialise"));
            rows.push((self.lens_name, postcard::to_allocvec(&resource).expect("keys serialise"), len));
        }
        write(rows)
    }

    /// The rows last taken are stored: with a source, forget the operations written.
    pub fn written(&mut self) {
        self.writing.clear();
        self.lens.written();
        if self.source.is_some() {
            self.held.retain(|_, op| op.changed);
        }
    }

    /// A stored operation, when loading a store without a source.
    pub fn load_op(&mut self, key: &[u8], value: &[u8]) -> Result<(), String> {
        let at = position_of(key, 64 + 4).ok_or_else(|| format!("a {} key of {} bytes", self.ops, key.len()))?;
        let resource = Id(Hash(key[..64].try_into().expect("checked the length")));
        let op = postcard::from_bytes(value).map_err(|e| e.to_string())?;
        self.held.insert((resource, at), Marked::unchanged(op));
        Ok(())
    }

    /// A stored length.
    pub fn load_len(&mut self, key: &[u8], value: &[u8]) -> Result<(), String> {
        let resource: Id = postcard::from_bytes(key).map_err(|e| e.to_string())?;
        let len: u32 = postcard::from_bytes(value).map_err(|e| e.to_string())?;
        self.lens.load(resource, len);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{TimeFrame, Timestamp};

    use crate::table::MemoryRows;

    /// Writes what `history` hands out; `commit: false` is a write whose transaction failed.
    fn write(history: &mut History, rows: &MemoryRows, commit: bool) {
        let mut out = Vec::new();
        history
            .take_dirty(|rows| {
                out.extend(rows);
                Ok::<(), ()>(())
            })
            .unwrap();
        if !commit {
            return;
        }
        assert!(out.iter().all(|(_, _, v)| v.is_some()), "a history only appends");
        rows.write(out);
        history.written();
    }

    fn id(n: u8) -> Id {
        Id(Hash([n; 64]))
    }

    fn op(n: u8) -> AllocOp {
        let request = id(200 + n % 3);
        match n % 4 {
            0 => AllocOp::Deny { op: id(n), request, reason: format!("no {n}") },
            1 => AllocOp::Release { op: id(n), request },
            2 => AllocOp::Retire { op: id(n) },
            _ => AllocOp::Confirm {
                op: id(n),
                request,
                frame: TimeFrame::new(Timestamp(n as i64), Timestamp(n as i64 + 1)),
            },
        }
    }

    /// Appends give the same histories, and the same operations naming each request, whether
    /// held whole, read back after writes (some of which failed), or loaded from the rows.
    #[test]
    fn a_history_read_back_is_the_history_held_whole() {
        let rows = std::sync::Arc::new(MemoryRows::default());
        let names = ("allocops", "allocnaming", "alloclens");
        let mut lazy = History::new(names.0, names.1, names.2);
        lazy.set_source(rows.clone());
        let mut whole = History::new(names.0, names.1, names.2);
        let (a, b) = (id(1), id(2));
        for n in 0..60u8 {
            let resource = if n % 5 < 3 { a } else { b };
            lazy.push(resource, op(n));
            whole.push(resource, op(n));
            if n % 11 == 0 {
                write(&mut lazy, &rows, n % 22 != 0);
            }
        }
        let check = |history: &History, whole: &History, round: &str| {
            for resource in [a, b, id(3)] {
                assert_eq!(history.all(resource), whole.all(resource), "{round}");
                for request in [id(200), id(201), id(202), id(203)] {
                    assert_eq!(history.naming(resource, request), whole.naming(resource, request), "{round}");
                }
            }
        };
        assert_eq!(whole.all(a).len(), 36);
        assert_eq!(whole.naming(a, id(200)).iter().map(|o| o.op()).collect::<Vec<_>>()[..3], [id(0), id(12), id(15)]);
        check(&lazy, &whole, "half written");
        write(&mut lazy, &rows, true);
        assert_eq!(lazy.held(), 0, "written operations are forgotten");
        check(&lazy, &whole, "written");
        // Loaded from the rows: the operations held whole, the naming table not needed.
        let mut loaded = History::new(names.0, names.1, names.2);
        for ((table, k), v) in rows.0.lock().unwrap().iter() {
            match *table {
                "allocops" => loaded.load_op(k, v).unwrap(),
                "alloclens" => loaded.load_len(k, v).unwrap(),
                _ => {}
            }
        }
        check(&loaded, &whole, "loaded");
        loaded.push(a, op(99));
        whole.push(a, op(99));
        check(&loaded, &whole, "appended after load");
        assert!(!lazy.unreadable());
        // A damaged row marks the history unreadable (the store then folds the plan again
        // from the entries) and answers without it.
        rows.0.lock().unwrap().insert(("allocops", op_key((a, 999))), vec![0xff; 3]);
        assert_eq!(lazy.all(b), whole.all(b));
        assert!(!lazy.unreadable(), "another resource's rows are not read");
        assert_eq!(lazy.all(a).len(), 36);
        assert!(lazy.unreadable());
        let mut short = History::new(names.0, names.1, names.2);
        short.set_source(rows.clone());
        rows.0.lock().unwrap().insert(("allocnaming", naming_key(b, id(200), 0)[..100].to_vec()), vec![]);
        assert_eq!(short.naming(b, id(200)), whole.naming(b, id(200)));
        assert!(!short.unreadable(), "a key outside the range is not read");
        let long = [naming_key(b, id(201), 7), vec![0]].concat();
        rows.0.lock().unwrap().insert(("allocnaming", long), vec![]);
        short.naming(b, id(201));
        assert!(short.unreadable(), "a key of the wrong length");
    }
}
