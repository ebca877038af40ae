//! The rules of the plan, in one place: why an operation has no effect ([`Rule`]), the
//! checks the fold applies, and [`State::check_op`], which asks the same checks of an
//! operation before it is signed, so that a node never writes an operation without effect
//! and never words a rule of its own.

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use crate::alloc::{AllocOp, Allocation};
use crate::id::{Id, Key};
use crate::op::{EventFields, Operation};
use crate::state::RequestStatus;
use crate::state::{Event, LogKey, MAX_NESTING, ObjectKind, Request, State};
use crate::time::{Availability, Capacity, TimeFrame, Timestamp};
use crate::validate::{FieldError, MAX_REQUESTS_PER_EVENT, check_fields};

/// Why an operation has no effect (or, for a reference not yet known, no effect yet).
/// One variant per rule; [`State::describe`] words them for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rule {
    #[error("malformed operation: {0}")]
    Format(String),
    #[error("{0}")]
    Field(FieldError),
    #[error(
        "operation version {version} ({kind}) is not supported by this version of pandafest; it is kept and passed on"
    )]
    Unsupported { version: u64, kind: String },
    #[error("the first entry of a log must name its festival")]
    NoFestival,
    #[error("only the first entry of a log names its festival")]
    FestivalNamedLate,
    #[error("a festival is created by the first entry of its own log")]
    FestivalCreateNotFirst,
    #[error("the first entry of this log is invalid, so the log belongs to no festival")]
    LogWithoutFestival,
    #[error("{kind} {} was not created in this log: only its creator changes it, in the log where it was created", id.short())]
    NotInLog { kind: ObjectKind, id: Id },
    #[error("only the owner of resource {} decides its requests, in the log where it was created", resource.short())]
    NotOwner { resource: Id },
    #[error("event {} is cancelled", event.short())]
    EventCancelled { event: Id },
    #[error("the requested time frame lies outside the time frame of event {}", event.short())]
    RequestOutsideEvent { event: Id },
    #[error("event {} has {} requests already, the most an event can have", event.short(), crate::validate::MAX_REQUESTS_PER_EVENT)]
    TooManyRequests { event: Id },
    #[error("request {} is withdrawn already", request.short())]
    AlreadyWithdrawn { request: Id },
    #[error("resource {} is not known (yet)", resource.short())]
    ResourceUnknown { resource: Id },
    #[error("festival {} is not known (yet)", festival.short())]
    FestivalUnknown { festival: Id },
    #[error("resource {} belongs to festival {}, which is neither this festival nor one of its parents", resource.short(), resource_festival.short())]
    NotInAncestry { resource: Id, resource_festival: Id },
    #[error("festivals nest deeper than {MAX_NESTING} levels")]
    NestingTooDeep,
    #[error("request {} is not known (yet)", request.short())]
    RequestUnknown { request: Id },
    #[error("request {} is invalid: {reason}", request.short())]
    RequestInvalid { request: Id, reason: Box<Rule> },
    #[error("request {} is for resource {}, not this one", request.short(), resource.short())]
    RequestForOtherResource { request: Id, resource: Id },
    #[error("the resource is retired")]
    ResourceRetired,
    #[error("the requested time frame is outside the resource's availability")]
    OutsideAvailability,
    #[error("overlaps confirmed request {} ({:?})", request.short(), frame)]
    Overlaps { request: Id, frame: TimeFrame },
    #[error("all {capacity} are booked {frame:?} (one by request {})", request.short())]
    AtCapacity { capacity: u32, frame: TimeFrame, request: Id },
    #[error("request {} is confirmed already", request.short())]
    AlreadyConfirmed { request: Id },
    #[error("request {} is not confirmed, so there is nothing to release", request.short())]
    NotConfirmed { request: Id },
    #[error("the resource is retired already")]
    AlreadyRetired,
    #[error("the confirm names another time frame than request {} asks for", request.short())]
    ConfirmFrameMismatch { request: Id },
    #[error("request {} can only be replaced by a request of its own event for the same resource, from the same log, while it is not withdrawn", request.short())]
    BadReplacement { request: Id },
}

impl State {
    /// A rule in words for people: ids become titles, times the festival's local time.
    pub fn describe(&self, rule: &Rule) -> String {
        let short = |id: &Id| id.short();
        let resource = |id: &Id| {
            self.resources.get(id).map_or_else(|| format!("resource {}", short(id)), |r| r.fields.name.clone())
        };
        let event =
            |id: &Id| self.events.get(id).map_or_else(|| format!("event {}", short(id)), |e| e.fields.title.clone());
        let festival = |id: &Id| {
            self.festivals.get(id).map_or_else(|| format!("festival {}", short(id)), |f| f.fields.name.clone())
        };
        match rule {
            Rule::Overlaps { request, frame } => {
                let q = self.requests.get(request);
                let title = q.and_then(|q| self.events.get(&q.event)).map(|e| e.fields.title.as_str());
                let tz = q.and_then(|q| self.festivals.get(&q.festival)).map_or("UTC", |f| f.fields.timezone.as_str());
                match (q, title) {
                    (_, Some(t)) => {
                        format!("overlaps confirmed request {} ({t}, {})", request.short(), frame.to_local(tz))
                    }
                    (Some(_), None) => {
                        format!("overlaps confirmed request {} ({})", request.short(), frame.to_local(tz))
                    }
                    // The owner's confirm named the slot; its event is in a festival not held here.
                    (None, _) => format!(
                        "overlaps a slot its owner confirmed for an event not held here (request {}, {} UTC)",
                        request.short(),
                        frame.to_local("UTC")
                    ),
                }
            }
            Rule::RequestInvalid { request, reason } => {
                format!("request {} is invalid: {}", request.short(), self.describe(reason))
            }
            Rule::NotInLog { kind, id } => {
                let name = match kind {
                    ObjectKind::Festival => festival(id),
                    ObjectKind::Resource => resource(id),
                    ObjectKind::Event => event(id),
                    ObjectKind::Request => match self.requests.get(id) {
                        Some(q) => format!("the request of {} for {}", resource(&q.resource), event(&q.event)),
                        None => format!("request {}", short(id)),
                    },
                };
                let who = match kind {
                    ObjectKind::Festival => "its creator",
                    ObjectKind::Resource => "its owner",
                    ObjectKind::Event => "its organiser",
                    ObjectKind::Request => "the event's organiser",
                };
                format!("{name} belongs to someone else: only {who} can change it")
            }
            Rule::NotOwner { resource: r } => format!("only the owner of {} decides its requests", resource(r)),
            Rule::EventCancelled { event: e } => format!("{} is cancelled", event(e)),
            Rule::RequestOutsideEvent { event: e } => match self.events.get(e) {
                Some(ev) => {
                    let tz = self.festivals.get(&ev.festival).map_or("UTC", |f| f.fields.timezone.as_str());
                    format!("the requested time lies outside {} ({})", ev.fields.title, ev.fields.frame.to_local(tz))
                }
                None => rule.to_string(),
            },
            Rule::TooManyRequests { event: e } => {
                format!("{} has {MAX_REQUESTS_PER_EVENT} requests already, the most an event can have", event(e))
            }
            Rule::NotInAncestry { resource: r, resource_festival } => format!(
                "{} belongs to {}, which is neither this festival nor one above it; an event can request the resources of its festival and of the festivals above it",
                resource(r),
                festival(resource_festival)
            ),
            Rule::RequestForOtherResource { request, resource: r } => {
                format!("request {} is for {}, not this resource", short(request), resource(r))
            }
            Rule::AtCapacity { capacity, frame, request } => {
                // Said in the time zone of an event that holds one of them, if held here.
                let q = self.requests.get(request);
                let title = q.and_then(|q| self.events.get(&q.event)).map(|e| e.fields.title.clone());
                let tz = q.and_then(|q| self.festivals.get(&q.festival)).map(|f| f.fields.timezone.as_str());
                let when = match tz {
                    Some(tz) => frame.to_local(tz),
                    None => format!("{} UTC", frame.to_local("UTC")),
                };
                let by = title.map(|t| format!(", among them {t}")).unwrap_or_default();
                format!("all {capacity} are booked {when}{by}")
            }
            other => other.to_string(),
        }
    }

    /// The first rule of its own log that `op`, written next in `log` (`None`: a log not
    /// started yet), breaks: the object it changes must have been created in this log, and
    /// not be retired, cancelled or withdrawn already; a request lies within its event and
    /// is not one too many. The owner's decisions check here only that the resource is this
    /// log's; their effect is the allocation's ([`crate::Allocation::rule`]).
    pub(crate) fn rule_in_log(&self, log: Option<LogKey>, op: &Operation) -> Result<(), Rule> {
        let mine = |l: &LogKey| Some(*l) == log;
        let own_resource = |id: &Id| {
            self.resources
                .get(id)
                .filter(|r| mine(&r.log))
                .ok_or(Rule::NotInLog { kind: ObjectKind::Resource, id: *id })
        };
        let own_event = |id: &Id| {
            let e = self.events.get(id).filter(|e| mine(&e.log));
            let e = e.ok_or(Rule::NotInLog { kind: ObjectKind::Event, id: *id })?;
            if e.cancelled { Err(Rule::EventCancelled { event: *id }) } else { Ok(e) }
        };
        match op {
            Operation::FestivalCreate { .. }
            | Operation::ProfileSet { .. }
            | Operation::ResourceCreate(_)
            | Operation::EventCreate(_)
            | Operation::CollectiveSet { .. }
            | Operation::Vote { .. } => Ok(()),
            Operation::FestivalUpdate { festival, .. } => match self.festivals.get(festival) {
                Some(f) if mine(&f.log) => Ok(()),
                _ => Err(Rule::NotInLog { kind: ObjectKind::Festival, id: *festival }),
            },
            Operation::ResourceUpdate { resource, .. } => own_resource(resource).map(drop),
            Operation::ResourceRetire { resource } => {
                if own_resource(resource)?.retired {
                    Err(Rule::AlreadyRetired)
                } else {
                    Ok(())
                }
            }
            Operation::EventUpdate { event, .. } | Operation::EventCancel { event } => own_event(event).map(drop),
            Operation::RequestCreate { event, frame, resource, replaces, .. } => {
                request_rule(*event, own_event(event)?, frame)?;
                match replaces {
                    Some(old) => self.replaceable(log, *old, *event, *resource),
                    None => Ok(()),
                }
            }
            Operation::RequestWithdraw { request, .. } => {
                let q = self.requests.get(request).filter(|q| mine(&q.log));
                let q = q.ok_or(Rule::NotInLog { kind: ObjectKind::Request, id: *request })?;
                if q.withdrawn { Err(Rule::AlreadyWithdrawn { request: *request }) } else { Ok(()) }
            }
            Operation::Confirm { resource, .. }
            | Operation::Deny { resource, .. }
            | Operation::Release { resource, .. } => self
                .resources
                .get(resource)
                .filter(|r| mine(&r.log))
                .map(drop)
                .ok_or(Rule::NotOwner { resource: *resource }),
        }
    }

    /// `author`'s log of `festival`, if it has one here.
    fn log_of(&self, author: &Key, festival: &Id) -> Option<LogKey> {
        self.logs_of(author).into_iter().find(|(_, f)| f == &Some(*festival)).map(|(l, _)| (*author, l))
    }

    /// Whether `op`, signed next by `author` into its log of `festival`, would take effect:
    /// the field rules, the rules of its log, and for the owner's decisions the allocation's
    /// rules, exactly as the fold will apply them. Beyond the fold's rules it also refuses
    /// what would take effect but cannot serve its author: a request of a resource not known
    /// here, retired, or outside the festival's tree (it could never be confirmed), and a
    /// confirm or deny of a request that was withdrawn (its slot is released at once).
    pub fn check_op(&self, author: &Key, festival: &Id, op: &Operation) -> Result<(), Rule> {
        self.check_ops(author, festival, std::slice::from_ref(op)).map_err(|(_, rule)| rule)
    }

    /// As [`State::check_op`] for operations signed one after the other into the same log,
    /// where each later decision about a resource sees the allocation the earlier ones
    /// leave (a moved request's release, then its replacement's confirm). Other operations
    /// are checked against the plan as it is. On failure: the index and the rule.
    pub fn check_ops(&self, author: &Key, festival: &Id, ops: &[Operation]) -> Result<(), (usize, Rule)> {
        let log = self.log_of(author, festival);
        let mut changed: HashMap<Id, Allocation> = HashMap::new();
        for (i, op) in ops.iter().enumerate() {
            let log = if matches!(op, Operation::FestivalCreate { .. }) { None } else { log };
            self.check_one(log, festival, op, &mut changed, i + 1 < ops.len()).map_err(|rule| (i, rule))?;
        }
        Ok(())
    }

    fn check_one(
        &self,
        log: Option<LogKey>,
        festival: &Id,
        op: &Operation,
        changed: &mut HashMap<Id, Allocation>,
        more: bool,
    ) -> Result<(), Rule> {
        check_fields(op).map_err(Rule::Field)?;
        self.rule_in_log(log, op)?;
        let withdrawn = |request: &Id| {
            self.requests
                .get(request)
                .is_some_and(|q| q.withdrawn || self.events.get(&q.event).is_some_and(|e| e.cancelled))
        };
        let none = Id(bamboo::Hash([0; 64]));
        let (resource, alloc_op) = match op {
            Operation::RequestCreate { resource, .. } => return self.requestable(festival, resource),
            Operation::Confirm { request, resource, frame } => {
                (resource, AllocOp::Confirm { op: none, request: *request, frame: *frame })
            }
            Operation::Deny { request, resource, reason } => {
                (resource, AllocOp::Deny { op: none, request: *request, reason: reason.clone() })
            }
            Operation::Release { request, resource } => (resource, AllocOp::Release { op: none, request: *request }),
            _ => return Ok(()),
        };
        let r = self.resources.get(resource).ok_or(Rule::NotOwner { resource: *resource })?;
        let alloc = changed.get(resource).unwrap_or(&r.alloc);
        let request = alloc_op.request().expect("decisions name a request");
        let check = self.check_request(request, *resource);
        // The fold's rules first, then what would be useless.
        alloc.rule(&alloc_op, Some(&check))?;
        match &alloc_op {
            AllocOp::Confirm { .. } if withdrawn(&request) => return Err(Rule::AlreadyWithdrawn { request }),
            AllocOp::Deny { .. } if withdrawn(&request) && !alloc.is_active(&request) => {
                return Err(Rule::AlreadyWithdrawn { request });
            }
            _ => {}
        }
        if more {
            let mut next = alloc.clone();
            next.apply(&alloc_op, Some(&check));
            changed.insert(*resource, next);
        }
        Ok(())
    }

    /// Whether the owner could confirm request `q` now: its resource's availability and
    /// active slots, not counting the slot of the request it replaces (which the owner
    /// releases in the same breath, [`State::decision_ops`]).
    pub fn confirmable(&self, q: &Request) -> Result<(), Rule> {
        let r = self.resources.get(&q.resource).ok_or(Rule::ResourceUnknown { resource: q.resource })?;
        r.alloc.can_confirm_except(&q.frame, self.held_replaced(q))
    }

    /// The request `q` replaces, if its slot is still held.
    fn held_replaced(&self, q: &Request) -> Option<Id> {
        let old = q.replaces?;
        self.resources.get(&q.resource).filter(|r| r.alloc.is_active(&old)).map(|_| old)
    }

    /// The pending requests that confirming `q` would turn away: confirmable now, but not
    /// once `q` holds its slot (with a capacity of one: those overlapping it).
    pub fn turned_away_by(&self, q: &Request) -> Vec<&Request> {
        let Some(r) = self.resources.get(&q.resource) else { return Vec::new() };
        self.holds(&q.resource, &q.frame)
            .into_iter()
            .filter(|o| o.id != q.id && self.confirmable(o).is_ok() && !r.alloc.fit_together(&o.frame, &q.frame))
            .collect()
    }

    /// What changing `resource`'s availability to `to` and its capacity to `capacity` would
    /// mean for its requests, as the fold and the owner's node will take it: the pending
    /// requests that could no longer be confirmed (the owner's node denies them, saying
    /// why), and the confirmed ones that lie outside `to` (they stay booked until the owner
    /// releases them).
    pub fn availability_effects(
        &self,
        resource: &Id,
        to: &Availability,
        capacity: Capacity,
    ) -> (Vec<(&Request, Rule)>, Vec<&Request>) {
        let Some(r) = self.resources.get(resource) else { return (Vec::new(), Vec::new()) };
        let none = Id(bamboo::Hash([0; 64]));
        let mut alloc = r.alloc.clone();
        alloc.apply(&AllocOp::Availability { op: none, availability: to.clone(), capacity }, None);
        let mut turned_away = Vec::new();
        let mut outside = Vec::new();
        for q in self.requests_for(resource) {
            match self.request_status(&q.id) {
                Some(RequestStatus::Pending { waiting_for: None }) => {
                    if let Err(rule) = alloc.can_confirm_except(&q.frame, self.held_replaced(q)) {
                        turned_away.push((q, rule));
                    }
                }
                Some(RequestStatus::Confirmed) if !to.contains(&q.frame) => outside.push(q),
                _ => {}
            }
        }
        (turned_away, outside)
    }

    /// The owner's operations that confirm (`deny: None`) or deny request `q`: a request
    /// that replaces one whose slot is still held also releases that slot, before a confirm
    /// (the new frame may overlap the old) and after a deny. Check them with
    /// [`State::check_ops`].
    pub fn decision_ops(&self, q: &Request, deny: Option<String>) -> Vec<Operation> {
        let (request, resource) = (q.id, q.resource);
        let release = self.held_replaced(q).map(|old| Operation::Release { request: old, resource });
        match deny {
            None => {
                release.into_iter().chain([Operation::Confirm { request, resource, frame: Some(q.frame) }]).collect()
            }
            Some(reason) => [Operation::Deny { request, resource, reason }].into_iter().chain(release).collect(),
        }
    }

    /// The rule a `replaces` of `old` breaks in `log`: it names a request of the same log,
    /// event and resource that is not withdrawn.
    fn replaceable(&self, log: Option<LogKey>, old: Id, event: Id, resource: Id) -> Result<(), Rule> {
        match self.requests.get(&old) {
            Some(q)
                if Some(q.log) == log
                    && q.event == event
                    && q.resource == resource
                    && q.invalid.is_none()
                    && !q.withdrawn =>
            {
                Ok(())
            }
            _ => Err(Rule::BadReplacement { request: old }),
        }
    }

    /// As [`State::check_op`] for a new event of `author` in `festival` with its requests
    /// (resource and frame each), written together: the event's rules, then each request's
    /// against the event as it will be. On failure, the index of the request (if one) and
    /// the rule.
    pub fn check_new_event(
        &self,
        author: &Key,
        festival: &Id,
        fields: &EventFields,
        requests: &[(Id, TimeFrame)],
    ) -> Result<(), (Option<usize>, Rule)> {
        self.check_op(author, festival, &Operation::EventCreate(fields.clone())).map_err(|rule| (None, rule))?;
        let mut event = Event {
            id: Id(bamboo::Hash([0; 64])),
            organiser: *author,
            festival: *festival,
            log: (*author, u64::MAX),
            seq: 0,
            fields: fields.clone(),
            cancelled: false,
            requests: Vec::new(),
            sequence: 0,
        };
        for (i, (resource, frame)) in requests.iter().enumerate() {
            request_rule(event.id, &event, frame)
                .and_then(|()| self.requestable(festival, resource))
                .map_err(|rule| (Some(i), rule))?;
            event.requests.push(Id(bamboo::Hash([0; 64])));
        }
        Ok(())
    }

    /// The requests of `event` that must move when its frame becomes `to`, each with the
    /// frame it moves to: every pending or confirmed request that no longer lies within the
    /// event. A request for the whole event asks for the whole new frame; a part of the
    /// event keeps its place relative to the start (cut to the new frame, or the whole new
    /// frame if nothing of it is left). The organiser's node then requests each anew,
    /// replacing the old one (`docs/protocol.md`, "Moving an event").
    pub fn moves(&self, event: &Id, to: &TimeFrame) -> Vec<(Id, TimeFrame)> {
        let Some(e) = self.events.get(event) else { return Vec::new() };
        let from = e.fields.frame;
        let shift = to.start().0 - from.start().0;
        e.requests
            .iter()
            .filter_map(|id| self.requests.get(id))
            .filter(|q| !q.withdrawn && !to.contains(&q.frame))
            .filter(|q| {
                matches!(self.request_status(&q.id), Some(RequestStatus::Pending { .. } | RequestStatus::Confirmed))
            })
            .map(|q| {
                let shifted = TimeFrame::new(Timestamp(q.frame.start().0 + shift), Timestamp(q.frame.end().0 + shift));
                let cut = shifted.and_then(|f| TimeFrame::new(f.start().max(to.start()), f.end().min(to.end())));
                let frame = if q.frame == from { *to } else { cut.unwrap_or(*to) };
                (q.id, frame)
            })
            .collect()
    }

    /// As [`State::check_op`] for an update of `event` signed together with the requests
    /// that move with it (the request each replaces, and its new frame): the update's rules,
    /// then each new request's against the event as it will be. On failure, the index of
    /// the move (if one) and the rule.
    pub fn check_event_update(
        &self,
        author: &Key,
        festival: &Id,
        event: Id,
        fields: &EventFields,
        moves: &[(Id, TimeFrame)],
    ) -> Result<(), (Option<usize>, Rule)> {
        self.check_op(author, festival, &Operation::EventUpdate { event, fields: fields.clone() })
            .map_err(|rule| (None, rule))?;
        let log = self.log_of(author, festival);
        let mut e = self.events.get(&event).expect("the update's check found it").clone();
        e.fields = fields.clone();
        for (i, (old, frame)) in moves.iter().enumerate() {
            let resource =
                self.requests.get(old).map(|q| q.resource).ok_or((Some(i), Rule::RequestUnknown { request: *old }))?;
            request_rule(event, &e, frame)
                .and_then(|()| self.requestable(festival, &resource))
                .and_then(|()| self.replaceable(log, *old, event, resource))
                .map_err(|rule| (Some(i), rule))?;
            e.requests.push(Id(bamboo::Hash([0; 64])));
        }
        Ok(())
    }

    /// Whether an event of `festival` can usefully request `resource`: known here, not
    /// retired, and in the festival or one above it.
    fn requestable(&self, festival: &Id, resource: &Id) -> Result<(), Rule> {
        if self.resources.get(resource).is_some_and(|r| r.retired) {
            return Err(Rule::ResourceRetired);
        }
        self.check_ancestry(*festival, *resource).map_err(|(_, rule)| rule)
    }
}

/// The rules a `request/create` for `event` (`e`) breaks in the organiser's log: it lies
/// within the event, and the event has fewer than [`MAX_REQUESTS_PER_EVENT`] requests.
fn request_rule(event: Id, e: &Event, frame: &TimeFrame) -> Result<(), Rule> {
    if !e.fields.frame.contains(frame) {
        return Err(Rule::RequestOutsideEvent { event });
    }
    if e.requests.len() >= MAX_REQUESTS_PER_EVENT {
        return Err(Rule::TooManyRequests { event });
    }
    Ok(())
}
