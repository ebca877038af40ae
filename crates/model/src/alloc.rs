//! A resource's allocation: the fold of its owner's decisions, in the owner's log order.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::rules::Rule;
use crate::state::OpStatus;
use crate::table::RowSource;
use crate::time::{Availability, Capacity, TimeFrame, Timestamp};

/// An operation of the owner's log that decides the resource's allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllocOp {
    /// The terms a resource is booked on: `resource/create` and `resource/update`.
    Availability {
        op: Id,
        availability: Availability,
        capacity: Capacity,
    },
    Retire {
        op: Id,
    },
    /// `frame`: the slot the owner says it takes (version 2 confirms).
    Confirm {
        op: Id,
        request: Id,
        frame: Option<TimeFrame>,
    },
    Deny {
        op: Id,
        request: Id,
        reason: String,
    },
    Release {
        op: Id,
        request: Id,
    },
}

impl AllocOp {
    pub fn op(&self) -> Id {
        match self {
            AllocOp::Availability { op, .. }
            | AllocOp::Retire { op }
            | AllocOp::Confirm { op, .. }
            | AllocOp::Deny { op, .. }
            | AllocOp::Release { op, .. } => *op,
        }
    }

    pub fn request(&self) -> Option<Id> {
        match self {
            AllocOp::Confirm { request, .. } | AllocOp::Deny { request, .. } | AllocOp::Release { request, .. } => {
                Some(*request)
            }
            AllocOp::Availability { .. } | AllocOp::Retire { .. } => None,
        }
    }
}

/// What the materialiser knows of a request when the owner's decision about it is folded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestCheck {
    /// A valid request for this resource with this time frame.
    Valid(TimeFrame),
    /// Not decidable yet: the id that is missing, and the rule that says so.
    Unknown(Id, Rule),
    /// Never valid for this resource.
    Invalid(Rule),
}

/// The owner's latest decision about a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Confirmed {
        op: Id,
    },
    Denied {
        op: Id,
        reason: String,
    },
    Released {
        op: Id,
    },
    /// The owner confirmed, but the confirm broke a rule. Boxed: a rule is larger than
    /// the other decisions, and there is a decision for every request decided.
    Refused {
        op: Id,
        rule: Box<Rule>,
    },
}

/// Stored whole.
impl crate::table::StoredRow<(Id, Id)> for Decision {}

/// A resource's allocation: its availability, capacity and confirmed slots, folded from its
/// owner's log. Confirms are kept by start; with a capacity above one they may overlap, and
/// a step function of how many are active ([`Allocation::load_in`]) answers the check in
/// O(log n + the pieces within the frame).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    availability: Availability,
    capacity: Capacity,
    retired: bool,
    /// Active confirms: (start, request) to end.
    active: Slots,
    /// With a capacity of `n >= 2`: the number of active slots from each key to the next.
    /// Empty otherwise (one: a check looks at the overlapping slots; unlimited: never full).
    load: BTreeMap<Timestamp, u32>,
    /// The longest slot confirmed so far: a slot overlapping a frame starts no earlier than
    /// `longest` before it. It never shrinks, which costs only time.
    longest: i64,
}

const NO_ID: Id = Id(bamboo::Hash([0; 64]));
const MAX_ID: Id = Id(bamboo::Hash([0xff; 64]));

/// The table a store keeps the active slots in: keyed as an index member (the resource, the
/// start, the request: [`crate::index::Index`]), so that keys sort as starts do; value the end.
pub(crate) const SLOTS: &str = "slots";

type Slot = (Timestamp, Id);

/// A slot's key: that of an index member (resource, start, request).
fn slot_key(resource: &Id, (start, request): &Slot) -> Vec<u8> {
    crate::index::encode(&(*resource, *start, *request))
}

fn decode_slot(key: &[u8], value: &[u8]) -> Option<(Id, Slot, Timestamp)> {
    let (resource, start, request) = crate::index::decode::<Id>(key)?;
    let end = i64::from_be_bytes(value.try_into().ok()?);
    Some((resource, (start, request), Timestamp(end)))
}

/// The first 16 bytes of a request's id: what [`Slots`] keeps in memory of each active slot.
/// Two ids that share them take some 2^64 hashes of signed entries to make (a birthday
/// search over 128 bits), so a request whose prefix is among them is taken to hold a slot in
/// what is shown ([`Allocation::holds`]), never in the rules. With the first 8 bytes, as
/// before, anyone could make two such requests, and knowing took a read of the slot's row.
/// A million-entry import peaked at 142 MB with 16 bytes, 148 with 24, 137 with 8 (one run
/// each; issue 15).
type Prefix = [u8; 16];

fn prefix(request: &Id) -> Prefix {
    request.first_bytes()
}

/// The active slots, (start, request) to end, and where each request's slot starts, found
/// by the [`Prefix`] of its id. Ids that share it anyway are kept whole in `clashes`, so that
/// the allocation's rules never rest on it ([`Slots::frame_of`] reads the whole id's row).
///
/// Without a [`RowSource`] (a store in memory, a browser) it holds every slot. With one, it
/// holds only the slots changed since the store last wrote them (rows of [`SLOTS`]) and
/// reads the others back by range: a festival of a million entries has some 200,000 active
/// slots, which held whole took 42 MB (issue 15). The starts stay in memory, 24 bytes a
/// slot, and are stored with the allocation's row: they tell where a request's slot is
/// without a read, and whether it has one.
#[derive(Clone, Default)]
struct Slots {
    /// Without a source, every slot (`Some(end)`). With one, the slots changed since last
    /// written: `Some(end)` if active, `None` if taken away.
    held: BTreeMap<Slot, Option<Timestamp>>,
    dirty: BTreeSet<Slot>,
    /// Slots handed out by [`Allocation::take_dirty`] whose write is not confirmed yet.
    writing: BTreeSet<Slot>,
    starts: HashMap<Prefix, Timestamp>,
    clashes: HashMap<Id, Timestamp>,
    /// The resource whose slots these are, and where its stored slots are read.
    source: Option<(Id, Arc<dyn RowSource>)>,
    /// A stored slot did not decode: the store's rows are damaged.
    unreadable: Cell<bool>,
}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots").field("held", &self.held.len()).field("source", &self.source.is_some()).finish()
    }
}

/// Stored with the allocation: the starts. The slots are rows of their own.
impl Serialize for Slots {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.starts, &self.clashes).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Slots {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Slots, D::Error> {
        let (starts, clashes) = <(HashMap<Prefix, Timestamp>, HashMap<Id, Timestamp>)>::deserialize(d)?;
        Ok(Slots { starts, clashes, ..Slots::default() })
    }
}

/// Equal when they hold the same slots, wherever they are kept.
impl PartialEq for Slots {
    fn eq(&self, other: &Slots) -> bool {
        self.range(None, None) == other.range(None, None)
    }
}

impl Eq for Slots {}

impl Slots {
    /// The end of the slot `slot`, if it is active.
    fn end_of(&self, slot: &Slot) -> Option<Timestamp> {
        if let Some(held) = self.held.get(slot) {
            return *held;
        }
        let (resource, source) = self.source.as_ref()?;
        let value = source.row(SLOTS, &slot_key(resource, slot)).unwrap_or_else(|_| {
            self.unreadable.set(true);
            None
        })?;
        match <[u8; 8]>::try_from(value.as_slice()) {
            Ok(end) => Some(Timestamp(i64::from_be_bytes(end))),
            Err(_) => {
                self.unreadable.set(true);
                None
            }
        }
    }

    /// The slot of `request`, if it has one.
    fn frame_of(&self, request: &Id) -> Option<TimeFrame> {
        let found = |start: Timestamp| self.end_of(&(start, *request)).and_then(|end| TimeFrame::new(start, end));
        if let Some(frame) = self.starts.get(&prefix(request)).and_then(|start| found(*start)) {
            return Some(frame);
        }
        found(*self.clashes.get(request)?)
    }

    /// Gives `request` (which has none) the slot `frame`.
    fn insert(&mut self, request: Id, frame: TimeFrame) {
        let slot = (frame.start(), request);
        self.held.insert(slot, Some(frame.end()));
        self.dirty.insert(slot);
        match self.starts.entry(prefix(&request)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(frame.start());
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.clashes.insert(request, frame.start());
            }
        }
    }

    /// Whether `request` has a slot, from memory: its [`Prefix`] decides.
    fn holds(&self, request: &Id) -> bool {
        self.starts.contains_key(&prefix(request)) || self.clashes.contains_key(request)
    }

    /// Takes `request`'s slot away; answers it.
    fn remove(&mut self, request: &Id) -> Option<TimeFrame> {
        let frame = self.frame_of(request)?;
        let slot = (frame.start(), *request);
        match self.source {
            Some(_) => self.held.insert(slot, None),
            None => self.held.remove(&slot),
        };
        self.dirty.insert(slot);
        if self.clashes.remove(request).is_none() {
            self.starts.remove(&prefix(request));
        }
        Some(frame)
    }

    /// The active slots from `from` (included) to `to` (excluded), by start.
    fn range(&self, from: Option<Slot>, to: Option<Slot>) -> Vec<(Slot, Timestamp)> {
        let lo = from.unwrap_or((Timestamp(i64::MIN), NO_ID));
        let hi = to.unwrap_or((Timestamp(i64::MAX), MAX_ID));
        if lo >= hi && to.is_some() {
            return Vec::new();
        }
        let within = |slot: &Slot| *slot >= lo && (to.is_none() || *slot < hi);
        let held = self.held.range(lo..=hi).filter(|(slot, _)| within(slot));
        let Some((resource, source)) = &self.source else {
            return held.filter_map(|(slot, end)| Some((*slot, (*end)?))).collect();
        };
        // Slots held override the stored ones.
        let stored =
            source.rows(SLOTS, &slot_key(resource, &lo), &slot_key(resource, &hi), usize::MAX).unwrap_or_else(|_| {
                self.unreadable.set(true);
                Vec::new()
            });
        let mut out: BTreeMap<Slot, Timestamp> = BTreeMap::new();
        for (key, value) in stored {
            match decode_slot(&key, &value) {
                Some((r, slot, end)) if r == *resource => {
                    if within(&slot) && !self.held.contains_key(&slot) {
                        out.insert(slot, end);
                    }
                }
                _ => self.unreadable.set(true),
            }
        }
        out.extend(held.filter_map(|(slot, end)| Some((*slot, (*end)?))));
        out.into_iter().collect()
    }

    /// Every slot taken away: for a fold from the start, which keeps where the old slots
    /// were stored so that their rows are deleted.
    fn emptied(&self) -> Slots {
        let mut out = Slots { source: self.source.clone(), writing: self.writing.clone(), ..Slots::default() };
        // Every slot it may have stored: those active, and those changed or being written.
        out.dirty =
            self.range(None, None).into_iter().map(|(slot, _)| slot).chain(self.dirty.iter().copied()).collect();
        if out.source.is_some() {
            for slot in out.dirty.iter().chain(&out.writing) {
                out.held.insert(*slot, None);
            }
        }
        out
    }
}

impl Allocation {
    /// Reads the slots it does not hold from `source`, as `resource`'s, from now on.
    pub(crate) fn set_source(&mut self, resource: Id, source: Arc<dyn RowSource>) {
        self.active.source = Some((resource, source));
    }

    /// Whether a stored slot did not decode.
    pub(crate) fn unreadable(&self) -> bool {
        self.active.unreadable.get()
    }

    /// Slots held in memory.
    pub(crate) fn held(&self) -> usize {
        self.active.held.len()
    }

    /// The slots changed since last written, as rows of [`SLOTS`] under `resource`; handed
    /// out again until [`Allocation::written`].
    pub(crate) fn take_dirty(&mut self, resource: &Id, rows: &mut Vec<crate::Row>) {
        let slots = &mut self.active;
        crate::table::hand_out(&mut slots.dirty, &mut slots.writing);
        for slot in &slots.writing {
            let end = slots.held.get(slot).copied().flatten();
            rows.push((SLOTS, slot_key(resource, slot), end.map(|e| e.0.to_be_bytes().to_vec())));
        }
    }

    /// The rows last taken are stored: with a source, forget them unless changed since.
    pub(crate) fn written(&mut self) {
        let slots = &mut self.active;
        slots.writing.clear();
        if slots.source.is_some() {
            let dirty = &slots.dirty;
            slots.held.retain(|slot, _| dirty.contains(slot));
        }
    }

    /// A stored slot of this allocation, when loading a store without a source.
    pub(crate) fn load_slot(&mut self, key: &[u8], value: &[u8]) -> Result<(), String> {
        let (_, slot, end) = decode_slot(key, value).ok_or_else(|| format!("a slot of {} bytes", key.len()))?;
        self.active.held.insert(slot, Some(end));
        Ok(())
    }

    /// The resource a stored slot's key names.
    pub(crate) fn slot_resource(key: &[u8]) -> Option<Id> {
        crate::index::decode::<Id>(key).map(|(resource, ..)| resource)
    }

    /// A fold from the start: `availability` and `capacity`, no slots, and the slots it had
    /// taken away where they are stored.
    pub(crate) fn restarted(&self, availability: Availability, capacity: Capacity) -> Allocation {
        Allocation { active: self.active.emptied(), ..Allocation::new(availability, capacity) }
    }
}

impl Allocation {
    pub fn new(availability: Availability, capacity: Capacity) -> Allocation {
        Allocation {
            availability,
            capacity,
            retired: false,
            active: Slots::default(),
            load: BTreeMap::new(),
            longest: 0,
        }
    }

    pub fn availability(&self) -> &Availability {
        &self.availability
    }

    pub fn capacity(&self) -> Capacity {
        self.capacity
    }

    pub fn is_active(&self, request: &Id) -> bool {
        self.active.frame_of(request).is_some()
    }

    /// [`Allocation::is_active`] without reading a row: whether an active slot's request
    /// shares `request`'s first 16 bytes ([`Prefix`]), which only the same request does
    /// unless its author spent some 2^64 hashes on a twin of their own request, to show
    /// their own event booked. For what is shown (a programme's bookings); the rules ask
    /// [`Allocation::is_active`].
    pub fn holds(&self, request: &Id) -> bool {
        self.active.holds(request)
    }

    /// Active confirms overlapping `frame`, by start.
    pub fn active_in(&self, frame: &TimeFrame) -> Vec<(TimeFrame, Id)> {
        let from = Timestamp(frame.start().0.saturating_sub(self.longest).max(0));
        self.active
            .range(Some((from, NO_ID)), Some((frame.end(), NO_ID)))
            .into_iter()
            .filter_map(|((s, q), e)| Some((TimeFrame::new(s, e)?, q)))
            .filter(|(f, _)| f.overlaps(frame))
            .collect()
    }

    /// All active confirms, by start.
    pub fn active(&self) -> impl Iterator<Item = (TimeFrame, Id)> + '_ {
        self.active.range(None, None).into_iter().filter_map(|((s, q), e)| Some((TimeFrame::new(s, e)?, q)))
    }

    /// How many active confirms overlap each piece of `frame`: consecutive pieces with
    /// different counts, covering `frame`.
    pub fn load_in(&self, frame: &TimeFrame) -> Vec<(TimeFrame, u32)> {
        if !self.keeps_load() {
            // No step function kept: count from the overlapping slots.
            let mut steps = BTreeMap::new();
            for (f, _) in self.active_in(frame) {
                *steps.entry(f.start().max(frame.start())).or_insert(0i64) += 1;
                *steps.entry(f.end().min(frame.end())).or_insert(0i64) -= 1;
            }
            let mut load = BTreeMap::new();
            let (mut n, mut last) = (0i64, 0);
            for (t, d) in steps {
                n += d;
                if n as u32 != last {
                    load.insert(t, n as u32);
                    last = n as u32;
                }
            }
            return pieces(&load, frame);
        }
        pieces(&self.load, frame)
    }

    /// The parts of `frame` that are available and where another confirm fits.
    pub fn free_in(&self, frame: &TimeFrame) -> Vec<TimeFrame> {
        if self.retired {
            return Vec::new();
        }
        let windows: Vec<TimeFrame> = match &self.availability {
            Availability::Always => vec![*frame],
            Availability::Windows(ws) => ws
                .iter()
                .filter(|w| w.overlaps(frame))
                .filter_map(|w| TimeFrame::new(w.start().max(frame.start()), w.end().min(frame.end())))
                .collect(),
        };
        let Some(limit) = self.capacity.limit() else { return windows };
        let mut free: Vec<TimeFrame> = Vec::new();
        for w in windows {
            for (piece, n) in self.load_in(&w) {
                if n >= limit {
                    continue;
                }
                match free.last_mut() {
                    Some(last) if last.end() == piece.start() => {
                        *last = TimeFrame::new(last.start(), piece.end()).expect("joined");
                    }
                    _ => free.push(piece),
                }
            }
        }
        free
    }

    /// Whether `frame` lies within the availability of a resource not retired.
    pub fn is_available(&self, frame: &TimeFrame) -> bool {
        !self.retired && self.availability.contains(frame)
    }

    /// How many more confirms of `frame` would fit (the fewest over the frame); `None`
    /// when the capacity is unlimited.
    pub fn left_in(&self, frame: &TimeFrame) -> Option<u32> {
        let limit = self.capacity.limit()?;
        Some(self.load_in(frame).iter().map(|(_, n)| limit.saturating_sub(*n)).min().unwrap_or(limit))
    }

    /// Whether a confirm of `frame` would hold now; the rule that forbids it otherwise.
    pub fn can_confirm(&self, frame: &TimeFrame) -> Result<(), Rule> {
        self.can_confirm_except(frame, None)
    }

    /// As [`Allocation::can_confirm`] once the slot of `except` is released: a moved
    /// request's new frame may overlap the slot it replaces (`State::confirmable`).
    pub fn can_confirm_except(&self, frame: &TimeFrame, except: Option<Id>) -> Result<(), Rule> {
        self.fits(frame, except, None)
    }

    /// Whether confirms of both `frame` and `other` would hold, `frame` after `other`:
    /// false when confirming `other` turns `frame` away.
    pub fn fit_together(&self, frame: &TimeFrame, other: &TimeFrame) -> bool {
        self.fits(frame, None, Some(other)).is_ok()
    }

    /// The rule a confirm of `frame` breaks, with the slot of `except` released and a
    /// slot `extra` taken first.
    fn fits(&self, frame: &TimeFrame, except: Option<Id>, extra: Option<&TimeFrame>) -> Result<(), Rule> {
        if self.retired {
            return Err(Rule::ResourceRetired);
        }
        if !self.availability.contains(frame) {
            return Err(Rule::OutsideAvailability);
        }
        match self.capacity {
            Capacity::Unlimited => Ok(()),
            Capacity::Limited(n) if n.get() == 1 => {
                if let Some(extra) = extra.filter(|x| x.overlaps(frame)) {
                    return Err(Rule::AtCapacity { capacity: 1, frame: *extra, request: NO_ID });
                }
                match self.active_in(frame).into_iter().find(|(_, q)| Some(*q) != except) {
                    Some((frame, request)) => Err(Rule::Overlaps { request, frame }),
                    None => Ok(()),
                }
            }
            Capacity::Limited(limit) => {
                let released = except.and_then(|q| self.active.frame_of(&q));
                let mut cuts: Vec<Timestamp> = Vec::new();
                for f in released.iter().chain(extra) {
                    cuts.extend([f.start(), f.end()].into_iter().filter(|t| frame.start() < *t && *t < frame.end()));
                }
                for (piece, n) in self.load_in(frame) {
                    for piece in split(piece, &cuts) {
                        let covers = |f: Option<&TimeFrame>| f.is_some_and(|f| f.contains(&piece)) as u32;
                        let n = n - covers(released.as_ref()) + covers(extra);
                        if n >= limit.get() {
                            // One of the slots that fill it, so that people can tell which.
                            let request = self.active_in(&piece).first().map_or(NO_ID, |(_, q)| *q);
                            return Err(Rule::AtCapacity { capacity: limit.get(), frame: piece, request });
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// The slot a confirm takes: the request's frame, which must be the one the confirm
    /// names if it names one; for a request this peer does not know (yet), the frame the
    /// owner named, so that the owner's log alone says what is busy.
    fn confirm_frame(request: &Id, named: Option<TimeFrame>, check: Option<&RequestCheck>) -> Result<TimeFrame, Rule> {
        match (check, named) {
            (Some(RequestCheck::Valid(frame)), Some(named)) if *frame != named => {
                Err(Rule::ConfirmFrameMismatch { request: *request })
            }
            (Some(RequestCheck::Valid(frame)), _) => Ok(*frame),
            (Some(RequestCheck::Unknown(..)), Some(named)) => Ok(named),
            (Some(RequestCheck::Unknown(_, rule) | RequestCheck::Invalid(rule)), _) => Err(rule.clone()),
            (None, _) => Err(Rule::RequestUnknown { request: *request }),
        }
    }

    fn activate(&mut self, request: Id, frame: TimeFrame) {
        self.active.insert(request, frame);
        self.longest = self.longest.max(frame.end().0 - frame.start().0);
        if self.keeps_load() {
            add_load(&mut self.load, &frame, 1);
        }
    }

    fn deactivate(&mut self, request: &Id) {
        if let Some(frame) = self.active.remove(request) {
            if self.keeps_load() {
                add_load(&mut self.load, &frame, -1);
            }
        }
    }

    fn keeps_load(&self) -> bool {
        matches!(self.capacity, Capacity::Limited(n) if n.get() >= 2)
    }

    fn set_capacity(&mut self, capacity: Capacity) {
        if capacity == self.capacity {
            return;
        }
        self.capacity = capacity;
        self.load.clear();
        if self.keeps_load() {
            let frames: Vec<TimeFrame> = self.active().map(|(f, _)| f).collect();
            for f in frames {
                add_load(&mut self.load, &f, 1);
            }
        }
    }

    /// The rule the next operation of the owner's log would break, if any. `check` is the
    /// request's check for confirm, deny and release. The fold ([`Allocation::apply`]) and
    /// the check before signing (`State::check_op`) both ask this.
    pub fn rule(&self, op: &AllocOp, check: Option<&RequestCheck>) -> Result<(), Rule> {
        match op {
            AllocOp::Availability { .. } | AllocOp::Retire { .. } => Ok(()),
            AllocOp::Confirm { request, frame, .. } => {
                let frame = Self::confirm_frame(request, *frame, check)?;
                if self.is_active(request) {
                    return Err(Rule::AlreadyConfirmed { request: *request });
                }
                self.can_confirm(&frame)
            }
            AllocOp::Deny { .. } => match check {
                Some(RequestCheck::Invalid(rule)) => Err(rule.clone()),
                _ => Ok(()),
            },
            AllocOp::Release { request, .. } => {
                if self.is_active(request) {
                    Ok(())
                } else {
                    Err(Rule::NotConfirmed { request: *request })
                }
            }
        }
    }

    /// Applies the next operation of the owner's log. `check` is the request's check for
    /// confirm, deny and release. Returns the operation's effect and, if it changes the
    /// owner's latest decision about the op's request, that decision: the state keeps the
    /// decisions (a table that grows with every entry), the allocation only what checks need.
    pub fn apply(&mut self, op: &AllocOp, check: Option<&RequestCheck>) -> (OpStatus, Option<Decision>) {
        if let Err(rule) = self.rule(op, check) {
            // A confirm of a valid request that broke the allocation's rules is the owner's
            // latest decision about it, shown as the reason it is invalid.
            let decision = match (op, check) {
                (AllocOp::Confirm { op, request, .. }, Some(RequestCheck::Valid(_))) if !self.is_active(request) => {
                    Some(Decision::Refused { op: *op, rule: Box::new(rule.clone()) })
                }
                _ => None,
            };
            return (OpStatus::NoEffect(rule), decision);
        }
        let decision = match op {
            AllocOp::Availability { availability, capacity, .. } => {
                self.availability = availability.clone();
                self.set_capacity(*capacity);
                None
            }
            AllocOp::Retire { .. } => {
                self.retired = true;
                None
            }
            AllocOp::Confirm { op, request, frame } => {
                let frame = Self::confirm_frame(request, *frame, check).expect("the rule holds");
                self.activate(*request, frame);
                Some(Decision::Confirmed { op: *op })
            }
            AllocOp::Deny { op, request, reason } => {
                self.deactivate(request);
                Some(Decision::Denied { op: *op, reason: reason.clone() })
            }
            AllocOp::Release { op, request } => {
                self.deactivate(request);
                Some(Decision::Released { op: *op })
            }
        };
        (OpStatus::Applied, decision)
    }
}

/// The pieces of `frame` with the count of a step function `load` (count from each key to
/// the next, 0 before the first).
fn pieces(load: &BTreeMap<Timestamp, u32>, frame: &TimeFrame) -> Vec<(TimeFrame, u32)> {
    use std::ops::Bound::Excluded;
    let mut out = Vec::new();
    let mut cursor = frame.start();
    let mut n = load.range(..=cursor).next_back().map_or(0, |(_, n)| *n);
    for (&t, &m) in load.range((Excluded(frame.start()), Excluded(frame.end()))) {
        out.push((TimeFrame::new(cursor, t).expect("keys are ordered"), n));
        cursor = t;
        n = m;
    }
    out.push((TimeFrame::new(cursor, frame.end()).expect("keys lie within the frame"), n));
    out
}

/// `piece` cut at every `cuts` point inside it.
fn split(piece: TimeFrame, cuts: &[Timestamp]) -> Vec<TimeFrame> {
    let mut points: Vec<Timestamp> = cuts.iter().copied().filter(|t| piece.start() < *t && *t < piece.end()).collect();
    points.sort();
    points.dedup();
    let mut out = Vec::with_capacity(points.len() + 1);
    let mut cursor = piece.start();
    for t in points {
        out.push(TimeFrame::new(cursor, t).expect("ordered"));
        cursor = t;
    }
    out.push(TimeFrame::new(cursor, piece.end()).expect("ordered"));
    out
}

/// Adds `delta` to the step function `load` over `frame`, keeping no key whose count equals
/// the one before it.
fn add_load(load: &mut BTreeMap<Timestamp, u32>, frame: &TimeFrame, delta: i64) {
    let at = |load: &BTreeMap<Timestamp, u32>, t: Timestamp| load.range(..=t).next_back().map_or(0, |(_, n)| *n);
    for t in [frame.start(), frame.end()] {
        let n = at(load, t);
        load.entry(t).or_insert(n);
    }
    for (_, n) in load.range_mut(frame.start()..frame.end()) {
        *n = u32::try_from(i64::from(*n) + delta).expect("a slot is removed only after it was added");
    }
    for t in [frame.end(), frame.start()] {
        let before = load.range(..t).next_back().map_or(0, |(_, n)| *n);
        if load.get(&t) == Some(&before) {
            load.remove(&t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(a: i64, b: i64) -> TimeFrame {
        TimeFrame::new(Timestamp(a), Timestamp(b)).unwrap()
    }

    fn id(n: u8) -> Id {
        Id(bamboo::Hash([n; 64]))
    }

    fn confirm(a: &mut Allocation, n: u8, frame: TimeFrame) -> OpStatus {
        let op = AllocOp::Confirm { op: id(100 + n), request: id(n), frame: None };
        a.apply(&op, Some(&RequestCheck::Valid(frame))).0
    }

    /// `a` as a store writes it and loads it again: its row and its slots' rows.
    fn read_back(a: &Allocation) -> Allocation {
        let row = postcard::to_allocvec(a).unwrap();
        let mut read: Allocation = postcard::from_bytes(&row).unwrap();
        let mut rows = Vec::new();
        a.clone().take_dirty(&id(0), &mut rows);
        for (_, k, v) in rows {
            if let Some(v) = v {
                read.load_slot(&k, &v).unwrap();
            }
        }
        read
    }

    fn show(a: &Allocation, frame: TimeFrame) -> String {
        let load: Vec<String> =
            a.load_in(&frame).iter().map(|(p, n)| format!("{}-{}:{n}", p.start().0, p.end().0)).collect();
        let free: Vec<String> = a.free_in(&frame).iter().map(|p| format!("{}-{}", p.start().0, p.end().0)).collect();
        format!("load {} | free {} | left {:?}", load.join(" "), free.join(" "), a.left_in(&frame))
    }

    #[test]
    fn requests_whose_ids_share_their_first_bytes_keep_their_own_slots() {
        // Two requests whose ids share the 16 bytes slots are found by (some 2^64 hashes to
        // make; here, made up).
        let twin = |n: u8| {
            let mut bytes = [7; 64];
            bytes[63] = n;
            Id(bamboo::Hash(bytes))
        };
        let (a1, a2, a3) = (twin(1), twin(2), twin(3));
        let mut a = Allocation::new(Availability::Always, Capacity::Unlimited);
        let check = |frame| Some(RequestCheck::Valid(frame));
        let confirm = |request, op| AllocOp::Confirm { op: id(op), request, frame: None };
        let release = |request, op| AllocOp::Release { op: id(op), request };
        assert_eq!(a.apply(&confirm(a1, 101), check(f(10, 20)).as_ref()).0, OpStatus::Applied);
        assert_eq!(a.apply(&confirm(a2, 102), check(f(30, 40)).as_ref()).0, OpStatus::Applied);
        assert_eq!(a.apply(&confirm(a3, 103), check(f(10, 15)).as_ref()).0, OpStatus::Applied);
        let frames = |a: &Allocation| [a1, a2, a3].map(|q| a.active.frame_of(&q).map(|f| (f.start().0, f.end().0)));
        assert_eq!(frames(&a), [Some((10, 20)), Some((30, 40)), Some((10, 15))]);
        // The first, whose start the prefix finds, goes; the others are still found.
        assert_eq!(a.apply(&release(a1, 104), check(f(10, 20)).as_ref()).0, OpStatus::Applied);
        assert_eq!(frames(&a), [None, Some((30, 40)), Some((10, 15))]);
        assert!(!a.is_active(&a1) && a.is_active(&a2) && a.is_active(&a3));
        assert!(!a.holds(&a1) && a.holds(&a2) && a.holds(&a3));
        // Back again (now found among the clashes or by the prefix), and through a row.
        assert_eq!(a.apply(&confirm(a1, 105), check(f(50, 60)).as_ref()).0, OpStatus::Applied);
        // What is shown trusts the prefix: a twin never confirmed seems to hold a slot too.
        assert!(a.holds(&a1) && a.holds(&twin(4)) && !a.is_active(&twin(4)));
        let read = read_back(&a);
        assert_eq!(read, a);
        for a in [&a, &read] {
            assert_eq!(frames(a), [Some((50, 60)), Some((30, 40)), Some((10, 15))]);
        }
        // Read back, the slots are found in another way (by start: a3 by the prefix).
        for mut a in [a.clone(), read] {
            assert_eq!(a.apply(&release(a3, 106), check(f(10, 15)).as_ref()).0, OpStatus::Applied);
            let again = a.apply(&release(a3, 107), check(f(10, 15)).as_ref()).0;
            assert_eq!(again, OpStatus::NoEffect(Rule::NotConfirmed { request: a3 }));
            assert_eq!(frames(&a), [Some((50, 60)), Some((30, 40)), None]);
        }
    }

    /// The same operations give the same slots, checks and free times whether the allocation
    /// holds its slots whole or reads back those written, with writes at several moments, a
    /// write that never commits, and a fold from the start.
    #[test]
    fn an_allocation_that_reads_its_slots_back_answers_as_one_held_whole() {
        use crate::table::MemoryRows;
        let rows = std::sync::Arc::new(MemoryRows::default());
        let resource = id(9);
        let write = |a: &mut Allocation| {
            let mut out = Vec::new();
            a.take_dirty(&resource, &mut out);
            rows.write(out);
            a.written();
        };
        let check = |lazy: &Allocation, whole: &Allocation, when: &str| {
            assert_eq!(lazy.active().collect::<Vec<_>>(), whole.active().collect::<Vec<_>>(), "{when}");
            for n in 0..12 {
                let frame = f(n * 10 + 2, n * 10 + 13);
                assert_eq!(lazy.active_in(&frame), whole.active_in(&frame), "{when} {n}");
                assert_eq!(lazy.can_confirm(&frame), whole.can_confirm(&frame), "{when} {n}");
                assert_eq!(lazy.free_in(&frame), whole.free_in(&frame), "{when} {n}");
                assert_eq!(lazy.is_active(&id(n as u8)), whole.is_active(&id(n as u8)), "{when} {n}");
            }
        };
        let mut whole = Allocation::new(Availability::Always, Capacity::ONE);
        let mut lazy = whole.clone();
        lazy.set_source(resource, rows.clone());
        for n in 0..10u8 {
            for a in [&mut lazy, &mut whole] {
                confirm(a, n, f(n as i64 * 10, n as i64 * 10 + 4 + (n % 3) as i64));
            }
            match n % 4 {
                0 => write(&mut lazy),
                // Taken, never confirmed: handed out again at the next write.
                1 => lazy.take_dirty(&resource, &mut Vec::new()),
                _ => {}
            }
        }
        check(&lazy, &whole, "confirmed");
        write(&mut lazy);
        assert_eq!(lazy.held(), 0, "written slots are forgotten");
        check(&lazy, &whole, "written");
        for (n, op) in [(3u8, 200u8), (7, 201)] {
            for a in [&mut lazy, &mut whole] {
                a.apply(&AllocOp::Release { op: id(op), request: id(n) }, None);
            }
        }
        check(&lazy, &whole, "released, not written");
        // The releases are taken for a write that never commits: the store still holds them.
        lazy.take_dirty(&resource, &mut Vec::new());
        check(&lazy, &whole, "released, write not committed");
        // A fold from the start, as `State::refold` does: the old slots' rows are deleted.
        let mut lazy = lazy.restarted(Availability::Always, Capacity::ONE);
        let mut whole = whole.restarted(Availability::Always, Capacity::ONE);
        check(&lazy, &whole, "restarted");
        for a in [&mut lazy, &mut whole] {
            confirm(a, 5, f(50, 55));
        }
        write(&mut lazy);
        check(&lazy, &whole, "restarted and written");
        assert_eq!(rows.0.lock().unwrap().len(), 1, "only the slot confirmed again is stored");
        assert!(!lazy.unreadable());
        // A damaged row marks the allocation unreadable (the store then folds the plan again).
        let key = slot_key(&resource, &(Timestamp(50), id(5)));
        rows.0.lock().unwrap().insert((SLOTS, key), vec![1, 2, 3]);
        assert!(!lazy.is_active(&id(5)));
        assert!(lazy.unreadable());
    }

    #[test]
    fn a_capacity_of_three_takes_three_overlapping_confirms_and_no_fourth() {
        let mut a = Allocation::new(Availability::Always, Capacity::limited(3).unwrap());
        assert_eq!(confirm(&mut a, 1, f(10, 20)), OpStatus::Applied);
        assert_eq!(confirm(&mut a, 2, f(15, 25)), OpStatus::Applied);
        assert_eq!(confirm(&mut a, 3, f(0, 16)), OpStatus::Applied);
        assert_eq!(
            show(&a, f(0, 30)),
            "load 0-10:1 10-15:2 15-16:3 16-20:2 20-25:1 25-30:0 | free 0-15 16-30 | left Some(0)"
        );
        // Full only within 15-16: a fourth overlapping it is refused, one beside it fits.
        assert_eq!(
            confirm(&mut a, 4, f(12, 18)),
            OpStatus::NoEffect(Rule::AtCapacity { capacity: 3, frame: f(15, 16), request: id(3) })
        );
        assert_eq!(confirm(&mut a, 5, f(16, 30)), OpStatus::Applied);
        // Releasing a slot frees its place and leaves no stale steps behind.
        a.apply(&AllocOp::Release { op: id(200), request: id(3) }, None);
        a.apply(&AllocOp::Release { op: id(201), request: id(5) }, None);
        assert_eq!(show(&a, f(0, 30)), "load 0-10:0 10-15:1 15-20:2 20-25:1 25-30:0 | free 0-30 | left Some(1)");
        assert_eq!(a.load.len(), 4, "steps at 10, 15, 20, 25: {:?}", a.load);
    }

    #[test]
    fn a_moved_request_counts_its_old_slot_as_released_and_a_competing_one_as_taken() {
        let mut a = Allocation::new(Availability::Always, Capacity::limited(2).unwrap());
        confirm(&mut a, 1, f(0, 10));
        confirm(&mut a, 2, f(5, 15));
        assert!(matches!(a.can_confirm(&f(8, 12)), Err(Rule::AtCapacity { capacity: 2, .. })));
        assert_eq!(a.can_confirm_except(&f(8, 12), Some(id(1))), Ok(()));
        // 12-20 fits alone, but not together with another 14-16.
        assert!(a.can_confirm(&f(12, 20)).is_ok());
        assert!(!a.fit_together(&f(12, 20), &f(14, 16)));
        assert!(a.fit_together(&f(16, 20), &f(12, 14)));
    }

    #[test]
    fn changing_the_capacity_keeps_confirms_and_judges_new_ones_by_the_new_limit() {
        let mut a = Allocation::new(Availability::Always, Capacity::limited(2).unwrap());
        confirm(&mut a, 1, f(0, 10));
        confirm(&mut a, 2, f(0, 10));
        let to_one = AllocOp::Availability { op: id(50), availability: Availability::Always, capacity: Capacity::ONE };
        a.apply(&to_one, None);
        assert_eq!(a.active().count(), 2);
        assert!(matches!(a.can_confirm(&f(5, 6)), Err(Rule::Overlaps { .. })));
        let unlimited =
            AllocOp::Availability { op: id(51), availability: Availability::Always, capacity: Capacity::Unlimited };
        a.apply(&unlimited, None);
        assert_eq!(confirm(&mut a, 3, f(0, 10)), OpStatus::Applied);
        assert_eq!(show(&a, f(0, 20)), "load 0-10:3 10-20:0 | free 0-20 | left None");
        let to_three = AllocOp::Availability {
            op: id(52),
            availability: Availability::Always,
            capacity: Capacity::limited(3).unwrap(),
        };
        a.apply(&to_three, None);
        assert_eq!(show(&a, f(0, 20)), "load 0-10:3 10-20:0 | free 10-20 | left Some(0)");
    }
}
