//! A resource's allocation: the fold of its owner's decisions, in the owner's log order.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::rules::Rule;
use crate::state::OpStatus;
use crate::time::{Availability, TimeFrame, Timestamp};

/// An operation of the owner's log that decides the resource's allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllocOp {
    Availability {
        op: Id,
        availability: Availability,
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
    /// The owner confirmed, but the confirm broke a rule.
    Refused {
        op: Id,
        rule: Rule,
    },
}

/// A confirmed, active slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub end: Timestamp,
    pub request: Id,
}

/// Active confirms are kept by start time; they never overlap, so a conflict check
/// looks only at the last slot starting before the frame ends: O(log n).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    availability: Availability,
    retired: bool,
    active: BTreeMap<Timestamp, Slot>,
    slot_of: HashMap<Id, Timestamp>,
    decisions: HashMap<Id, Decision>,
}

impl Allocation {
    pub fn new(availability: Availability) -> Allocation {
        Allocation {
            availability,
            retired: false,
            active: BTreeMap::new(),
            slot_of: HashMap::new(),
            decisions: HashMap::new(),
        }
    }

    pub fn availability(&self) -> &Availability {
        &self.availability
    }

    pub fn decision(&self, request: &Id) -> Option<&Decision> {
        self.decisions.get(request)
    }

    pub fn is_active(&self, request: &Id) -> bool {
        self.slot_of.contains_key(request)
    }

    /// The active confirm overlapping `frame`, if any.
    pub fn conflict(&self, frame: &TimeFrame) -> Option<(TimeFrame, Id)> {
        let (start, slot) = self.active.range(..frame.end()).next_back()?;
        let slot_frame = TimeFrame::new(*start, slot.end).expect("slots are valid frames");
        slot_frame.overlaps(frame).then_some((slot_frame, slot.request))
    }

    /// As [`Allocation::conflict`], not counting the slot of `except`.
    fn conflict_except(&self, frame: &TimeFrame, except: Option<Id>) -> Option<(TimeFrame, Id)> {
        match except {
            None => self.conflict(frame),
            Some(except) => self.active_in(frame).into_iter().find(|(_, q)| *q != except),
        }
    }

    /// Active confirms overlapping `frame`, by start.
    pub fn active_in(&self, frame: &TimeFrame) -> Vec<(TimeFrame, Id)> {
        let first = self.active.range(..=frame.start()).next_back().map(|(s, _)| *s).unwrap_or(frame.start());
        self.active
            .range(first..frame.end())
            .map(|(s, slot)| (TimeFrame::new(*s, slot.end).expect("valid"), slot.request))
            .filter(|(f, _)| f.overlaps(frame))
            .collect()
    }

    /// All active confirms, by start.
    pub fn active(&self) -> impl Iterator<Item = (TimeFrame, Id)> + '_ {
        self.active.iter().map(|(s, slot)| (TimeFrame::new(*s, slot.end).expect("valid"), slot.request))
    }

    /// The parts of `frame` that are available and not confirmed to anyone.
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
        let mut free = Vec::new();
        for w in windows {
            let mut cursor = w.start();
            for (taken, _) in self.active_in(&w) {
                if let Some(gap) = TimeFrame::new(cursor, taken.start()) {
                    free.push(gap);
                }
                cursor = cursor.max(taken.end());
            }
            if let Some(gap) = TimeFrame::new(cursor, w.end()) {
                free.push(gap);
            }
        }
        free
    }

    /// Whether a confirm of `frame` would hold now; the rule that forbids it otherwise.
    pub fn can_confirm(&self, frame: &TimeFrame) -> Result<(), Rule> {
        self.can_confirm_except(frame, None)
    }

    /// As [`Allocation::can_confirm`] once the slot of `except` is released: a moved
    /// request's new frame may overlap the slot it replaces (`State::confirmable`).
    pub fn can_confirm_except(&self, frame: &TimeFrame, except: Option<Id>) -> Result<(), Rule> {
        if self.retired {
            return Err(Rule::ResourceRetired);
        }
        if !self.availability.contains(frame) {
            return Err(Rule::OutsideAvailability);
        }
        if let Some((frame, request)) = self.conflict_except(frame, except) {
            return Err(Rule::Overlaps { request, frame });
        }
        Ok(())
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

    fn deactivate(&mut self, request: &Id) -> bool {
        match self.slot_of.remove(request) {
            Some(start) => {
                self.active.remove(&start);
                true
            }
            None => false,
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
    /// confirm, deny and release. Returns the operation's effect.
    pub fn apply(&mut self, op: &AllocOp, check: Option<&RequestCheck>) -> OpStatus {
        if let Err(rule) = self.rule(op, check) {
            // A confirm of a valid request that broke the allocation's rules is the owner's
            // latest decision about it, shown as the reason it is invalid.
            if let (AllocOp::Confirm { op, request, .. }, Some(RequestCheck::Valid(_))) = (op, check)
                && !self.is_active(request)
            {
                self.decisions.insert(*request, Decision::Refused { op: *op, rule: rule.clone() });
            }
            return OpStatus::NoEffect(rule);
        }
        match op {
            AllocOp::Availability { availability, .. } => self.availability = availability.clone(),
            AllocOp::Retire { .. } => self.retired = true,
            AllocOp::Confirm { op, request, frame } => {
                let frame = Self::confirm_frame(request, *frame, check).expect("the rule holds");
                self.active.insert(frame.start(), Slot { end: frame.end(), request: *request });
                self.slot_of.insert(*request, frame.start());
                self.decisions.insert(*request, Decision::Confirmed { op: *op });
            }
            AllocOp::Deny { op, request, reason } => {
                self.deactivate(request);
                self.decisions.insert(*request, Decision::Denied { op: *op, reason: reason.clone() });
            }
            AllocOp::Release { op, request } => {
                self.deactivate(request);
                self.decisions.insert(*request, Decision::Released { op: *op });
            }
        }
        OpStatus::Applied
    }
}
