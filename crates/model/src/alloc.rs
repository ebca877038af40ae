//! A resource's allocation: the fold of its owner's decisions, in the owner's log order.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::rules::Rule;
use crate::state::OpStatus;
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

/// The active slots by start, and where each request's slot starts, found by the first eight
/// bytes of its id: 16 bytes a slot where a map by the whole id took 80 and more (a festival
/// of a million entries holds some 200,000 slots in memory). Ids that share those bytes (anyone
/// can make two such requests) are kept whole in `clashes`. Stored as the slots alone; the
/// starts follow from them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(from = "SlotRows", into = "SlotRows")]
struct Slots {
    slots: BTreeMap<(Timestamp, Id), Timestamp>,
    starts: HashMap<u64, Timestamp>,
    clashes: HashMap<Id, Timestamp>,
}

#[derive(Serialize, Deserialize)]
struct SlotRows(BTreeMap<(Timestamp, Id), Timestamp>);

impl From<SlotRows> for Slots {
    fn from(rows: SlotRows) -> Slots {
        let mut slots = Slots::default();
        for ((start, request), end) in rows.0 {
            if let Some(frame) = TimeFrame::new(start, end) {
                slots.insert(request, frame);
            }
        }
        slots
    }
}

impl From<Slots> for SlotRows {
    fn from(slots: Slots) -> SlotRows {
        SlotRows(slots.slots)
    }
}

/// The starts are derived from the slots, so equal slots are equal.
impl PartialEq for Slots {
    fn eq(&self, other: &Slots) -> bool {
        self.slots == other.slots
    }
}

impl Eq for Slots {}

impl Slots {
    /// The slot of `request`, if it has one.
    fn frame_of(&self, request: &Id) -> Option<TimeFrame> {
        let start = match self.starts.get(&request.prefix()) {
            Some(start) if self.slots.contains_key(&(*start, *request)) => *start,
            _ => *self.clashes.get(request)?,
        };
        let end = self.slots.get(&(start, *request))?;
        TimeFrame::new(start, *end)
    }

    /// Gives `request` (which has none) the slot `frame`.
    fn insert(&mut self, request: Id, frame: TimeFrame) {
        self.slots.insert((frame.start(), request), frame.end());
        match self.starts.entry(request.prefix()) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(frame.start());
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.clashes.insert(request, frame.start());
            }
        }
    }

    /// Takes `request`'s slot away; answers it.
    fn remove(&mut self, request: &Id) -> Option<TimeFrame> {
        let frame = self.frame_of(request)?;
        self.slots.remove(&(frame.start(), *request));
        if self.clashes.remove(request).is_none() {
            self.starts.remove(&request.prefix());
        }
        Some(frame)
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

    /// Active confirms overlapping `frame`, by start.
    pub fn active_in(&self, frame: &TimeFrame) -> Vec<(TimeFrame, Id)> {
        let from = Timestamp(frame.start().0.saturating_sub(self.longest).max(0));
        self.active
            .slots
            .range((from, NO_ID)..(frame.end(), NO_ID))
            .map(|((s, q), e)| (TimeFrame::new(*s, *e).expect("slots are valid frames"), *q))
            .filter(|(f, _)| f.overlaps(frame))
            .collect()
    }

    /// All active confirms, by start.
    pub fn active(&self) -> impl Iterator<Item = (TimeFrame, Id)> + '_ {
        self.active.slots.iter().map(|((s, q), e)| (TimeFrame::new(*s, *e).expect("valid"), *q))
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

    fn show(a: &Allocation, frame: TimeFrame) -> String {
        let load: Vec<String> =
            a.load_in(&frame).iter().map(|(p, n)| format!("{}-{}:{n}", p.start().0, p.end().0)).collect();
        let free: Vec<String> = a.free_in(&frame).iter().map(|p| format!("{}-{}", p.start().0, p.end().0)).collect();
        format!("load {} | free {} | left {:?}", load.join(" "), free.join(" "), a.left_in(&frame))
    }

    #[test]
    fn requests_whose_ids_share_their_first_bytes_keep_their_own_slots() {
        // Anyone can make two requests whose ids share the eight bytes slots are found by.
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
        // Back again (now found among the clashes or by the prefix), and through a row.
        assert_eq!(a.apply(&confirm(a1, 105), check(f(50, 60)).as_ref()).0, OpStatus::Applied);
        let row = postcard::to_allocvec(&a).unwrap();
        let read: Allocation = postcard::from_bytes(&row).unwrap();
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
